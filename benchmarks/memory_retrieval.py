"""How well the memory store finds what answers a question, judged on conversations its
weights were not chosen on; and how fast it is at scale.

LoCoMo development split (../shared/data/locomo, CC BY-NC 4.0; Maharana et al., ACL 2024):
five conversations; every turn becomes an entry, every question (category 5 left out) is
asked, and recall@k is the share of the question's evidence turns among the top k. Plain BM25
(SQLite FTS5 over the same turns, the question's words OR-ed) is computed in the same run.

The evaluation is leave-one-conversation-out: the search's settings (`Tuning`, and how turns
become entries) are chosen on four conversations by coordinate ascent on recall@10, and
measured on the fifth; each conversation is left out once. The held-out figures (each
question is scored once, by settings chosen without its conversation) stand next to the
in-sample ones (settings chosen and measured on all five). A setting is kept in the store's
defaults only if the held-out folds gain from it: each fold's choice is measured again with
that setting turned off. A setting left off by default for its cost (`OPT_IN`) is measured on
each held-out conversation on top of the fold's choice, and timed at scale.

Then the embedder's throughput, and insert throughput and query latency at 100,000 entries.
Embeddings of turns and questions are cached on disk (benchmarks/results/embeddings, by model
and text hash): a rerun embeds nothing again. Prints tables and writes
benchmarks/results/memory_retrieval.json.

    .venv/bin/python benchmarks/memory_retrieval.py [--data PATH] [--no-scale]
"""

from __future__ import annotations

import argparse
import atexit
import dataclasses
import hashlib
import json
import os
import random
import re
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from opensage.memory.base import PLAIN_STOP_WORDS, STOP_WORDS, Tuning
from opensage.memory.embed import Embedder, MiniLM, available
from opensage.memory.store import SqliteMemoryStore

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "locomo" / "locomo_dev.json"
RESULTS = Path(__file__).parent / "results"
KS = (1, 5, 10, 20)
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
SESSION = re.compile(r"session_(\d+)")


# --- the data ----------------------------------------------------------------------------------


@dataclasses.dataclass
class Conversation:
    name: str
    sessions: list[tuple[str, float, list[dict[str, str]]]]  # date text, epoch, turns
    questions: list[dict[str, Any]]

    @property
    def last(self) -> float:
        return self.sessions[-1][1]


def load(path: Path) -> list[Conversation]:
    out = []
    for n, raw in enumerate(json.loads(path.read_text())):
        conv = raw["conversation"]
        sessions = []
        for key in sorted(
            (k for k in conv if SESSION.fullmatch(k)), key=lambda k: int(k.split("_")[1])
        ):
            date = conv.get(f"{key}_date_time", "")
            when = datetime.strptime(date, "%I:%M %p on %d %B, %Y").replace(tzinfo=UTC)
            turns = []
            for turn in conv[key]:
                text = f"{turn['speaker']}: {turn['text']}"
                if turn.get("blip_caption"):
                    text += f" [shared an image: {turn['blip_caption']}]"
                turns.append({"id": turn["dia_id"], "text": text})
            sessions.append((date, when.timestamp(), turns))
        questions = [q for q in raw["qa"] if q.get("category") in CATEGORIES and q["evidence"]]
        out.append(Conversation(f"conv-{n + 1}", sessions, questions))
    return out


def dated(date: str, text: str) -> str:
    return f"({date}) {text}"


# How turns become entries: the first is the store's entries before this evaluation (the date
# written into the text, the turn before as context, created at import); the others give the
# neighbouring turns of the session as context and the session's date as the creation time,
# the date in the text or in the context.
REPRESENTATIONS = (
    "date in text, turn before",
    "date in text, neighbours",
    "date in context, neighbours",
)


def entries_of(conv: Conversation, representation: str) -> list[list[dict[str, Any]]]:
    """The conversation's entries, one list per session (add_many's neighbours stay inside a
    session), in the given representation."""
    if representation == REPRESENTATIONS[0]:
        flat = [dated(date, t["text"]) for date, _, turns in conv.sessions for t in turns]
        return [
            [
                {"text": text, "context": flat[i - 1] if i else "", "kind": "turn"}
                for i, text in enumerate(flat)
            ]
        ]
    in_text = representation == REPRESENTATIONS[1]
    return [
        [
            {
                "text": dated(date, t["text"]) if in_text else t["text"],
                "context": "" if in_text else date,
                "created": when,
                "kind": "turn",
            }
            for t in turns
        ]
        for date, when, turns in conv.sessions
    ]


