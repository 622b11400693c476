"""End-of-run consolidation of a scripted run into lessons."""

from opensage import Agent
from opensage.core.events import EventLog
from opensage.memory import MemoryStore

from ..topology.conftest import call, team_model


def run(tmp_path, fix_path):
    model = team_model({"ROOT": [
        call("read_file", path="config.yml"),  # does not exist
        call("read_file", path=fix_path),       # this works
        call("finish", answer="read it"),
    ]})
    for name in ("settings.yml", "config.yaml"):
        (tmp_path / name).write_text("key: value\n")
    return Agent("root", "ROOT", model=model, kits=["files", "memory"]).run_sync(
        "read the config", workdir=tmp_path)


def lessons(home):
    store = MemoryStore(home / "memory.db")
    return store, store.search("read_file config.yml failed", k=10, kind="lesson",
                               include_superseded=True)


def test_a_failure_and_its_fix_become_a_lesson_once(home, tmp_path):
    first = run(tmp_path, "settings.yml")
    store, found = lessons(home)
    (lesson,) = found
    assert lesson.text.startswith("read_file(path='config.yml') failed: read_file raised "
                                  "FileNotFoundError")
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
    model = team_model({"ROOT": [
        call("read_file", path="secrets.env"),   # another failure of the same tool
        call("read_file", path="settings.yml"),
        call("finish", answer="ok"),
    ]})
    Agent("root", "ROOT", model=model, kits=["files", "memory"]).run_sync("go", workdir=tmp_path)
    store = MemoryStore(home / "memory.db")
    lessons = store.search("read_file failed", k=10, kind="lesson")
    assert len(lessons) == 2
    newer, older = sorted(lessons, key=lambda h: -h.id)
    assert [(t, h.id) for t, h in store.neighbours(newer.id)] == [("same_tool", older.id)]
