"""What every memory store shares: entries (`Hit`), the search algorithm, and the SQL that is
the same on every backend. A backend (`SqliteMemoryStore` in store.py, `PostgresMemoryStore` in
postgres.py) stores entries, links and vectors and ranks them for words and for a vector.
`MemoryStore`, the type users write against, opens the backend a location names: a path is a
SQLite file, a postgresql:// URL a PostgreSQL database (`open_store` is the same as a function).

Entries have a kind (fact, lesson, procedure, snippet, file summary...), text, metadata, a scope
(a project, or global), timestamps, provenance back to run events and an access count. A newer
entry supersedes an older one instead of deleting it, and typed links join related entries.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opensage.memory.embed import Embedder, embedder_for
from opensage.memory.temporal import when

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger("opensage.memory")
Similar = tuple["np.ndarray", list[tuple[int, float]] | None]  # a query's vector, its nearest

# Words that carry no topic. Dropping them from queries is the single largest gain for BM25
# on conversational memory (see benchmarks/memory_retrieval.py).
_PLAIN_WORDS = """
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its itself
just me more most my myself no nor not now of off on once only or other our ours ourselves out
over own same she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours yourself yourselves
"""
PLAIN_STOP_WORDS = frozenset(_PLAIN_WORDS.split())  # a word list reads best as words
# Added for questions about a conversation ("what kind of...", "did he ever...").
STOP_WORDS = PLAIN_STOP_WORDS | frozenset(
    ["kind", "kinds", "ever", "also", "get", "got", "one", "ones", "s", "t"]
)
WORD = re.compile(r"[\w']+", re.UNICODE)
# A capitalised word within a sentence (not its first): a name, most often.
NAME = re.compile(r"(?<![.!?:\"]\s)(?<!^)\b([A-Z][a-z]{2,})\b")
RRF_K = 60  # reciprocal-rank fusion's damping constant
# A query word found in more than this share of entries (and at least COMMON_MIN of them) is
# left out of the search when other words remain: its BM25 weight is near zero, but scoring
# every entry it matches is most of a query's cost in a large store.
COMMON_SHARE, COMMON_MIN = 0.1, 1000


@dataclass(frozen=True)
class Tuning:
    """The weights of a search's rankings (see `MemoryStore.search`), each a share of the
    keyword ranking's. The defaults were chosen by leave-one-conversation-out on the LoCoMo
    development split (benchmarks/memory_retrieval.py: chosen on four conversations, measured
    on the fifth); the figures below are what each brought on the conversation left out, in
    points of recall@10 (see the README)."""

    context_weight: float = 0.6  # BM25 weight of an entry's context against its text
    # Small embedders rank worse than keywords on their own, so their rank counts less
    # (+3.0 points held out).
    vector_weight: float = 0.25
    # Newer entries weigh more. Every fold dropped it; among equal scores the newer comes
    # first all the same.
    recency_share: float = 0.0
    link_share: float = 0.5  # the entries linked to the best keyword hits
    # The entries created within the span of time a query names ("in May 2023", "last
    # week"), up to `date_slack_days` after it (an entry tells of what happened before):
    # +0.1 points with vectors, +0.6 without.
    date_share: float = 0.5
    date_slack_days: float = 7.0
    # The best keyword hit, if its score is unshared, stays first (+0.0 to +0.2 points).
    keep_top: bool = True
    # A second round seeded by the first's `seeds` best entries: their names (capitalised
    # words) that the query does not have, searched as keywords, for questions over two
    # facts. Off by default: on top of each fold's other choices it brings +0.5 points with
    # vectors (-1.2 without) and costs 5 to 6 points of recall@1, and its keyword search a
    # fifth to a quarter of a query's time at 100,000 entries; 0.25 turns it on.
    second_round: float = 0.0
    seeds: int = 3
    # The plain list: the words added for conversations cost 0.7 points where chosen.
    stop_words: frozenset[str] = PLAIN_STOP_WORDS


class QueryError(Exception):
    """A read-only query failed: refused (it would write), wrong, or stopped for taking too
    long; the message is the database's."""


