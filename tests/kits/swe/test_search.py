"""`search`: ripgrep in the bwrap sandbox and the Python fallback on the host, on trees the tests
write; both must give the same answers."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any

import pytest

from opensage.core.tools import ToolError
from opensage.kits.swe import search as search_module
from opensage.kits.swe.search import search
from tests.kits.swe.polyglot import SOURCES, write_tree


@pytest.fixture(params=["ripgrep", "python"])
def engine(request, bwrap):
    """The sandbox search runs ripgrep in, or None for the Python fallback."""
    return bwrap if request.param == "ripgrep" else None


def run(root: Path, sandbox: Any, pattern: str, **kw: Any) -> str:
    return asyncio.run(search(root, sandbox, pattern, **kw))


def matches(out: str) -> list[str]:
    """`path:line` of each matching line of an answer."""
    return [m.group(1) for m in re.finditer(r"^(.+?:\d+): ", out, re.M)]


@pytest.fixture
def tree(tmp_path):
    return write_tree(tmp_path / "work")


def test_finds_a_name_in_all_eight_languages(tree, engine):
    out = run(tree, engine, r"\barea\(")
    first = out.splitlines()[0]
    assert first.endswith(
        "(ripgrep)" if engine else "(Python fallback: ripgrep is not available in the sandbox)"
    )
    found = set(matches(out))
    for source in SOURCES:
        assert f"src/{source.name}:{source.line(source.definition)}" in found
        assert f"src/{source.name}:{source.line(source.use)}" in found
    assert "src/shapes.py:2:     def area(self):" in out


def test_gitignore_hidden_and_binary_files_are_skipped(tmp_path, engine):
    root = tmp_path / "work"
    (root / "build").mkdir(parents=True)
    (root / "pkg" / "gen").mkdir(parents=True)
    (root / ".hidden").mkdir()
    (root / ".gitignore").write_text("build/\n*.log\n!keep.log\n/top.txt\n")
    (root / "pkg" / ".gitignore").write_text("gen/\n")
    for rel in (
        "build/out.c",
        "debug.log",
        "keep.log",
        "top.txt",
        "pkg/top.txt",
        "pkg/a.py",
        "pkg/gen/b.py",
        ".hidden/c.py",
        ".env",
    ):
        (root / rel).write_text("needle\n")
    (root / "blob.bin").write_bytes(b"needle\0\1\2")
    out = run(root, engine, "needle")
    assert sorted(matches(out)) == ["keep.log:1", "pkg/a.py:1", "pkg/top.txt:1"]
    # Searching in a folder still honours the ignore files above it.
    assert matches(run(root, engine, "needle", path="pkg")) == ["pkg/a.py:1", "pkg/top.txt:1"]


def test_gitignore_patterns_as_git_reads_them(tmp_path, engine):
    root = tmp_path / "work"
    root.mkdir()
    (root / ".gitignore").write_text(
        "# generated code\n**/generated/*.py\ndocs/**\n!docs/keep.md\na/**/deep.txt\n*.tmp\n"
    )
    kept = ["x/generated/g.txt", "docs/keep.md", "b/deep.txt", "src/f.tmp.py"]
    for rel in [
        "x/generated/g.py",
        "generated/h.py",
        "docs/a.md",
        "a/b/c/deep.txt",
        "a/deep.txt",
        "f.tmp",
        *kept,
    ]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("needle\n")
    assert sorted(m.split(":")[0] for m in matches(run(root, engine, "needle"))) == sorted(kept)


def test_glob_selects_and_excludes_files(tree, engine):
    out = run(tree, engine, "area", glob="*.go")
    assert {m.split(":")[0] for m in matches(out)} == {"src/shapes.go"}
    out = run(tree, engine, "area", glob="src/*.{c,cpp}")
    assert {m.split(":")[0] for m in matches(out)} == {"src/shapes.c", "src/shapes.cpp"}
    out = run(tree, engine, "area", glob="!*.{py,md}")
    files = {m.split(":")[0] for m in matches(out)}
    assert "src/shapes.py" not in files and "README.md" not in files
    assert len(files) == 7


def test_context_lines_and_groups(tmp_path, engine):
    root = tmp_path / "work"
    root.mkdir()
    (root / "a.txt").write_text("".join(f"line {n}\n" for n in range(1, 21)))
    out = run(root, engine, "^line (5|6|15)$", context=1)
    assert out.splitlines()[1:] == [
        "a.txt-4- line 4",
        "a.txt:5: line 5",
        "a.txt:6: line 6",
        "a.txt-7- line 7",
        "--",
        "a.txt-14- line 14",
        "a.txt:15: line 15",
        "a.txt-16- line 16",
    ]


def test_fixed_strings_take_metacharacters_literally(tmp_path, engine):
    root = tmp_path / "work"
    root.mkdir()
    (root / "a.py").write_text("x = items[0].get(key)*2\ny = items0Xget(key)2\n")
    out = run(root, engine, "items[0].get(key)*", fixed_strings=True)
    assert matches(out) == ["a.py:1"]
    assert matches(run(root, engine, r"items\[0\]\.get")) == ["a.py:1"]
    with pytest.raises(ToolError, match="fixed_strings=true"):
        run(root, engine, "get(key")


def test_the_cap_says_how_many_more(tmp_path, engine):
    root = tmp_path / "work"
    root.mkdir()
    (root / "a.txt").write_text("hit\n" * 30)
    (root / "b.txt").write_text("hit\n" * 5)
    out = run(root, engine, "hit", max_results=5)
    assert out.splitlines()[0].startswith("35 matching lines in 2 files")
    assert matches(out) == [f"a.txt:{n}" for n in range(1, 6)]
    assert "[30 more matches; narrow the pattern or the path" in out
    assert "no match for 'absent'" in run(root, engine, "absent")


def test_a_planted_symlink_cannot_lead_outside(tmp_path, engine):
    root = tmp_path / "work"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("s3cret\n")
    (root / "link.txt").symlink_to(outside / "secret.txt")
    (root / "linkdir").symlink_to(outside)
    (root / "mine.txt").write_text("nothing here\n")
    assert "no match" in run(root, engine, "s3cret")
    for path in ("link.txt", "linkdir", "../outside", str(outside)):
        with pytest.raises(ToolError, match="outside the work directory"):
            run(root, engine, "s3cret", path=path)
    with pytest.raises(ToolError, match="does not exist"):
        run(root, engine, "x", path="missing")


def test_a_folder_swapped_for_a_symlink_is_not_followed_by_the_fallback(tmp_path):
    """The host-side walk opens each folder from its parent without following symlinks."""
    root = tmp_path / "work"
    (root / "src").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("s3cret\n")
    real_walk = search_module.walk_files

    def swapping_walk(*args: Any, **kw: Any):  # swap src for a symlink once the check passed
        (root / "src").rmdir()
        (root / "src").symlink_to(outside)
        return real_walk(*args, **kw)

    search_module.walk_files = swapping_walk  # type: ignore[assignment]
    try:
        out = run(root, None, "s3cret", path="src")
    finally:
        search_module.walk_files = real_walk  # type: ignore[assignment]
    assert "no match" in out


def test_opensage_home_inside_the_work_dir_is_not_searched(tmp_path):
    root = tmp_path / "work"
    (root / "home").mkdir(parents=True)
    (root / "home" / "settings.toml").write_text("token = 'needle'\n")
    (root / "a.txt").write_text("needle\n")
    out = run(root, None, "needle", home=root / "home")
    assert matches(out) == ["a.txt:1"]
    with pytest.raises(ToolError, match="OpenSage's home"):
        run(root, None, "needle", path="home", home=root / "home")


class NoRipgrep:
    """The bwrap sandbox with nothing on PATH: as a container image without ripgrep."""

    name = "bwrap"

    def __init__(self, inner: Any):
        self.inner = inner

    async def exec(self, cmd: Any, **kw: Any) -> Any:
        return await self.inner.exec(cmd, **kw, env={"PATH": "/nonexistent"})


def test_falls_back_to_python_where_the_sandbox_has_no_ripgrep(tree, bwrap):
    out = run(tree, NoRipgrep(bwrap), "area in a string")
    assert "(Python fallback: ripgrep is not available in the sandbox)" in out.splitlines()[0]
    assert len(matches(out)) == 8


def test_long_lines_are_cut_around_the_match(tmp_path, engine):
    root = tmp_path / "work"
    root.mkdir()
    (root / "min.js").write_text("a" * 5000 + "needle" + "b" * 5000 + "\n")
    out = run(root, engine, "needle")
    line = out.splitlines()[1]
    assert "needle" in line and len(line) < 400 and "line of 10006 characters cut" in line


@pytest.mark.slow
def test_search_in_the_container_backend(container, tree):
    out = run(tree, container, r"\barea\(")
    assert len(matches(out)) == 16, out
    assert matches(out) == matches(run(tree, None, r"\barea\("))


def test_non_utf8_and_odd_names(tmp_path, engine):
    root = tmp_path / "work"
    root.mkdir()
    (root / "caf\u00e9 file.txt").write_text("needle caf\u00e9\n")
    (root / "latin1.txt").write_bytes(b"needle \xe9t\xe9\n")
    os.mkfifo(root / "pipe")  # never opened (it would block)
    out = run(root, engine, "needle")
    assert sorted(matches(out)) == ["caf\u00e9 file.txt:1", "latin1.txt:1"]
