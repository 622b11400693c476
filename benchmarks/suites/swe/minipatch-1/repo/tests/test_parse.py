import pytest

from minipatch import PatchError, parse_patch

DIFF = """\
diff --git a/greet.py b/greet.py
--- a/greet.py\t2024-01-01 00:00:00
+++ b/greet.py\t2024-01-02 00:00:00
@@ -1,3 +1,3 @@ def greet
 def greet(name):
-    print("hi", name)
+    print("hello", name)

@@ -10 +10,2 @@
 end
+done
\\ No newline at end of file
"""


def test_parse():
    (patch,) = parse_patch(DIFF)
    assert (patch.old_path, patch.new_path) == ("a/greet.py", "b/greet.py")
    assert patch.target() == "greet.py" and patch.target(0) == "b/greet.py"
    first, second = patch.hunks
    assert (first.old_start, first.old_len, first.new_start, first.new_len) == (1, 3, 1, 3)
    assert first.header == "def greet"
    assert first.old_lines == ["def greet(name):\n", '    print("hi", name)\n', "\n"]
    assert (second.old_len, second.new_len) == (1, 2)
    assert second.new_lines == ["end\n", "done"]


def test_bad_header():
    with pytest.raises(PatchError, match="bad hunk header"):
        parse_patch("--- a/x\n+++ b/x\n@@ -1 +1 @\n")


def test_truncated_hunk():
    with pytest.raises(PatchError, match="truncated"):
        parse_patch("--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n")
