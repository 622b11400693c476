"""End-of-run consolidation: what failed in a run and what then worked, kept as lessons.

Lessons are keyed by the tool and the first line of its error: the same lesson is not written
twice, and a lesson with a different fix for the same failure supersedes the older one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from opensage.memory.base import MemoryStore
from opensage.memory.graph import ExecutionGraph

# Cosine thresholds, when the store has an embedder: above DUPLICATE an entry says what one
# already known says; above RELATED it is about the same thing, and the two are linked so that
# finding one brings the other. Set for MiniLM, where paraphrases of one statement score about
# 0.9 and sentences about the same subject 0.6 and more.
DUPLICATE, RELATED = 0.92, 0.6


@dataclass
class Consolidation:
    written: list[int] = field(default_factory=list)
    superseded: list[int] = field(default_factory=list)
    already_known: list[int] = field(default_factory=list)


def consolidate(
    store: MemoryStore, graph: ExecutionGraph, run_id: str, scope: str
) -> Consolidation:
    done = Consolidation()
    for error, fix in graph.errors():
        cause = next(
            (
                n
                for d, k, n in graph.neighbours(error.id)
                if k == "caused" and n.kind == "tool_call"
            ),
            None,
        )
        if fix is None or cause is None:
            continue  # a model error, or nothing fixed it: no lesson to draw (yet)
        first_line = (error.data.get("text") or error.label).strip().splitlines()[0][:200]
        key = f"{cause.data.get('name')}: {first_line}"
        text = f"{cause.label} failed: {first_line}. What worked instead: {fix.label}."
        current = [
            h
            for h in store.search(key, k=20, kind="lesson", scopes=[scope])
            if h.metadata.get("key") == key
        ]
        if current and current[0].text == text:
            done.already_known.append(current[0].id)
            continue
        entry = store.add(
            text,
            kind="lesson",
            scope=scope,
            source_run=run_id,
            source_event=int(error.id[1:]),
            context=error.data.get("text", ""),
            metadata={"key": key, "tool": cause.data.get("name")},
            supersedes=current[0].id if current else None,
        )
        done.written.append(entry)
        if current:
            done.superseded.append(current[0].id)
        # Join it to the other current lessons about the same tool (they are read together),
        # and, with vectors, to the entries about the same thing ("the config is in
        # settings.yml" for a lesson about reading config.yml).
        tool = cause.data.get("name")
        for other in store.search(str(tool), k=20, kind="lesson", scopes=[scope]):
            if other.id != entry and other.metadata.get("tool") == tool:
                store.link(entry, other.id, "same_tool")
        for other in store.similar(text, k=5, scopes=[scope]):
            if other.id != entry and other.score >= RELATED and other.kind != "lesson":
                store.link(entry, other.id, "related")
    return done


CURATED_KINDS = ("fact", "procedure", "finding")
MAX_CURATED = 8


def digest(graph: ExecutionGraph, task: str, answer: str | None) -> str:
    """A compact account of a run for the curator: what it was for, what it did and met."""
    lines = [f"task: {task}", f"answer: {answer or '(none)'}"]
    changed = graph.files_changed()
    if changed:
        lines.append("files changed: " + ", ".join(sorted(changed)))
    for error, fix in graph.errors():
        lines.append(f"error: {error.label[:200]}" + (f" -> fixed by {fix.label}" if fix else ""))
    calls = [n.label for n in graph.timeline() if n.kind == "tool_call"]
    lines.append("tool calls:\n" + "\n".join(f"- {c}" for c in calls[-60:]))
    return "\n".join(lines)


def store_curated(
    store: MemoryStore, reply: str, run_id: str, scope: str, lessons: list[int]
) -> Consolidation:
    """Keep the curator's entries that are well formed and not already known."""
    done = Consolidation()
    try:
        entries = json.loads(reply[reply.index("[") : reply.rindex("]") + 1])
    except ValueError:
        return done  # an unreadable reply keeps nothing rather than guessing
    for item in entries[:MAX_CURATED] if isinstance(entries, list) else []:
        if not isinstance(item, dict) or item.get("kind") not in CURATED_KINDS:
            continue
        text = str(item.get("text", "")).strip()
        if not text:
            continue
        same = [
            h
            for h in store.search(text, k=5, scopes=[scope])
            if " ".join(h.text.lower().split()) == " ".join(text.lower().split())
        ]
        near = store.similar(text, k=5, scopes=[scope])
        same += [h for h in near if h.score >= DUPLICATE]
        if same:
            done.already_known.append(same[0].id)
            continue
        entry = store.add(
            text, kind=item["kind"], scope=scope, source_run=run_id, metadata={"curated": True}
        )
        for lesson in lessons:
            store.link(entry, lesson, "same_run")
        for other in near:
            if other.score >= RELATED:
                store.link(entry, other.id, "related")
        done.written.append(entry)
    return done