@dataclass
class Hit:
    id: int
    text: str
    score: float
    kind: str
    scope: str
    metadata: dict[str, Any] = field(default_factory=dict)
    superseded_by: int | None = None
    created: float = 0.0


def _passes(hit: Hit, kind: str | None, scopes: list[str] | None, include_superseded: bool) -> bool:
    """Whether `hit` fits a search's filters (what the backends' SQL checks for the others)."""
    return (
        (kind is None or hit.kind == kind)
        and (scopes is None or hit.scope in scopes)
        and (include_superseded or hit.superseded_by is None)
    )


def open_store(location: str | Path, embedder: Embedder | str | None = "auto") -> MemoryStore:
    """The memory store at `location`: a SQLite file at a path, PostgreSQL at a postgresql://
    URL. `embedder` finds entries by meaning too: an `Embedder`, or a `[memory] embedder` value
    ("auto", the default: the bundled one when the `vectors` extra is installed; "minilm";
    "none"); None for keywords only. Its model is loaded at the first text to embed, not here:
    opening, reading and searching an empty store stay fast."""
    return backend_for(location)(location, embedder)


def backend_for(location: str | Path) -> type[MemoryStore]:
    """The store class for a location (imported here: each backend imports this module)."""
    if str(location).startswith(("postgresql://", "postgres://")):
        from opensage.memory.postgres import PostgresMemoryStore

        return PostgresMemoryStore
    from opensage.memory.store import SqliteMemoryStore

    return SqliteMemoryStore