# --- embeddings, cached on disk ------------------------------------------------------------------


class DiskCached:
    """An embedder whose vectors are kept on disk by model and text hash: a rerun (and every
    setting tried) embeds each text once. The embedder's own speed is measured apart."""

    def __init__(self, inner: Embedder, folder: Path):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.path = folder / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', inner.name)}.npz"
        self.memo: dict[str, np.ndarray] = {}
        if self.path.exists():
            saved = np.load(self.path)
            self.memo = dict(zip(saved["keys"].tolist(), saved["vectors"], strict=True))
        self.new = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.sha256(t.encode()).hexdigest()[:24] for t in texts]
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in self.memo}
        if missing:
            vectors = self.inner.embed(list(missing.values()))
            self.memo.update(zip(missing, vectors, strict=True))
            self.new += len(missing)
        return (
            np.stack([self.memo[k] for k in keys]) if keys else np.zeros((0, self.dim), np.float32)
        )

    def save(self) -> None:
        if not self.new:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = list(self.memo)
        part = self.path.with_suffix(".part.npz")
        np.savez(part, keys=np.array(keys), vectors=np.stack([self.memo[k] for k in keys]))
        part.replace(self.path)
        self.new = 0


# --- searching ---------------------------------------------------------------------------------


class PlainBM25:
    """The baseline: FTS5 with its default tokenizer over each turn's text with its date, the
    question's words OR-ed."""

    def __init__(self, conv: Conversation):
        self.db = sqlite3.connect(":memory:")
        self.db.execute("CREATE VIRTUAL TABLE t USING fts5(dia, text)")
        self.db.executemany(
            "INSERT INTO t VALUES (?, ?)",
            [(t["id"], dated(date, t["text"])) for date, _, turns in conv.sessions for t in turns],
        )

    def search(self, question: str, k: int) -> list[str]:
        words = re.findall(r"\w+", question.lower())
        query = " OR ".join(f'"{w}"' for w in words)
        rows = self.db.execute(
            "SELECT dia FROM t WHERE t MATCH ? ORDER BY bm25(t) LIMIT ?", (query, k)
        ).fetchall()
        return [r[0] for r in rows]


# A setting: how turns become entries, the store's weights, and its stop words.
Setting = tuple[tuple[str, Any], ...]
KNOBS: dict[str, list[Any]] = {
    "representation": list(REPRESENTATIONS),
    "context_weight": [0.3, 0.6, 1.0],
    "vector_weight": [0.0, 0.25, 0.5, 1.0],
    "recency_share": [0.0, 0.2],
    "date_share": [0.0, 0.5, 1.0, 2.0],
    "date_slack_days": [0.0, 7.0, 30.0],
    "keep_top": [False, True],
    "stop_words": ["tuned", "plain"],
}
# Settings the store leaves off by default for their cost, measured on each held-out
# conversation on top of the fold's choice: the second round is a second keyword search.
OPT_IN: dict[str, Any] = {"second_round": 0.25}
# The store as it was before this evaluation.
BEFORE: dict[str, Any] = {
    "representation": REPRESENTATIONS[0],
    "context_weight": 0.3,
    "vector_weight": 0.25,
    "recency_share": 0.2,
    "date_share": 0.0,
    "date_slack_days": 7.0,
    "keep_top": False,
    "second_round": 0.0,
    "stop_words": "tuned",
}
# What turning a setting off means, for measuring what it brings.
OFF: dict[str, Any] = {
    "representation": REPRESENTATIONS[0],
    "context_weight": 0.3,
    "vector_weight": 0.0,
    "recency_share": 0.0,
    "date_share": 0.0,
    "keep_top": False,
    "stop_words": "plain",
}


def setting(values: dict[str, Any]) -> Setting:
    return tuple(sorted(values.items()))


def tuning_of(values: dict[str, Any]) -> Tuning:
    fields = {k: v for k, v in values.items() if k not in ("representation", "stop_words")}
    words = STOP_WORDS if values["stop_words"] == "tuned" else PLAIN_STOP_WORDS
    return Tuning(**fields, stop_words=words)


Scores = list[tuple[str, dict[int, float]]]  # per question: its category, recall@k


