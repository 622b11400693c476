"""Checks of /app/todo.py against the specification in the task's instruction."""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SCRIPT = "/app/todo.py"


class Todo:
    def __init__(self, folder):
        self.file = Path(folder) / "tasks.json"

    def __call__(self, *args, status=0):
        env = {**os.environ, "TODO_FILE": str(self.file)}
        result = subprocess.run([sys.executable, SCRIPT, *args], capture_output=True,
                                text=True, env=env, timeout=30)
        assert result.returncode == status, (args, result.returncode, result.stderr)
        if status:
            assert result.stderr.strip(), f"no error message for {args}"
        return result.stdout

    def data(self):
        return json.loads(self.file.read_text())


def session():
    folder = tempfile.mkdtemp()
    return Todo(folder)


def test_add_and_list():
    todo = session()
    assert todo("add", "Buy milk") == "added 1\n"
    assert todo("add", "Pay rent", "--due", "2024-07-01", "--tag", "home",
                "--tag", "bills", "--tag", "home") == "added 2\n"
    assert todo("add", "Call Ana", "--due", "2024-06-15") == "added 3\n"
    assert todo("list") == ("3\topen\t2024-06-15\tCall Ana\t-\n"
                            "2\topen\t2024-07-01\tPay rent\tbills,home\n"
                            "1\topen\t-\tBuy milk\t-\n")


def test_file_format():
    todo = session()
    todo("add", "Pay rent", "--due", "2024-07-01", "--tag", "home", "--tag", "bills")
    assert todo.data() == {"next_id": 2, "tasks": [
        {"id": 1, "text": "Pay rent", "due": "2024-07-01", "tags": ["bills", "home"],
         "done": False}]}


def test_done_remove_and_ids_never_reused():
    todo = session()
    for text in ("a", "b", "c"):
        todo("add", text)
    assert todo("done", "2") == "done 2\n"
    assert todo("remove", "3") == "removed 3\n"
    assert todo("add", "d") == "added 4\n"
    assert todo("list") == "1\topen\t-\ta\t-\n4\topen\t-\td\t-\n"
    assert todo("list", "--all") == "1\topen\t-\ta\t-\n2\tdone\t-\tb\t-\n4\topen\t-\td\t-\n"
    assert todo.data()["next_id"] == 5


def test_filters():
    todo = session()
    todo("add", "x", "--due", "2024-05-01", "--tag", "work")
    todo("add", "y", "--due", "2024-05-10", "--tag", "home")
    todo("add", "z", "--tag", "work")
    todo("add", "w", "--due", "2024-04-01", "--tag", "work")
    todo("done", "4")
    assert todo("list", "--tag", "work") == "1\topen\t2024-05-01\tx\twork\n3\topen\t-\tz\twork\n"
    assert todo("list", "--due-before", "2024-05-10") == "1\topen\t2024-05-01\tx\twork\n"
    assert todo("list", "--all", "--tag", "work", "--due-before", "2024-05-02") == \
        "4\tdone\t2024-04-01\tw\twork\n1\topen\t2024-05-01\tx\twork\n"
    assert todo("list", "--tag", "garden") == ""


def test_existing_file_is_used():
    todo = session()
    todo.file.write_text(Path("/app/example.json").read_text())
    assert todo("list", "--all") == ("1\topen\t2024-06-01\tRenew passport\tadmin\n"
                                     "3\tdone\t-\tFix the bike's brakes\tbike,home\n")
    assert todo("add", "New") == "added 4\n"


def test_errors_leave_the_file_unchanged():
    todo = session()
    todo("add", "a", "--due", "2024-01-31")
    before = todo.file.read_text()
    todo("done", "9", status=1)
    todo("remove", "9", status=1)
    todo("add", "b", "--due", "2024-02-30", status=2)
    todo("add", "b", "--due", "tomorrow", status=2)
    todo("done", "one", status=2)
    todo("frobnicate", status=2)
    todo("list", "--due-before", "2024-13-01", status=2)
    assert todo.file.read_text() == before
    env = {**os.environ, "TODO_FILE": str(todo.file)}
    result = subprocess.run([sys.executable, SCRIPT, "done", "9"], capture_output=True,
                            text=True, env=env, timeout=30)
    assert result.stderr.strip() == "todo: no task 9"


def test_default_file_in_current_directory():
    folder = tempfile.mkdtemp()
    env = {k: v for k, v in os.environ.items() if k != "TODO_FILE"}
    result = subprocess.run([sys.executable, SCRIPT, "add", "here"], capture_output=True,
                            text=True, env=env, cwd=folder, timeout=30)
    assert result.returncode == 0, result.stderr
    assert json.loads((Path(folder) / "todo.json").read_text())["tasks"][0]["text"] == "here"
