"""End-of-run consolidation of a scripted run into lessons."""

import json
from importlib import resources

from opensage import Agent
from opensage.core.events import EventLog
from opensage.memory import MemoryStore
from opensage.memory.consolidate import consolidate, store_curated
from opensage.memory.graph import ExecutionGraph
from opensage.models.scripted import FunctionModel

from ..topology.conftest import call, team_model
from .conftest import ConceptEmbedder


def run(tmp_path, fix_path):
    model = team_model(
        {
            "ROOT": [
                call("read_file", path="config.yml"),  # does not exist
                call("read_file", path=fix_path),  # this works
                call("finish", answer="read it"),
            ]
        }
    )
    for name in ("settings.yml", "config.yaml"):
        (tmp_path / name).write_text("key: value\n")
    return Agent("root", "ROOT", model=model, kits=["files", "memory"]).run_sync(
        "read the config", workdir=tmp_path
    )


def lessons(home):
    store = MemoryStore(home / "memory.db")
    return store, store.search(
        "read_file config.yml failed", k=10, kind="lesson", include_superseded=True
    )


def test_a_failure_and_its_fix_become_a_lesson_once(home, tmp_path):
    first = run(tmp_path, "settings.yml")
    store, found = lessons(home)
    (lesson,) = found
    assert lesson.text.startswith(
        "read_file(path='config.yml') failed: read_file raised FileNotFoundError"
    )
    assert lesson.text.endswith("What worked instead: read_file(path='settings.yml').")
    assert lesson.metadata["tool"] == "read_file"
    (event,) = EventLog.open(home / "events.db").events(first.run_id, ("memory_consolidated",))
    assert event.data["written"] == [lesson.id]

    second = run(tmp_path, "settings.yml")  # the same lesson again: nothing new is written
    _, again = lessons(home)
    assert [h.id for h in again] == [lesson.id]
    (event,) = EventLog.open(home / "events.db").events(second.run_id, ("memory_consolidated",))
    assert event.data == {"written": [], "superseded": [], "already_known": [lesson.id]}

    run(tmp_path, "config.yaml")  # the same failure, fixed another way: the lesson is updated
    _, updated = lessons(home)
    current = [h for h in updated if h.superseded_by is None]
    assert len(updated) == 2 and len(current) == 1
    assert current[0].text.endswith("read_file(path='config.yaml').")
    assert store.get(lesson.id).superseded_by == current[0].id


def test_lessons_about_the_same_tool_are_linked(home, tmp_path):
    run(tmp_path, "settings.yml")
    model = team_model(
        {
            "ROOT": [
                call("read_file", path="secrets.env"),  # another failure of the same tool
                call("read_file", path="settings.yml"),
                call("finish", answer="ok"),
            ]
        }
    )
    Agent("root", "ROOT", model=model, kits=["files", "memory"]).run_sync("go", workdir=tmp_path)
    store = MemoryStore(home / "memory.db")
    lessons = store.search("read_file failed", k=10, kind="lesson")
    assert len(lessons) == 2
    newer, older = sorted(lessons, key=lambda h: -h.id)
    assert [(t, h.id) for t, h in store.neighbours(newer.id)] == [("same_tool", older.id)]


def test_a_lesson_is_linked_to_entries_about_the_same_thing(home, tmp_path, make_store):
    result = run(tmp_path, "settings.yml")
    graph = ExecutionGraph.from_log(EventLog.open(home / "events.db"), result.run_id)
    store = make_store(ConceptEmbedder())
    fact = store.add("The configuration is in settings.yml", scope="p")
    store.add("Lunch was a sandwich", scope="p")
    (lesson,) = consolidate(store, graph, result.run_id, "p").written
    assert [(t, h.id) for t, h in store.neighbours(lesson)] == [("related", fact)]


CURATOR = (resources.files("opensage") / "prompts" / "curator.md").read_text()


def curated_run(tmp_path, seen):
    def reply(messages, tools):
        if messages[0].content == CURATOR:
            seen.append(messages[1].content)
            return json.dumps(
                [
                    {"kind": "fact", "text": "The service config lives in settings.yml"},
                    {"kind": "procedure", "text": "Read settings.yml, not config.yml"},
                    {"kind": "opinion", "text": "dropped: not a kind we keep"},
                    {"kind": "fact", "text": ""},
                ]
            )
        step = sum(m.role == "assistant" for m in messages)
        return [
            call("read_file", path="config.yml"),
            call("read_file", path="settings.yml"),
            call("finish", answer="the key is value"),
        ][step]

    (tmp_path / "settings.yml").write_text("key: value\n")
    return Agent("root", "ROOT", model=FunctionModel(reply), kits=["files", "memory"]).run_sync(
        "find the key", workdir=tmp_path
    )


def test_curating_keeps_the_models_facts_and_procedures_once(home, tmp_path):
    (tmp_path / "opensage.toml").write_text("[memory]\ncurate = true\n")
    seen: list[str] = []
    first = curated_run(tmp_path, seen)
    digest = seen[0]
    assert "task: find the key" in digest and "answer: the key is value" in digest
    assert "read_file(path='config.yml')" in digest and "fixed by" in digest
    store = MemoryStore(home / "memory.db")
    kept = {
        h.kind: h for h in store.search("settings.yml config", k=10) if h.metadata.get("curated")
    }
    assert set(kept) == {"fact", "procedure"}  # the malformed two were dropped
    assert any(t == "same_run" for t, _ in store.neighbours(kept["fact"].id))  # to the lesson
    (event,) = EventLog.open(home / "events.db").events(first.run_id, ("memory_consolidated",))
    assert sorted(event.data["curated"]) == sorted(h.id for h in kept.values())
    curated_run(tmp_path, seen)  # the same again: nothing new
    assert store.stats()["by_kind"] == {"lesson": 1, "fact": 1, "procedure": 1}


def test_without_the_setting_the_model_is_not_asked(home, tmp_path):
    seen: list[str] = []
    curated_run(tmp_path, seen)
    assert seen == []


def test_curated_entries_alike_in_meaning_are_known_or_linked(make_store):
    reply = json.dumps(
        [
            {"kind": "fact", "text": "The automobile is blue"},  # says the same
            {"kind": "fact", "text": "The blue automobile is fast"},  # the same car
            {"kind": "fact", "text": "Lunch was a sandwich"},
        ]
    )
    store = make_store(ConceptEmbedder())
    car = store.add("The car is blue", scope="p")
    done = store_curated(store, reply, "run-1", "p", lessons=[])
    assert done.already_known == [car]
    fast, lunch = done.written
    assert [(t, h.id) for t, h in store.neighbours(fast)] == [("related", car)]
    assert store.neighbours(lunch) == []
    # Without an embedder only the words count: all three are new, and nothing is linked.
    plain = make_store()
    plain.add("The car is blue", scope="p")
    assert len(store_curated(plain, reply, "run-1", "p", lessons=[]).written) == 3
    assert plain.stats()["links"] == 0