class Evaluator:
    """Scores settings on conversations, each (setting, conversation) once."""

    def __init__(self, conversations: list[Conversation], embedder: Embedder | None):
        self.conversations = {c.name: c for c in conversations}
        self.embedder = embedder
        self.stores: dict[tuple[str, str], tuple[SqliteMemoryStore, dict[int, str]]] = {}
        self.done: dict[tuple[Setting, str], Scores] = {}
        self.folder = scratch()

    def store(self, conv: str, representation: str) -> tuple[SqliteMemoryStore, dict[int, str]]:
        if (conv, representation) not in self.stores:
            store = SqliteMemoryStore(self.folder / f"{conv}-{len(self.stores)}.db", self.embedder)
            c = self.conversations[conv]
            ids: dict[int, str] = {}
            turn_ids = [[t["id"] for t in turns] for _, _, turns in c.sessions]
            groups = entries_of(c, representation)
            if len(groups) == 1:
                turn_ids = [[i for ids_ in turn_ids for i in ids_]]
            for group, names in zip(groups, turn_ids, strict=True):
                made = store.add_many(group, neighbours=0 if len(groups) == 1 else 1)
                ids.update(zip(made, names, strict=True))
            self.stores[conv, representation] = store, ids
            if isinstance(self.embedder, DiskCached):
                self.embedder.save()
        return self.stores[conv, representation]

    def scores(self, values: dict[str, Any], conv: str) -> Scores:
        key = (setting(values), conv)
        if key not in self.done:
            if values["vector_weight"] and self.embedder is None:
                raise ValueError("vectors asked for without an embedder")
            store, ids = self.store(conv, values["representation"])
            store.tuning = tuning_of(values)
            c = self.conversations[conv]
            self.done[key] = score(
                c, lambda q, k: [ids[h.id] for h in store.search(q, k=k, now=c.last)]
            )
        return self.done[key]

    def recall10(self, values: dict[str, Any], convs: list[str], k: int = 10) -> float:
        return statistics.mean(r[k] for c in convs for _, r in self.scores(values, c))


def scratch() -> Path:
    """A new folder for stores, in memory where the system has one: a search counts its hits'
    accesses, a write that would otherwise wait for the disk at every question."""
    shm = Path("/dev/shm")
    folder = Path(tempfile.mkdtemp(dir=shm if shm.is_dir() else None))
    atexit.register(shutil.rmtree, folder, True)  # memory, not disk: given back at the end
    return folder


def score(conv: Conversation, search: Callable[[str, int], list[str]]) -> Scores:
    out = []
    for q in conv.questions:
        found = search(q["question"], max(KS))
        evidence = set(q["evidence"])
        out.append(
            (
                CATEGORIES[q["category"]],
                {k: len(evidence & set(found[:k])) / len(evidence) for k in KS},
            )
        )
    return out


def summary(scores: Scores) -> dict[str, dict[str, float]]:
    """Mean recall@k per category and over all questions, with the question count."""
    by: dict[str, list[dict[int, float]]] = defaultdict(list)
    for category, recall in scores:
        by["all"].append(recall)
        by[category].append(recall)
    return {
        cat: {**{f"R@{k}": statistics.mean(r[k] for r in rs) for k in KS}, "n": len(rs)}
        for cat, rs in by.items()
    }


def choose(
    evaluator: Evaluator,
    convs: list[str],
    start: dict[str, Any],
    knobs: dict[str, list[Any]],
    passes: int = 3,
) -> dict[str, Any]:
    """Coordinate ascent on mean recall@10 over `convs`: each knob in turn takes its best
    value (the current one unless another is strictly better), until a pass changes none."""
    current = dict(start)
    best = evaluator.recall10(current, convs)
    for _ in range(passes):
        changed = False
        for knob, values in knobs.items():
            for value in values:
                if value == current[knob] or (
                    knob == "date_slack_days" and not current["date_share"]
                ):
                    continue
                trial = {**current, knob: value}
                found = evaluator.recall10(trial, convs)
                if found > best + 1e-9:
                    current, best, changed = trial, found, True
        if not changed:
            break
    return current


