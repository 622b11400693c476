"""The kit's one .gitignore matcher against git itself: on a tree with tricky patterns, what the
walk (search's fallback, symbols, references) keeps must be what `git ls-files --others
--exclude-standard` lists, and what the view's lookup says of each path must be what
`git check-ignore` says, both run in the bwrap sandbox."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from opensage.kits.swe.edit import Editor
from opensage.kits.swe.ignore import GIT_IGNORE_FILES, Ignores, walk_files
from opensage.kits.swe.workspace import Workspace
from opensage.sandbox import Sandbox

ROOT_IGNORE = (
    r"""# a comment
docs/**
!docs/keep.md
*.log
!important.log
/build
out/
**/cache
a/**/b.txt
foo/*
\#hash.txt
\!bang.txt
"""
    + "trail\\ \n"
    + r"""[abc].dat
[!x]y.bin
doc/*.txt
*.py[co]
logs/
!logs/keep/
deep/**/*.tmp
/top/*
!/top/kept
"""
)
SUB_IGNORE = "/local.txt\nsubonly*\n!subonly-keep\n"
WHITELIST = "*\n!*/\n!*.py\n"  # ignore everything but Python files, at any depth
EXCLUDE = "excluded-by-info.txt\n"
FILES = [
    "docs/keep.md",
    "docs/other.md",
    "docs/sub/keep.md",
    "x.log",
    "important.log",
    "sub/x.log",
    "build/a.c",
    "sub/build/a.c",
    "out/o.txt",
    "sub/out/o.txt",
    "cache/c",
    "sub/cache/c",
    "a/b.txt",
    "a/x/y/b.txt",
    "foo/x",
    "foo/y/z",
    "#hash.txt",
    "!bang.txt",
    "trail ",
    "trail",
    "a.dat",
    "d.dat",
    "xy.bin",
    "zy.bin",
    "doc/a.txt",
    "doc/sub/a.txt",
    "m.pyc",
    "m.py",
    "logs/keep/k.txt",
    "logs/l.txt",
    "deep/a.tmp",
    "deep/x/y/a.tmp",
    "sub/local.txt",
    "local.txt",
    "sub/subonly1",
    "sub/subonly-keep",
    "sub/deeper/local.txt",
    "top/kept",
    "top/gone",
    "wl/a.py",
    "wl/a.txt",
    "wl/in/b.py",
    "wl/in/b.md",
    "excluded-by-info.txt",
    "plain.txt",
]
IGNORE_FILES = {".gitignore", "sub/.gitignore", "wl/.gitignore"}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    for name in FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x\n")
    (root / ".gitignore").write_text(ROOT_IGNORE)
    (root / "sub" / ".gitignore").write_text(SUB_IGNORE)
    (root / "wl" / ".gitignore").write_text(WHITELIST)
    return root


def git(sandbox: Sandbox, root: Path, script: str, stdin: str = "") -> str:
    """git in the sandbox, in a repository made for the test (with the info/exclude file)."""
    result = asyncio.run(
        sandbox.exec(
            "git init -q . && printf '%s' \"$EXCLUDE\" > .git/info/exclude && " + script,
            workdir=root,
            env={"EXCLUDE": EXCLUDE},
            timeout_s=60,
            stdin=stdin or None,
        )
    )
    assert result.exit_code in (0, 1), result.stderr  # check-ignore: 1 when none is ignored
    return result.stdout


def entries(root: Path) -> list[tuple[str, bool]]:
    """Every file and folder of the tree but .git, as (relative path, is a folder)."""
    return sorted(
        (p.relative_to(root).as_posix(), p.is_dir())
        for p in root.rglob("*")
        if ".git" not in p.relative_to(root).parts
    )


def test_the_walk_keeps_what_git_lists_as_not_ignored(bwrap, tree):
    listed = set(git(bwrap, tree, "git ls-files --others --exclude-standard").splitlines())
    walked = {f.rel for f in walk_files(tree, tree)}
    assert walked == listed - IGNORE_FILES  # the walk skips hidden files, .gitignore too
    # The cases a plainer matcher gets wrong are among them:
    assert {"docs/keep.md", "sub/subonly-keep", "top/kept", "trail", "wl/in/b.py"} <= walked
    assert not walked & {
        "docs/sub/keep.md",
        "logs/keep/k.txt",
        "trail ",
        "wl/in/b.md",
        "excluded-by-info.txt",
        "#hash.txt",
        "!bang.txt",
    }


def test_the_lookup_says_of_each_path_what_git_check_ignore_says(bwrap, tree):
    paths = entries(tree)
    said = set(
        git(
            bwrap, tree, "git check-ignore --stdin", "".join(f"{rel}\n" for rel, _ in paths)
        ).splitlines()
    )
    ignores = Ignores(tree, GIT_IGNORE_FILES)

    def ignored(rel: str, is_dir: bool) -> bool:  # git's answer counts the folders above
        parts = rel.split("/")
        return any(
            ignores.ignored("/".join(parts[:n]), True) for n in range(1, len(parts))
        ) or ignores.ignored(rel, is_dir)

    assert {rel for rel, is_dir in paths if ignored(rel, is_dir)} == said
    assert "docs/keep.md" not in said and "docs/sub" in said  # docs/** is not docs itself


def test_a_folder_view_leaves_out_what_git_ignores(tree):
    view = Editor(Workspace(tree)).view(".")
    shown = {line.rstrip("/") for line in view.splitlines()[1:]}
    assert {"docs", "docs/keep.md", "top/kept", "sub/subonly-keep", "wl/a.py"} <= shown
    assert not shown & {
        "docs/other.md",
        "docs/sub",
        "x.log",
        "build",
        "out",
        "top/gone",
        "wl/a.txt",
        "logs",
    }
