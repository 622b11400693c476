"""How well the memory store finds what answers a question, and how fast it is at scale.

LoCoMo development split (../shared/data/locomo, CC BY-NC 4.0; Maharana et al., ACL 2024):
every turn of a conversation becomes an entry; every question (category 5 left out) is asked;
recall@k is the share of the question's evidence turns among the top k. Next to it, in the same
run, a plain BM25 baseline: SQLite FTS5 over the same turns, the question's words OR-ed. Then
insert throughput and query latency p50/p95 with 100,000 entries. Prints tables and writes
benchmarks/results/memory_retrieval.json.

    .venv/bin/python benchmarks/memory_retrieval.py [--data PATH]
"""

from __future__ import annotations

import argparse
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

from opensage.memory.store import MemoryStore

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


def store_search(store: MemoryStore, ids: dict[int, str]):  # type: ignore[no-untyped-def]
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


def with_store(turns: list[dict[str, str]]):  # type: ignore[no-untyped-def]
    store = MemoryStore(Path(tempfile.mkdtemp()) / "memory.db")
    ids = dict(zip(store.add_many([{"text": t["text"], "context": t["context"], "kind": "turn"}
                                   for t in turns]),
                   (t["id"] for t in turns), strict=True))
    return store_search(store, ids)


def embedder_comparison(conversations: list[dict[str, Any]]) -> dict[str, float] | None:
    """Recall@10 of an embedder whose weights ship in its wheel (wordllama, if installed):
    alone, and fused (reciprocal rank) with the store's keyword ranking at two weights."""
    try:
        import numpy as np
        import wordllama
    except ImportError:
        return None
    # Offline: the wheel carries the weights and the tokenizer (found through cache_dir).
    model = wordllama.WordLlama.load(cache_dir=Path(wordllama.__file__).parent,
                                     disable_download=True)
    scores: dict[str, list[float]] = defaultdict(list)
    for conversation in conversations:
        turns = turns_of(conversation)
        store = MemoryStore(Path(tempfile.mkdtemp()) / "memory.db")
        ids = store.add_many([{"text": t["text"], "context": t["context"]} for t in turns])
        dia = dict(zip(ids, (t["id"] for t in turns), strict=True))
        vectors = model.embed([t["text"] for t in turns], norm=True)
        for q in questions_of(conversation):
            keyword = [h.id for h in store.search(q["question"], k=50)]
            similar = np.argsort(-(vectors @ model.embed([q["question"]], norm=True)[0]))[:50]
            semantic = [ids[i] for i in similar]
            runs = {"vector alone": semantic, "keyword alone": keyword}
            for weight in (1.0, 0.5):
                fused: dict[int, float] = defaultdict(float)
                for rank, i in enumerate(keyword):
                    fused[i] += 1 / (60 + rank)
                for rank, i in enumerate(semantic):
                    fused[i] += weight / (60 + rank)
                runs[f"fused, vector weight {weight}"] = sorted(fused, key=lambda i: -fused[i])
            evidence = set(q["evidence"])
            for name, found in runs.items():
                scores[name].append(len(evidence & {dia[i] for i in found[:10]}) / len(evidence))
    return {name: statistics.mean(v) for name, v in scores.items()}


def scale(conversations: list[dict[str, Any]], total: int = 100_000) -> dict[str, float]:
    turns = [t["text"] for c in conversations for t in turns_of(c)]
    questions = [q["question"] for c in conversations for q in questions_of(c)]
    rng = random.Random(7)
    store = MemoryStore(Path(tempfile.mkdtemp()) / "memory.db")
    entries = [{"text": f"{rng.choice(turns)} #{i}", "kind": "turn"} for i in range(total)]
    started = time.perf_counter()
    for i in range(0, total, 1000):  # as an importer would: batches of 1,000
        store.add_many(entries[i:i + 1000])
    insert_s = time.perf_counter() - started
    started = time.perf_counter()
    for text in entries[:500]:
        store.add(text["text"], kind="turn")
    single_s = (time.perf_counter() - started) / 500
    times = []
    for q in rng.sample(questions, 300):
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
    ours = recall(conversations, with_store)
    base = recall(conversations, lambda turns: PlainBM25(turns).search)
    print(f"{'questions':<12} | {'n':>4} | " + " | ".join(f"R@{k} ours / BM25" for k in KS))
    print("-" * 92)
    for cat in ["all", *CATEGORIES.values()]:
        cells = " | ".join(f"{ours[cat][k]:>6.3f} / {base[cat][k]:.3f}" for k in KS)
        print(f"{cat:<12} | {ours[cat]['n']:>4} | {cells}")
    gain = ours["all"][10] - base["all"][10]
    print(f"\nrecall@10: {ours['all'][10]:.3f} vs plain BM25 {base['all'][10]:.3f} "
          f"({gain * 100:+.1f} points; target +10)")
    compared = embedder_comparison(conversations)
    if compared:
        print("\nwith an embedder (wordllama), recall@10: " + ", ".join(
            f"{name} {value:.3f}" for name, value in compared.items()))
    at_scale = scale(conversations)
    print(f"\n{at_scale['entries']:,} entries: insert {at_scale['insert_per_s']:,.0f}/s in "
          f"batches, {at_scale['add_one_ms']:.2f} ms for one add; query p50 "
          f"{at_scale['query_p50_ms']:.1f} ms, p95 {at_scale['query_p95_ms']:.1f} ms "
          "(target p50 < 20 ms)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "memory_retrieval.json").write_text(json.dumps(
        {"ours": ours, "plain_bm25": base, "embedder": compared, "scale": at_scale}, indent=2,
        default=str))


if __name__ == "__main__":
    main()