def evaluate(conversations: list[Conversation], embedder: Embedder | None) -> dict[str, Any]:
    evaluator = Evaluator(conversations, embedder)
    names = [c.name for c in conversations]
    knobs = dict(KNOBS)
    if embedder is None:
        knobs["vector_weight"] = [0.0]
    start = {**BEFORE, "vector_weight": BEFORE["vector_weight"] if embedder else 0.0}
    bm25 = {c.name: score(c, PlainBM25(c).search) for c in conversations}
    before = {n: evaluator.scores(start, n) for n in names}
    folds = []
    for held in names:
        train = [n for n in names if n != held]
        started = time.perf_counter()
        chosen = choose(evaluator, train, start, knobs)
        held_scores = evaluator.scores(chosen, held)
        # What each chosen setting brings on the held-out conversation: the same choice with
        # that one setting turned off.
        without = {}
        for knob, off in OFF.items():
            if chosen[knob] != off:
                without[knob] = {
                    k: evaluator.recall10({**chosen, knob: off}, [held], k) for k in (1, 10)
                }
        opt_in = {k: evaluator.recall10({**chosen, **OPT_IN}, [held], k) for k in (1, 10)}
        folds.append(
            {
                "held_out": held,
                "chosen": chosen,
                "scores": held_scores,
                "opt_in": opt_in,
                "train_recall10": evaluator.recall10(chosen, train),
                "without": without,
                "seconds": time.perf_counter() - started,
            }
        )
        print(
            f"  fold {held}: chose {describe(chosen)}; held-out R@10 "
            f"{summary(held_scores)['all']['R@10']:.3f} (BM25 "
            f"{summary(bm25[held])['all']['R@10']:.3f}), "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
    in_sample = choose(evaluator, names, start, knobs)
    return {
        "evaluator": evaluator,
        "bm25": bm25,
        "before": before,
        "folds": folds,
        "in_sample": in_sample,
        "names": names,
    }


def describe(values: dict[str, Any]) -> str:
    changed = [f"{k}={v}" for k, v in values.items() if BEFORE.get(k) != v]
    return ", ".join(changed) or "the settings before"


# --- the report --------------------------------------------------------------------------------


def report(found: dict[str, Any], label: str) -> dict[str, Any]:
    evaluator: Evaluator = found["evaluator"]
    names, folds = found["names"], found["folds"]
    pooled = lambda per: [s for n in names for s in per[n]]  # noqa: E731
    held_out = [s for f in folds for s in f["scores"]]
    in_sample = {n: evaluator.scores(found["in_sample"], n) for n in names}
    rows = {
        "plain BM25": summary(pooled(found["bm25"])),
        "store before (its settings)": summary(pooled(found["before"])),
        "in-sample (chosen on all 5)": summary(pooled(in_sample)),
        "held-out (chosen on the 4 others)": summary(held_out),
    }
    print(f"\nrecall of the evidence turns, {label}; every figure from this run\n")
    print(f"{'':<34} {'questions':<12} {'n':>4}  " + "  ".join(f"{'R@' + str(k):>5}" for k in KS))
    for cat in ["all", *CATEGORIES.values()]:
        for name, table in rows.items():
            cells = "  ".join(f"{table[cat][f'R@{k}']:>5.3f}" for k in KS)
            print(f"{name:<34} {cat:<12} {table[cat]['n']:>4}  {cells}")
        print()
    per_fold = [
        (
            summary(f["scores"])["all"]["R@10"],
            summary(found["bm25"][f["held_out"]])["all"]["R@10"],
            summary(found["before"][f["held_out"]])["all"]["R@10"],
        )
        for f in folds
    ]
    gains = [ours - bm for ours, bm, _ in per_fold]
    print("held-out folds, recall@10 (ours / BM25 / the store before):")
    for f, (ours, bm, old) in zip(folds, per_fold, strict=True):
        print(
            f"  {f['held_out']}: {ours:.3f} / {bm:.3f} / {old:.3f}  "
            f"({(ours - bm) * 100:+.1f} points over BM25)"
        )
    mean_of = lambda xs: statistics.mean(xs)  # noqa: E731
    sd_of = lambda xs: statistics.stdev(xs) if len(xs) > 1 else 0.0  # noqa: E731
    held = [o for o, _, _ in per_fold]
    print(
        f"  mean {mean_of(held):.3f} ± {sd_of(held):.3f} (sd over folds); gain over BM25 "
        f"{mean_of(gains) * 100:+.1f} ± {sd_of(gains) * 100:.1f} points (target +10)"
    )
    print(
        f"  in-sample: {rows['in-sample (chosen on all 5)']['all']['R@10']:.3f}, chosen: "
        f"{describe(found['in_sample'])}"
    )
    print(
        "\nwhat each chosen setting brings on the held-out conversation (the fold's choice "
        "against the same with that setting turned off; folds that chose it):"
    )
    contributions: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for f in folds:
        held_summary = summary(f["scores"])["all"]
        for knob, without in f["without"].items():
            contributions[knob].append(
                (held_summary["R@10"] - without[10], held_summary["R@1"] - without[1])
            )
    for knob, deltas in contributions.items():
        at10, at1 = [d[0] for d in deltas], [d[1] for d in deltas]
        print(
            f"  {knob:<16} chosen in {len(deltas)}/5 folds: R@10 {mean_of(at10) * 100:+.1f} "
            f"points (from {min(at10) * 100:+.1f} to {max(at10) * 100:+.1f}), R@1 "
            f"{mean_of(at1) * 100:+.1f} (from {min(at1) * 100:+.1f} to {max(at1) * 100:+.1f})"
        )
    opt_in = [
        (
            f["opt_in"][10] - summary(f["scores"])["all"]["R@10"],
            f["opt_in"][1] - summary(f["scores"])["all"]["R@1"],
        )
        for f in folds
    ]
    print(
        f"  opt-in {describe(OPT_IN)} on top of each fold's choice: R@10 "
        f"{mean_of([d[0] for d in opt_in]) * 100:+.1f} points (from "
        f"{min(d[0] for d in opt_in) * 100:+.1f} to {max(d[0] for d in opt_in) * 100:+.1f}), "
        f"R@1 {mean_of([d[1] for d in opt_in]) * 100:+.1f}"
    )
    return {
        "tables": rows,
        "folds": [
            {
                "held_out": f["held_out"],
                "chosen": f["chosen"],
                "recall10": o,
                "bm25": b,
                "before": old,
                "train_recall10": f["train_recall10"],
                "without": f["without"],
                "opt_in": f["opt_in"],
            }
            for f, (o, b, old) in zip(folds, per_fold, strict=True)
        ],
        "held_out_mean": mean_of(held),
        "held_out_sd": sd_of(held),
        "gain_mean": mean_of(gains),
        "gain_sd": sd_of(gains),
        "in_sample_chosen": found["in_sample"],
        "contributions": {
            k: {
                "R@10": mean_of([d[0] for d in v]),
                "R@1": mean_of([d[1] for d in v]),
                "folds": len(v),
            }
            for k, v in contributions.items()
        },
        "opt_in": {
            "settings": OPT_IN,
            "R@10": mean_of([d[0] for d in opt_in]),
            "R@1": mean_of([d[1] for d in opt_in]),
        },
    }


# --- speed ---------------------------------------------------------------------------------------


def speed(embedder: Embedder, texts: list[str]) -> dict[str, float]:
    """Texts per second in batches (wall and per CPU-second, the machine being shared), and
    the median time to embed one short query."""
    embedder.embed(texts[:8])
    started, cpu = time.perf_counter(), time.process_time()
    embedder.embed(texts)
    wall, used = time.perf_counter() - started, time.process_time() - cpu
    times = []
    for text in texts[:100]:
        started = time.perf_counter()
        embedder.embed([text[:80]])
        times.append((time.perf_counter() - started) * 1000)
    return {
        "texts": len(texts),
        "texts_per_s": len(texts) / wall,
        "texts_per_cpu_s": len(texts) / used,
        "one_query_ms": statistics.median(times),
    }


class ByTurn:
    """Vectors of the entries `TURN #i` made by `scale` are those of TURN."""

    def __init__(self, inner: Embedder):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim

    def embed(self, texts):  # type: ignore[no-untyped-def]
        return self.inner.embed([t.rsplit(" #", 1)[0] for t in texts])


def scale(
    conversations: list[Conversation],
    tuning: Tuning,
    embedder: DiskCached | None,
    query_embedder: Embedder | None,
    total: int = 100_000,
) -> dict[str, float]:
    """Insert and query times with `total` entries, each a turn with a number added. With an
    embedder, an entry's vector is its turn's (from the cache: the embedder's own speed is
    measured apart); queries are timed with their vectors from the cache, then embedded by
    `query_embedder` as a search does."""
    turns = [dated(d, t["text"]) for c in conversations for d, _, ts in c.sessions for t in ts]
    questions = [q["question"] for c in conversations for q in c.questions]
    rng = random.Random(7)
    inner = ByTurn(embedder) if embedder else None
    store = SqliteMemoryStore(scratch() / "memory.db", inner)
    store.tuning = tuning
    entries = [{"text": f"{rng.choice(turns)} #{i}", "kind": "turn"} for i in range(total)]
    asked = rng.sample(questions, 300)
    if embedder:
        embedder.embed(turns + asked)
    started = time.perf_counter()
    for i in range(0, total, 1000):  # as an importer would: batches of 1,000
        store.add_many(entries[i : i + 1000])
    insert_s = time.perf_counter() - started
    out = {"entries": total, "insert_per_s": total / insert_s}
    # First with the questions' vectors from the cache (the store's own cost), then with the
    # query embedded as a search does it (beside the keyword search, in a thread).
    # The opt-in settings are timed too, each query asked of both in turn (the machine's load
    # falls on both alike).
    tunings = {"": tuning, "opt_in_": dataclasses.replace(tuning, **OPT_IN)}
    for name, use in (("", embedder), ("embedded_", query_embedder)):
        if name and not embedder:
            break
        store.embedder = use
        store.search(asked[0])  # the first search by meaning reads the vectors into memory
        times: dict[str, list[float]] = {t: [] for t in tunings}
        for q in asked:
            for variant, settings in tunings.items():
                store.tuning = settings
                started = time.perf_counter()
                store.search(q, k=10)
                times[variant].append((time.perf_counter() - started) * 1000)
        for variant, found in times.items():
            found.sort()
            out |= {
                f"{variant}{name}query_p50_ms": statistics.median(found),
                f"{variant}{name}query_p95_ms": found[int(len(found) * 0.95)],
            }
        out["load_average"] = os.getloadavg()[0]
    store.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--no-scale", action="store_true", help="recall only")
    parser.add_argument(
        "--no-recall",
        action="store_true",
        help="speed and scale only, with the store's default settings",
    )
    args = parser.parse_args()
    conversations = load(args.data)
    started = time.perf_counter()
    saved = RESULTS / "memory_retrieval.json"
    out: dict[str, Any] = json.loads(saved.read_text()) if saved.exists() else {}
    cached = DiskCached(MiniLM(), RESULTS / "embeddings") if available() else None
    runs = (
        [("with vectors (MiniLM)", cached), ("keywords only", None)]
        if cached
        else [("keywords only (no embedder installed)", None)]
    )
    if not args.no_recall:
        for label, embedder in runs:
            print(f"choosing and measuring, {label}:", flush=True)
            found = evaluate(conversations, embedder)
            out[label] = report(found, label)
            if cached:
                cached.save()
        out["recall_seconds"] = time.perf_counter() - started
    if not args.no_scale:
        texts = [t["text"] for c in conversations for _, _, ts in c.sessions for t in ts]
        if cached:
            found = speed(cached.inner, texts[:1000])
            out["embedder_speed"] = found
            print(
                f"\n{cached.name}: {found['texts_per_s']:.0f} texts/s in batches "
                f"({found['texts_per_cpu_s']:.0f} per CPU-second), one query "
                f"{found['one_query_ms']:.1f} ms; 100,000 entries: "
                f"{100_000 / found['texts_per_s'] / 60:.1f} min to embed here, "
                f"{100_000 / found['texts_per_cpu_s'] / 2 / 60:.1f} min on two idle cores"
            )
        out["scale"] = {"keywords only": scale(conversations, Tuning(), None, None)}
        if cached:
            out["scale"]["with vectors"] = scale(conversations, Tuning(), cached, cached.inner)
            cached.save()
        for name, found in out["scale"].items():
            print(
                f"{found['entries']:,} entries, {name}: insert {found['insert_per_s']:,.0f}/s "
                f"in batches of 1,000 (vectors from the cache); query p50 "
                f"{found['query_p50_ms']:.1f} ms, p95 {found['query_p95_ms']:.1f} ms "
                "(target p50 < 20 ms)"
            )
            print(
                f"  with {describe(OPT_IN)}: p50 {found['opt_in_query_p50_ms']:.1f} ms, p95 "
                f"{found['opt_in_query_p95_ms']:.1f} ms; load average {found['load_average']:.1f} "
                "(other work on the machine)"
            )
            if "embedded_query_p50_ms" in found:
                print(
                    f"  the query embedded too: p50 {found['embedded_query_p50_ms']:.1f} ms, "
                    f"p95 {found['embedded_query_p95_ms']:.1f} ms"
                )
    RESULTS.mkdir(exist_ok=True)
    saved.write_text(json.dumps(out, indent=2, default=str))
    print(f"\n{time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
