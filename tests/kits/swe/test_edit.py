"""The SWE kit's edit tools on a small project the tests write: views, edits, their errors,
undo, the syntax gate, and planted symlinks that must not lead outside the work dir."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from opensage.core.tools import Tool, ToolError
from opensage.kits.swe.edit import Editor
from opensage.kits.swe.workspace import EditHistory, Workspace

CALC = """\
def add(a, b):
    return a - b


def mul(a, b):
    return a * b
"""


@pytest.fixture
def work(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    (work / "pkg").mkdir(parents=True)
    (work / "pkg" / "__init__.py").write_text("")
    (work / "pkg" / "calc.py").write_text(CALC)
    return work


@pytest.fixture
def editor(work: Path) -> Editor:
    return Editor(Workspace(work), EditHistory())


def refused(call, *args) -> str:
    with pytest.raises(ToolError) as caught:
        call(*args)
    return str(caught.value)


def test_the_tools_have_the_contract_names_and_arguments(editor):
    params = {
        name: list(Tool(getattr(editor, name)).schema.parameters["properties"])
        for name in ("view", "create_file", "str_replace", "insert", "undo_edit")
    }
    assert params == {
        "view": ["path", "view_range"],
        "create_file": ["path", "file_text"],
        "str_replace": ["path", "old_str", "new_str"],
        "insert": ["path", "insert_line", "new_str"],
        "undo_edit": ["path"],
    }


# --- view -------------------------------------------------------------------------------------


def test_view_numbers_lines_and_shows_a_range(editor):
    assert editor.view("pkg/calc.py").splitlines()[:2] == [
        "     1\tdef add(a, b):",
        "     2\t    return a - b",
    ]
    assert editor.view("pkg/calc.py", [5, -1]) == (
        "     5\tdef mul(a, b):\n     6\t    return a * b"
    )
    assert "has 6 lines" in refused(editor.view, "pkg/calc.py", [7, 9])


def test_a_long_file_is_shown_in_parts_that_say_how_to_read_on(editor, work):
    (work / "long.txt").write_text("".join(f"line {n}\n" for n in range(1, 1201)))
    first = editor.view("long.txt")
    assert first.splitlines()[-2] == "   500\tline 500"
    assert first.splitlines()[-1] == (
        "[long.txt: lines 1-500 of 1200 shown; view_range=[501, 1000] shows the next ones]"
    )
    assert editor.view("long.txt", [1190, -1]).splitlines()[-1] == "  1200\tline 1200"


def test_a_folder_is_a_tree_two_levels_deep_without_hidden_or_ignored_entries(editor, work):
    (work / ".gitignore").write_text("build/\n*.log\n!keep.log\n")
    (work / ".git" / "info").mkdir(parents=True)
    (work / ".git" / "info" / "exclude").write_text("scratch.txt\n")
    (work / "pkg" / ".gitignore").write_text("generated.py\n")
    (work / "pkg" / "generated.py").write_text("")
    (work / "pkg" / "deep" / "deeper").mkdir(parents=True)
    (work / "pkg" / "deep" / "deeper" / "x.py").write_text("")
    (work / "build").mkdir()
    (work / "build" / "out.o").write_text("")
    for name in ("debug.log", "keep.log", "scratch.txt", ".env", "README.md"):
        (work / name).write_text("")
    assert editor.view(".").splitlines()[1:] == [
        "README.md",
        "keep.log",
        "pkg/",
        "pkg/__init__.py",
        "pkg/calc.py",
        "pkg/deep/",
    ]
    assert editor.view("pkg/deep").splitlines()[1:] == ["pkg/deep/deeper/", "pkg/deep/deeper/x.py"]


def test_binary_huge_and_missing_files_get_clear_errors(editor, work):
    (work / "blob.bin").write_bytes(b"\x7fELF\0\0\1")
    assert "binary file" in refused(editor.view, "blob.bin")
    with open(work / "huge.log", "wb") as huge:
        huge.truncate(11 << 20)
    assert "11 MB" in refused(editor.view, "huge.log")
    assert "Did you mean pkg/calc.py?" in refused(editor.view, "pkg/calk.py")


# --- str_replace, insert, create_file ------------------------------------------------------------


def test_str_replace_edits_once_and_shows_the_region(editor, work):
    shown = editor.str_replace("pkg/calc.py", "return a - b", "return a + b")
    assert (work / "pkg" / "calc.py").read_text() == CALC.replace("a - b", "a + b")
    assert "     2\t    return a + b" in shown and "lines 1-6 now read" in shown


def test_str_replace_that_finds_nothing_shows_the_closest_lines(editor, work):
    message = refused(editor.str_replace, "pkg/calc.py", "def mul(x, b):\n    return x * b", "")
    assert "does not occur in pkg/calc.py" in message
    assert "closest lines are 5-6" in message and "     5\tdef mul(a, b):" in message
    assert (work / "pkg" / "calc.py").read_text() == CALC


def test_str_replace_with_other_indentation_says_so(editor):
    message = refused(editor.str_replace, "pkg/calc.py", "def mul(a, b):\n  return a * b", "")
    assert "matches lines 5-6 if whitespace is ignored" in message


def test_str_replace_found_several_times_says_where(editor, work):
    message = refused(editor.str_replace, "pkg/calc.py", "(a, b):", "(a, b, c):")
    assert "occurs 2 times" in message and "at lines 1, 5" in message
    assert "     1\tdef add(a, b):" in message and "     5\tdef mul(a, b):" in message
    assert (work / "pkg" / "calc.py").read_text() == CALC


def test_insert_at_the_top_after_a_line_and_at_the_end(editor, work):
    editor.insert("pkg/calc.py", 0, "import math")
    editor.insert("pkg/calc.py", 3, "    # subtracts, on purpose\n")
    shown = editor.insert("pkg/calc.py", 8, "\n\nPI = math.pi")
    text = (work / "pkg" / "calc.py").read_text()
    assert text.startswith(
        "import math\ndef add(a, b):\n    return a - b\n    # subtracts, on purpose\n"
    )
    assert text.endswith("    return a * b\n\n\nPI = math.pi\n")
    assert "    11\tPI = math.pi" in shown
    assert "which has 11 lines" in refused(editor.insert, "pkg/calc.py", 12, "x = 1")


def test_a_line_inserted_after_a_last_line_without_newline_is_a_line_of_its_own(editor, work):
    (work / "t.txt").write_text("one\ntwo")
    editor.insert("t.txt", 2, "three")
    assert (work / "t.txt").read_text() == "one\ntwo\nthree"


def test_crlf_files_keep_their_line_endings(editor, work):
    (work / "win.txt").write_bytes(b"alpha\r\nbeta\r\ngamma\r\n")
    editor.str_replace("win.txt", "alpha\nbeta", "alpha\nBETA")
    editor.insert("win.txt", 1, "inserted")
    assert (work / "win.txt").read_bytes() == b"alpha\r\ninserted\r\nBETA\r\ngamma\r\n"


def test_bytes_that_are_not_utf8_survive_an_edit_elsewhere(editor, work):
    (work / "latin.txt").write_bytes(b"caf\xe9\nold\n")
    editor.str_replace("latin.txt", "old", "new")
    assert (work / "latin.txt").read_bytes() == b"caf\xe9\nnew\n"


def test_create_file_makes_folders_and_undo_removes_it(editor, work):
    assert "Created src/app/main.py (2 lines)" in editor.create_file(
        "src/app/main.py", "print('hi')\nprint('bye')\n"
    )
    assert (work / "src" / "app" / "main.py").read_text() == "print('hi')\nprint('bye')\n"
    assert "the file is removed" in editor.undo_edit("src/app/main.py")
    assert not (work / "src").exists()


# --- undo -------------------------------------------------------------------------------------


def test_undo_edit_twice_goes_back_two_edits_newest_first(editor, work):
    path = work / "pkg" / "calc.py"
    editor.str_replace("pkg/calc.py", "a - b", "a + b")
    after_first = path.read_text()
    editor.insert("pkg/calc.py", 0, "import math")
    first = editor.undo_edit("pkg/calc.py")
    assert path.read_text() == after_first
    assert "-import math" in first and "1 earlier edit of pkg/calc.py can be undone" in first
    second = editor.undo_edit("pkg/calc.py")
    assert path.read_text() == CALC
    assert "-    return a + b\n+    return a - b" in second
    assert "no edit of pkg/calc.py is left to undo" in refused(editor.undo_edit, "pkg/calc.py")


def test_undo_after_a_command_changed_the_file_says_so(editor, work):
    editor.str_replace("pkg/calc.py", "a - b", "a + b")
    (work / "pkg" / "calc.py").write_text("changed by a command\n")
    assert "had changed since that edit" in editor.undo_edit("pkg/calc.py")
    assert (work / "pkg" / "calc.py").read_text() == CALC


# --- the syntax gate --------------------------------------------------------------------------


def test_an_edit_that_breaks_python_is_rolled_back_with_the_error(editor, work):
    path = work / "pkg" / "calc.py"
    message = refused(editor.str_replace, "pkg/calc.py", "return a - b", "return (a - b")
    assert path.read_text() == CALC
    assert "pkg/calc.py, line 2: '(' was never closed" in message
    assert "     2\t    return (a - b" in message and "     1\tdef add(a, b):" in message
    assert "line 3: unexpected indent" in refused(editor.insert, "pkg/calc.py", 1, "  x = 1")
    assert "'return' outside function" in refused(editor.create_file, "pkg/new.py", "return 1\n")
    assert path.read_text() == CALC and not (work / "pkg" / "new.py").exists()
    assert "no edit" in refused(editor.undo_edit, "pkg/calc.py")  # nothing was recorded


def test_a_python_file_that_did_not_compile_before_is_still_editable(editor, work):
    (work / "old.py").write_text('print "python 2"\nx = 1\n')
    shown = editor.str_replace("old.py", "x = 1", "x = 2")
    assert (work / "old.py").read_text() == 'print "python 2"\nx = 2\n'
    assert "did not compile before this edit either" in shown


def test_a_python_file_in_its_declared_encoding_passes_the_gate(editor, work):
    (work / "legacy.py").write_bytes(b"# -*- coding: latin-1 -*-\nNAME = 'caf\xe9'\nx = 1\n")
    shown = editor.str_replace("legacy.py", "x = 1", "x = 2")
    assert (work / "legacy.py").read_bytes().endswith(b"'caf\xe9'\nx = 2\n")
    assert "Warning" not in shown


def test_another_language_gets_a_parse_warning_and_keeps_the_edit(editor, work):
    (work / "main.c").write_text("int main(void) {\n    return 0;\n}\n")
    shown = editor.str_replace("main.c", "return 0;", "return 0")
    assert (work / "main.c").read_text() == "int main(void) {\n    return 0\n}\n"
    assert "Warning: main.c may not parse any more" in shown and "line 2" in shown


# --- planted symlinks ---------------------------------------------------------------------------


def test_planted_symlinks_cannot_lead_a_tool_outside_the_work_dir(editor, work, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.py"
    secret.write_text("KEY = 's3cret'\n")
    (work / "link.py").symlink_to(secret)
    (work / "linkdir").symlink_to(outside)
    for path in ("link.py", "linkdir/secret.py", "linkdir", "../outside/secret.py", str(secret)):
        assert "outside the work directory" in refused(editor.view, path)
        assert "outside the work directory" in refused(editor.str_replace, path, "s3cret", "x")
        assert "outside the work directory" in refused(editor.insert, path, 0, "x = 1")
        assert "outside the work directory" in refused(editor.create_file, path, "x = 1\n")
        assert "outside the work directory" in refused(editor.undo_edit, path)
    assert "outside the work directory" in refused(editor.create_file, "linkdir/new.py", "")
    assert secret.read_text() == "KEY = 's3cret'\n" and sorted(os.listdir(outside)) == ["secret.py"]
    tree = editor.view(".")
    assert "linkdir (symlink)" in tree and "secret" not in tree


def test_a_folder_swapped_for_a_symlink_after_the_check_is_not_followed(work, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    workspace = Workspace(work)
    target = workspace.locate("pkg/calc.py")  # checked while pkg is a real folder
    (work / "pkg").rename(work / "pkg.real")
    (work / "pkg").symlink_to(outside)
    with pytest.raises(ToolError, match="symlink"):
        workspace.write(target, b"escaped\n")
    with pytest.raises(ToolError, match="symlink"):
        workspace.read(target)
    assert os.listdir(outside) == []


def test_opensage_home_inside_the_work_dir_is_out_of_reach(work):
    home = work / ".opensage"
    home.mkdir()
    (home / "config.toml").write_text("trusted = true\n")
    editor = Editor(Workspace(work, home=home))
    for call, args in (
        (editor.view, (".opensage/config.toml",)),
        (editor.create_file, (".opensage/config.toml", "x")),
        (editor.str_replace, (".opensage/config.toml", "true", "false")),
    ):
        assert "OpenSage's home" in refused(call, *args)
    assert (home / "config.toml").read_text() == "trusted = true\n"
