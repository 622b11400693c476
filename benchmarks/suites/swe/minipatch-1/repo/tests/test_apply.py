import difflib

import pytest

from minipatch import PatchError, apply_file_patch, parse_patch
from minipatch.cli import main


def diff(old: str, new: str, **kwargs) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True),
                                        new.splitlines(keepends=True), "a/f", "b/f", **kwargs))


def lines(n: int) -> str:
    return "".join(f"line {i}\n" for i in range(1, n + 1))


def test_single_hunk():
    old = lines(10)
    new = old.replace("line 5\n", "line five\n")
    (patch,) = parse_patch(diff(old, new))
    result = apply_file_patch(old, patch)
    assert result.text == new and result.offsets == [0]


def test_offset_when_file_moved():
    old = lines(10)
    new = old.replace("line 5\n", "line five\n")
    (patch,) = parse_patch(diff(old, new))
    moved = "header\nheader\n" + old
    result = apply_file_patch(moved, patch)
    assert result.text == "header\nheader\n" + new
    assert result.offsets == [2]


def test_does_not_apply():
    (patch,) = parse_patch(diff(lines(10), lines(10).replace("line 5", "x")))
    with pytest.raises(PatchError, match="hunk #1"):
        apply_file_patch(lines(4), patch)


def test_new_file_and_no_newline_at_end():
    (patch,) = parse_patch(diff("", "a\nb"))
    assert apply_file_patch("", patch).text == "a\nb"


def test_cli(tmp_path, monkeypatch, capsys):
    (tmp_path / "f").write_text(lines(5))
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(
        diff(lines(5), lines(5).replace("line 2", "two"))))
    assert main(["-d", str(tmp_path)]) == 0
    assert (tmp_path / "f").read_text() == lines(5).replace("line 2", "two")
    assert "patched" in capsys.readouterr().out
