"""apply_patch on a small project the tests write: git diffs with new, deleted and renamed files,
hunks that apply elsewhere or not at all (nothing changed), the `*** Begin Patch` format, undo,
the syntax gate, and planted symlinks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from opensage.core.tools import Tool, ToolError
from opensage.kits.swe.apply_patch import Patcher
from opensage.kits.swe.edit import Editor
from opensage.kits.swe.patch import parse_patch
from opensage.kits.swe.workspace import EditHistory, Workspace

NUMBERS = "".join(f"n{k} = {k}\n" for k in range(1, 31))


@pytest.fixture
def work(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    (work / "pkg").mkdir(parents=True)
    (work / "pkg" / "numbers.py").write_text(NUMBERS)
    (work / "old.txt").write_text("going\naway\n")
    (work / "notes.txt").write_text("alpha\nbeta\ngamma\n")
    return work


@pytest.fixture
def tools(work: Path) -> tuple[Patcher, Editor]:
    workspace, history = Workspace(work), EditHistory()
    return Patcher(workspace, history), Editor(workspace, history)


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def refused(patcher: Patcher, patch: str) -> str:
    with pytest.raises(ToolError) as caught:
        patcher.apply_patch(patch)
    return str(caught.value)


GIT_PATCH = """\
diff --git a/pkg/numbers.py b/pkg/numbers.py
index 1111111..2222222 100644
--- a/pkg/numbers.py
+++ b/pkg/numbers.py
@@ -2,7 +2,7 @@
 n2 = 2
 n3 = 3
 n4 = 4
-n5 = 5
+n5 = 50
 n6 = 6
 n7 = 7
 n8 = 8
@@ -20,6 +20,7 @@ n19 = 19
 n20 = 20
 n21 = 21
 n22 = 22
+n22b = 22.5
 n23 = 23
 n24 = 24
 n25 = 25
diff --git a/old.txt b/old.txt
deleted file mode 100644
index 3333333..0000000
--- a/old.txt
+++ /dev/null
@@ -1,2 +0,0 @@
-going
-away
diff --git a/notes.txt b/docs/notes.md
similarity index 80%
rename from notes.txt
rename to docs/notes.md
index 4444444..5555555 100644
--- a/notes.txt
+++ b/docs/notes.md
@@ -1,3 +1,3 @@
 alpha
-beta
+BETA
 gamma
diff --git a/pkg/new_module.py b/pkg/new_module.py
new file mode 100755
index 0000000..6666666
--- /dev/null
+++ b/pkg/new_module.py
@@ -0,0 +1,2 @@
+def hello():
+    return "hi"
"""


def test_the_tool_has_the_contract_name_and_argument(tools):
    schema = Tool(tools[0].apply_patch).schema
    assert schema.name == "apply_patch" and list(schema.parameters["properties"]) == ["patch"]


def test_a_git_diff_with_new_deleted_and_renamed_files_applies(tools, work):
    patcher, _ = tools
    report = patcher.apply_patch(GIT_PATCH)
    assert tree(work) == {
        "docs/notes.md": b"alpha\nBETA\ngamma\n",
        "pkg/new_module.py": b'def hello():\n    return "hi"\n',
        "pkg/numbers.py": NUMBERS.replace("n5 = 5\n", "n5 = 50\n")
        .replace("n22 = 22\n", "n22 = 22\nn22b = 22.5\n")
        .encode(),
    }
    assert os.stat(work / "pkg" / "new_module.py").st_mode & 0o777 == 0o755
    assert report.splitlines()[:5] == [
        "Applied the patch (4 files):",
        "- pkg/numbers.py: changed, 2 hunks",
        "- old.txt: deleted",
        "- notes.txt: renamed to docs/notes.md, 1 hunk",
        "- pkg/new_module.py: created (2 lines)",
    ]
    assert "    23\tn22b = 22.5" in report  # the changed lines, numbered, to check


def test_a_hunk_that_does_not_apply_changes_nothing_and_is_named(tools, work):
    patcher, _ = tools
    before = tree(work)
    broken = GIT_PATCH.replace(" n21 = 21\n", " n21 = 21.0\n")
    message = refused(patcher, broken)
    assert tree(work) == before  # no new file, the deleted and renamed ones still there
    assert "nothing was changed" in message
    assert "- pkg/numbers.py: hunk 2 of 2 (@@ -20,6 +20,7 @@ n19 = 19) does not apply" in message
    assert "where line 21 is 'n21 = 21' but the hunk expects 'n21 = 21.0'" in message
    assert "These parts would apply: old.txt: deleted;" in message


def test_hunks_are_placed_by_their_context_near_the_stated_line(tools, work):
    patcher, _ = tools
    (work / "pkg" / "numbers.py").write_text("# a header\n# of three\n# lines\n" + NUMBERS)
    report = patcher.apply_patch(GIT_PATCH.split("diff --git a/old.txt")[0])
    text = (work / "pkg" / "numbers.py").read_text()
    assert "n5 = 50\n" in text and "n22 = 22\nn22b = 22.5\nn23" in text
    assert "(hunk 1 at line 5, not 2; hunk 2 at line 23, not 20)" in report


def test_a_model_written_diff_with_wrong_counts_and_bare_blank_lines_applies(tools, work):
    patcher, _ = tools
    (work / "app.py").write_text("def f():\n    a = 1\n\n    return a\n")
    patcher.apply_patch(
        "--- a/app.py\n+++ b/app.py\n@@ -1,2 +1,2 @@\n def f():\n"
        "-    a = 1\n+    a = 2\n\n     return a\n"
    )
    assert (work / "app.py").read_text() == "def f():\n    a = 2\n\n    return a\n"


def test_a_removed_line_that_looks_like_a_file_header_stays_in_its_hunk(tools, work):
    patcher, _ = tools
    (work / "sql.txt").write_text("-- comment\nSELECT 1;\n")
    patcher.apply_patch(
        "--- a/sql.txt\n+++ b/sql.txt\n@@ -1,2 +1,2 @@\n--- comment\n+++ comment\n SELECT 1;\n"
    )
    assert (work / "sql.txt").read_text() == "++ comment\nSELECT 1;\n"


def test_no_newline_at_end_of_file_is_kept_as_the_patch_says(tools, work):
    patcher, _ = tools
    (work / "end.txt").write_text("one\ntwo")
    patcher.apply_patch(
        "--- a/end.txt\n+++ b/end.txt\n@@ -1,2 +1,3 @@\n one\n-two\n"
        "\\ No newline at end of file\n+two\n+three\n"
    )
    assert (work / "end.txt").read_text() == "one\ntwo\nthree\n"


def test_the_begin_patch_format_updates_adds_moves_and_deletes(tools, work):
    patcher, _ = tools
    patcher.apply_patch("""\