class MemoryStore:
    """A memory store, whichever its backend: `MemoryStore(location)` opens the one the
    location names, as `open_store` does (`MemoryStore.open` is the same function).

    What every backend shares is here: the search algorithm. A backend stores entries, links
    and vectors, ranks entries for a set of words (`_keyword`) and for a vector (`_nearest`),
    and counts matches of one word (`_count`)."""

    open = staticmethod(open_store)

    def __new__(cls, location: str | Path, embedder: Embedder | str | None = "auto") -> MemoryStore:
        return super().__new__(backend_for(location) if cls is MemoryStore else cls)

    def __init__(self, location: str | Path, embedder: Embedder | str | None = "auto") -> None:
        """`location` is opened by the backend, which keeps it in its own form; `embedder` is
        as for `open_store`."""
        self.embedder = embedder_for(embedder) if isinstance(embedder, str) else embedder
        self.tuning = Tuning()  # the search's weights
        self._embedding: ThreadPoolExecutor | None = None  # embeds queries while keywords rank
        self._df: dict[str, int] = {}  # bounded document counts of query words
        self._df_size = 0  # the store's size when they were counted
        self._vectors_seen = False  # see _has_vectors

    def search(
        self,
        query: str,
        k: int = 10,
        *,
        kind: str | None = None,
        scopes: list[str] | None = None,
        include_superseded: bool = False,
        now: float | None = None,
    ) -> list[Hit]:
        """The k entries that best match `query`: keyword ranking over the query's content
        words, fused (reciprocal rank) with the ranking by meaning (when the store has an
        embedder), recency, the entries of the time the query names (`now`, by default the
        present, resolves "last week"), and the linked neighbours of the best keyword hits;
        see `Tuning` for their weights."""
        tune = self.tuning
        words = [w for w in _words(query) if w not in tune.stop_words] or _words(query)
        if not words:
            return []
        span = when(query, time.time() if now is None else now) if tune.date_share else None
        want = max(k * 4, 50)
        vector = self._embed_soon(query, want * 4) if tune.vector_weight else None
        common = self._common(words)
        use = [w for w in words if w not in common] or words
        plain = all(w in tune.stop_words for w in use)
        # With a span, more keyword hits are read: those of the span are ranked among them.
        wide = self._keyword(
            use, want * 4 if span else want, kind, scopes, include_superseded, plain=plain
        )
        ranked = wide[:want]
        fusion = _Fusion()
        fusion.add(ranked, 1.0, ties=True)
        # Among what matched, newer entries weigh a little more: knowledge goes stale.
        fusion.add(sorted(ranked, key=lambda h: -h.created), tune.recency_share)
        # Entries alike in meaning, though they share no word with the query ("car" for
        # "vehicle"), get a smaller share: on their own, small embedders rank worse.
        similar: list[Hit] = []
        if vector is not None and (found := vector.result()) is not None:
            similar = self._nearest(found[0], want, kind, scopes, include_superseded, found[1])
            fusion.add(similar, tune.vector_weight)
        if span is not None:
            end = span.end + tune.date_slack_days * 86_400
            fusion.add(
                [h for h in wide if span.start <= h.created < end], tune.date_share, ties=True
            )
            fusion.add(
                [h for h in similar if span.start <= h.created < end],
                tune.date_share * tune.vector_weight,
            )
        # Entries linked to strong hits are likely relevant too (a fact and its correction, a
        # lesson and the procedure it came from): they get a smaller share of their rank.
        # A neighbour obeys the same filters as every hit: one project's memory never
        # surfaces in another's through a link.
        if tune.link_share:
            for rank, hit in enumerate(ranked[:k]):
                for _type, other in self.neighbours(hit.id):
                    if _passes(other, kind, scopes, include_superseded):
                        fusion.add_one(other, tune.link_share, rank)
        if tune.second_round:
            # The names the best entries mention and the query does not: what a question
            # over two facts needs next ("the city where she met him" -> "Paris" -> ...).
            # The seeds themselves are ranked already: only the entries they lead to count.
            asked, seeds = set(words), fusion.best(tune.seeds)
            names = list(
                dict.fromkeys(
                    n.lower()
                    for hit in seeds
                    for n in NAME.findall(hit.text)
                    if n.lower() not in asked and n.lower() not in tune.stop_words
                )
            )[:8]
            names = [n for n in names if n not in self._common(names)]
            if names:
                seen = {h.id for h in seeds}
                fusion.add(
                    [
                        h
                        for h in self._keyword(names, want, kind, scopes, include_superseded)
                        if h.id not in seen
                    ],
                    tune.second_round,
                    ties=True,
                )
        hits = fusion.best(k)
        if (
            tune.keep_top
            and len(ranked) > 1
            and ranked[0].score > ranked[1].score
            and hits
            and hits[0].id != ranked[0].id
        ):
            # The one entry that matches the query's words clearly best stays first.
            top = next((h for h in hits if h.id == ranked[0].id), ranked[0])
            hits = [top, *[h for h in hits if h.id != top.id]][:k]
        for h in hits:
            h.score = round(fusion.score[h.id], 6)
        if hits:
            self._accessed([h.id for h in hits])
        return hits

    def similar(
        self, text: str, k: int = 5, *, kind: str | None = None, scopes: list[str] | None = None
    ) -> list[Hit]:
        """The current entries nearest to `text` in meaning, with their cosine as the score;
        none without an embedder. For finding duplicates and related entries, not for search:
        on its own a small embedder ranks worse than `search`."""
        vector = self._embed([text]) if self._has_vectors() else None
        return [] if vector is None else self._nearest(vector[0], k, kind, scopes, False)

    def reindex(self, batch: int = 256) -> int:
        """Give every entry without a vector of this store's embedder one (entries written
        without an embedder, or with another); returns how many were embedded."""
        if self.embedder is None:
            return 0
        done = 0
        while pending := self._missing_vectors(batch):
            vectors = self.embedder.embed([text for _, text in pending])
            self._save_vectors([(i, v) for (i, _), v in zip(pending, vectors, strict=True)])
            done += len(pending)
        return done

    def _embed(self, texts: list[str]) -> np.ndarray | None:
        """Vectors for `texts`, or None without an embedder. A failing embedder costs the
        vectors, never the entry: `reindex` fills them in later."""
        if self.embedder is None or not texts:
            return None
        try:
            vectors = self.embedder.embed(texts)
            import numpy as np

            if vectors.shape != (len(texts), self.embedder.dim) or not np.isfinite(vectors).all():
                raise ValueError(
                    f"the embedder returned vectors of shape {vectors.shape} "
                    f"(some not finite?) for {len(texts)} texts of dimension "
                    f"{self.embedder.dim}"
                )
            return vectors
        except Exception:
            log.warning("the embedder failed; stored and searched without vectors", exc_info=True)
            return None

    def _embed_soon(self, query: str, n: int) -> Future[Similar | None] | None:
        """The query's vector and, where the backend ranks vectors in memory, its `n` nearest
        entries, computed in a thread while the keyword search runs (both leave the GIL): a
        search costs the longer of the two, not their sum."""
        if not self._has_vectors():
            return None
        if self._embedding is None:
            self._embedding = ThreadPoolExecutor(1, thread_name_prefix="opensage-embed")
        rank = self._vector_ranker()  # here: it may read the database, the thread may not

        def work() -> Similar | None:
            vector = self._embed([query])
            if vector is None:
                return None
            return vector[0], rank(vector[0], n) if rank else None

        return self._embedding.submit(work)

    def _vector_ranker(self) -> Callable[[np.ndarray, int], list[tuple[int, float]]] | None:
        """A function ranking entries by their vectors, safe to call from another thread (so
        it may not use the database), or None if the backend ranks in the database."""
        return None

    def close(self) -> None:
        if self._embedding is not None:
            self._embedding.shutdown()

    def _common(self, words: list[str]) -> set[str]:
        """Words found in too large a share of entries to be worth scoring (see COMMON_SHARE)."""
        size = self._size()
        if size > self._df_size * 1.1:  # counted on a store 10% smaller or more: count again
            self._df.clear()
            self._df_size = size
        limit = max(COMMON_MIN, int(size * COMMON_SHARE))
        if size <= limit:
            return set()
        for w in words:
            if w not in self._df:
                self._df[w] = self._count(w, limit + 1)
        return {w for w in words if self._df[w] > limit}

    # --- what a backend provides --------------------------------------------------------------

    def add(
        self,
        text: str,
        kind: str = "fact",
        metadata: dict[str, Any] | None = None,
        *,
        scope: str = "global",
        context: str = "",
        source_run: str | None = None,
        source_event: int | None = None,
        supersedes: int | None = None,
    ) -> int:
        """Store an entry; with `supersedes`, the older entry stays but is marked outdated.
        `context` (the conversation around a remark, the file a snippet is from) is searched
        too, with less weight than the text."""
        raise NotImplementedError

    def add_many(
        self,
        entries: list[dict[str, Any]],
        scope: str = "global",
        *,
        neighbours: int = 0,
        embed: bool = True,
    ) -> list[int]:
        """Bulk insert: each dict has text, and optionally kind, context, metadata, scope (and,
        when copied from another store, created, source_run and source_event). With
        `neighbours`, the entries are a sequence (a conversation's turns, a document's
        paragraphs): each one's context also holds the text of up to that many entries before
        and after it, so that a question naming the situation, not the entry's own words,
        still finds it. With `embed=False` the entries are written without vectors: a large
        import is searchable by keywords at once (embedding 100,000 entries takes minutes), and
        by meaning once `reindex` has given them theirs."""
        raise NotImplementedError

    def read_only_query(
        self, sql: str, max_rows: int, seconds: float = 10
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run one statement that may only read, for at most `seconds`, on a connection of its
        own: its column names and first `max_rows` rows. For letting a model query the memory
        (anything that would write is refused); blocking, so it may be run in a thread.
        Raises QueryError when the statement is refused, wrong or too slow."""
        raise NotImplementedError

    # --- the same SQL on every backend, through `_read` and `_write` ------------------------

    def rows(self, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        """Whole entries with ids above `after`, in id order: for copying a store."""
        m = self.MARK
        return [
            entry_row(r)
            for r in self._read(
                f"SELECT {ROW_COLUMNS} FROM entries WHERE id > {m} ORDER BY id LIMIT {m}",
                (after, limit),
            )
        ]

    def links(self) -> list[tuple[int, int, str]]:
        """Every link (src, dst, type)."""
        return [
            (int(s), int(d), str(t))
            for s, d, t in self._read("SELECT src, dst, type FROM links ORDER BY src, dst")
        ]

    def mark_superseded(self, entry: int, by: int) -> None:
        m = self.MARK
        self._write(f"UPDATE entries SET superseded_by = {m} WHERE id = {m}", (by, entry))

    def link(self, src: int, dst: int, type: str = "related") -> None:
        m = self.MARK
        self._write(
            f"INSERT INTO links VALUES ({m}, {m}, {m}) ON CONFLICT DO NOTHING", (src, dst, type)
        )

    def get(self, entry_id: int) -> Hit | None:
        found = self._read(f"SELECT {COLUMNS} FROM entries WHERE id = {self.MARK}", (entry_id,))
        return hit_of(found[0], 0.0) if found else None

    def neighbours(self, entry_id: int) -> list[tuple[str, Hit]]:
        """Linked entries, with the link's type (either direction)."""
        m = self.MARK
        rows = self._read(
            f"SELECT type, dst FROM links WHERE src = {m} UNION SELECT type, src "
            f"FROM links WHERE dst = {m}",
            (entry_id, entry_id),
        )
        found = [(t, self.get(other)) for t, other in rows]
        return [(t, h) for t, h in found if h is not None]

    def stats(self) -> dict[str, Any]:
        by_kind = dict(
            self._read(
                "SELECT kind, COUNT(*) FROM entries WHERE superseded_by IS NULL GROUP BY kind"
            )
        )
        total, superseded = self._read("SELECT COUNT(*), COUNT(superseded_by) FROM entries")[0]
        links = self._read("SELECT COUNT(*) FROM links")[0][0]
        # Without an embedder a PostgreSQL store may have no vectors table at all.
        vectors = (
            self._read(
                f"SELECT COUNT(*) FROM vectors WHERE model = {self.MARK}", (self.embedder.name,)
            )[0][0]
            if self.embedder
            else 0
        )
        return {
            "entries": total,
            "current": total - superseded,
            "superseded": superseded,
            "links": links,
            "by_kind": by_kind,
            **self._location(),
            "embedder": self.embedder.name if self.embedder else None,
            "vectors": vectors,
        }

    def _missing_vectors(self, limit: int) -> list[tuple[int, str]]:
        """Up to `limit` entries (id, text) with no vector of this store's embedder."""
        assert self.embedder is not None
        m = self.MARK
        return [
            (int(i), str(t))
            for i, t in self._read(
                f"SELECT id, text FROM entries e WHERE NOT EXISTS (SELECT 1 FROM vectors v WHERE "
                f"v.id = e.id AND v.model = {m}) ORDER BY id LIMIT {m}",
                (self.embedder.name, limit),
            )
        ]

    def _has_vectors(self) -> bool:
        """Whether an entry has a vector of this store's embedder. Until one has, a search
        embeds no query, so the embedder's model is not loaded to search an empty store.
        Vectors are never deleted: once true, it stays true."""
        if not self._vectors_seen and self.embedder is not None:
            self._vectors_seen = bool(
                self._read(
                    f"SELECT 1 FROM vectors WHERE model = {self.MARK} LIMIT 1",
                    (self.embedder.name,),
                )
            )
        return self._vectors_seen

    def _size(self) -> int:
        return int(self._read("SELECT COALESCE(MAX(id), 0) FROM entries")[0][0])

    def _accessed(self, ids: list[int]) -> None:
        self._write(
            f"UPDATE entries SET accessed = accessed + 1 WHERE id IN "
            f"({', '.join([self.MARK] * len(ids))})",
            ids,
        )

    # --- what a backend provides, beside add and add_many -------------------------------------

    MARK = "?"  # the driver's placeholder

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """The rows of a query."""
        raise NotImplementedError

    def _write(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement and keep its effect (its own transaction)."""
        raise NotImplementedError

    def _location(self) -> dict[str, str]:
        """Where the store is, for `stats`."""
        raise NotImplementedError

    def _keyword(
        self,
        words: list[str],
        want: int,
        kind: str | None,
        scopes: list[str] | None,
        include_superseded: bool,
        plain: bool = False,
    ) -> list[Hit]:
        """Entries matching any of `words`, best first; `plain`: the words are all stop words
        (a backend that drops stop words must still match them)."""
        raise NotImplementedError

    def _nearest(
        self,
        vector: np.ndarray,
        want: int,
        kind: str | None,
        scopes: list[str] | None,
        include_superseded: bool,
        ranked: list[tuple[int, float]] | None = None,
    ) -> list[Hit]:
        """Entries whose vectors (of this store's embedder) are most like `vector`, best
        first, with their cosine as the score; `ranked`: what `_vector_ranker` found."""
        raise NotImplementedError

    def _save_vectors(self, vectors: list[tuple[int, np.ndarray]]) -> None:
        raise NotImplementedError

    def _count(self, word: str, limit: int) -> int:
        raise NotImplementedError


COLUMNS = "id, text, kind, scope, metadata, superseded_by, created"  # what a Hit is made of
ROW_COLUMNS = (
    "id, kind, text, context, metadata, scope, created, superseded_by, source_run, "
    "source_event, accessed"
)


def entry_row(row: Any) -> dict[str, Any]:
    """A whole entry as a dict (see `rows`); metadata decoded on either backend."""
    out = dict(zip(ROW_COLUMNS.split(", "), row, strict=True))
    if isinstance(out["metadata"], str):
        out["metadata"] = json.loads(out["metadata"])
    return out


QUALIFIED = ", ".join(f"e.{c}" for c in COLUMNS.split(", "))


def hit_of(row: Any, score: float) -> Hit:
    """A Hit from a row of COLUMNS; metadata decoded on either backend (JSONB comes decoded)."""
    # Most entries have none: a search reads hundreds of rows, parsing "{}" in each adds up.
    metadata = row[4] if isinstance(row[4], dict) else {} if row[4] == "{}" else json.loads(row[4])
    return Hit(
        id=int(row[0]),
        text=row[1],
        kind=row[2],
        scope=row[3],
        metadata=metadata,
        superseded_by=row[5],
        created=float(row[6]),
        score=score,
    )


def sql_filters(
    kind: str | None, scopes: list[str] | None, include_superseded: bool, mark: str = "?"
) -> tuple[list[str], list[Any]]:
    """SQL conditions on `entries e` for a search's filters, and their parameters (`mark`: the
    driver's placeholder)."""
    filters: list[str] = []
    params: list[Any] = []
    if kind:
        filters.append(f"e.kind = {mark}")
        params.append(kind)
    if scopes:
        filters.append(f"e.scope IN ({', '.join([mark] * len(scopes))})")
        params.extend(scopes)
    if not include_superseded:
        filters.append("e.superseded_by IS NULL")
    return filters, params


def with_neighbours(entries: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """`entries` with the text of up to `n` entries on each side added to their context."""
    if n <= 0:
        return entries
    out = []
    for i, entry in enumerate(entries):
        around = [e["text"] for e in entries[max(0, i - n) : i] + entries[i + 1 : i + 1 + n]]
        context = "\n".join(filter(None, [entry.get("context", ""), *around]))
        out.append({**entry, "context": context})
    return out


def _words(text: str) -> list[str]:
    return list(dict.fromkeys(w.lower().strip("'") for w in WORD.findall(text) if w.strip("'")))


class _Fusion:
    """Reciprocal-rank fusion: each ranking adds `weight / (RRF_K + rank)` to its entries."""

    def __init__(self) -> None:
        self.score: dict[int, float] = {}
        self.hits: dict[int, Hit] = {}

    def add(self, ranking: list[Hit], weight: float, ties: bool = False) -> None:
        """Add a ranking, best first; with `ties`, equal scores share a rank."""
        if not weight:
            return
        rank, previous = -1, None
        for position, hit in enumerate(ranking):
            if not ties:
                rank = position
            elif hit.score != previous:
                rank, previous = rank + 1, hit.score
            self.add_one(hit, weight, rank)

    def add_one(self, hit: Hit, weight: float, rank: int) -> None:
        self.hits.setdefault(hit.id, hit)
        self.score[hit.id] = self.score.get(hit.id, 0.0) + weight / (RRF_K + rank)

    def best(self, k: int) -> list[Hit]:
        """The k best; among equals, the newer first."""
        order = sorted(self.score, key=lambda i: (-self.score[i], -self.hits[i].created, -i))
        return [self.hits[i] for i in order[:k]]