Here is the patch:
*** Begin Patch
*** Update File: pkg/numbers.py
@@ n10 = 10
 n11 = 11
-n12 = 12
+n12 = 120
 n13 = 13
*** Add File: pkg/extra.py
+EXTRA = True
*** Delete File: old.txt
*** Update File: notes.txt
*** Move to: notes.md
 alpha
-beta
+beta, moved
*** End Patch
""")
    assert tree(work) == {
        "notes.md": b"alpha\nbeta, moved\ngamma\n",
        "pkg/extra.py": b"EXTRA = True\n",
        "pkg/numbers.py": NUMBERS.replace("n12 = 12\n", "n12 = 120\n").encode(),
    }


def test_every_file_a_patch_changed_can_be_undone(tools, work):
    patcher, editor = tools
    before = tree(work)
    patcher.apply_patch(GIT_PATCH)
    for path in ("pkg/numbers.py", "old.txt", "notes.txt", "docs/notes.md", "pkg/new_module.py"):
        editor.undo_edit(path)
    assert tree(work) == before


def test_a_patch_that_breaks_python_is_not_applied(tools, work):
    patcher, _ = tools
    before = tree(work)
    message = refused(patcher, GIT_PATCH.replace("+n5 = 50", "+n5 = (50"))
    assert tree(work) == before
    assert "pkg/numbers.py, line 5: '(' was never closed" in message


def test_binary_patches_and_unreadable_text_are_refused(tools, work):
    patcher, _ = tools
    assert "binary patch" in refused(
        patcher,
        "diff --git a/x.bin b/x.bin\nnew file mode 100644\nindex 0..1\n"
        "GIT binary patch\nliteral 1\nIcmZ?l000001\n\nliteral 0\n",
    )
    assert "no file changes found" in refused(patcher, "please fix the bug")


def test_planted_symlinks_cannot_lead_a_patch_outside_the_work_dir(tools, work, tmp_path):
    patcher, _ = tools
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("s3cret\n")
    (work / "link.txt").symlink_to(outside / "secret.txt")
    (work / "linkdir").symlink_to(outside)
    before = tree(work)
    attempts = {
        "update through a file link": "--- a/link.txt\n+++ b/link.txt\n@@ -1 +1 @@\n"
        "-s3cret\n+leaked\n",
        "update in a folder link": "--- a/linkdir/secret.txt\n+++ b/linkdir/secret.txt\n"
        "@@ -1 +1 @@\n-s3cret\n+leaked\n",
        "add in a folder link": "--- /dev/null\n+++ b/linkdir/new.txt\n@@ -0,0 +1 @@\n+x\n",
        "delete through a link": "--- a/link.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-s3cret\n",
        "rename into a link": "diff --git a/notes.txt b/linkdir/notes.txt\nsimilarity "
        "index 100%\nrename from notes.txt\nrename to linkdir/notes.txt\n",
        "climb out": "--- /dev/null\n+++ b/../outside/new.txt\n@@ -0,0 +1 @@\n+x\n",
        "begin patch": "*** Begin Patch\n*** Add File: linkdir/x.txt\n+x\n*** End Patch\n",
    }
    for what, patch in attempts.items():
        assert "outside the work directory" in refused(patcher, patch), what
    assert sorted(os.listdir(outside)) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == "s3cret\n"
    assert tree(work) == before and (work / "link.txt").is_symlink()


def test_git_header_paths_with_spaces_and_quotes_are_read():
    files = parse_patch(
        'diff --git "a/with\\ttab.txt" "b/with\\ttab.txt"\nnew file mode '
        '100644\n--- /dev/null\n+++ "b/with\\ttab.txt"\n@@ -0,0 +1 @@\n+x\n'
        "diff --git a/a b/a b\nnew file mode 100644\nindex 0..1\n"
        'diff --git "a/caf\\303\\251 \\"1\\".txt" "b/caf\\303\\251 \\"1\\".txt"\n'
        "deleted file mode 100644\nindex 1..0\n"
    )
    assert [(f.old_path, f.new_path) for f in files] == [
        (None, "with\ttab.txt"),
        (None, "a b"),
        ('café "1".txt', None),
    ]
