"""Checks of the release branch and tag pushed to /app/project.git."""

import os
import subprocess
import sys
import tempfile

REPO = "/app/project.git"
MAIN = "e1e35b1263789135910dd5e98760c34859f3d7ae"
V100 = "3663e754df0c940c276212d0286a6e02a008bc09"
FIXES = ["fix: handle empty input in parse()", "fix: off-by-one in paginate()",
         "fix: strip a byte order mark from input"]
ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}


def git(*args, cwd=REPO, check=True):
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=ENV,
                            timeout=60)
    if check:
        assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout.strip()


def release():
    found = git("rev-parse", "--verify", "-q", "refs/heads/release/1.0.x^{commit}",
                check=False)
    assert found, "no branch release/1.0.x in /app/project.git"
    return found


def test_main_and_v100_unchanged():
    assert git("rev-parse", "refs/heads/main") == MAIN
    assert git("rev-parse", "v1.0.0^{commit}") == V100


def test_branch_has_the_fixes_in_order():
    tip = release()
    ancestor = subprocess.run(["git", "merge-base", "--is-ancestor", V100, tip], cwd=REPO,
                              env=ENV, timeout=60)
    assert ancestor.returncode == 0, "release/1.0.x does not start at v1.0.0"
    subjects = git("log", "--reverse", "--format=%s", f"{V100}..{tip}").splitlines()
    assert subjects == [*FIXES, "Release 1.0.1"]
    merges = git("rev-list", "--merges", f"{V100}..{tip}")
    assert merges == "", "no merge commits: the fixes are cherry-picked"


def test_nothing_else_from_main():
    tip = release()
    files = git("ls-tree", "-r", "--name-only", tip).splitlines()
    assert "textstat/export.py" not in files, "the CSV export feature came along"
    assert "tests/test_export.py" not in files
    for path in ("textstat/cli.py", "README.md"):
        assert git("show", f"{tip}:{path}") == git("show", f"{V100}:{path}"), \
            f"{path} must be as in 1.0.0"
    util = git("show", f"{tip}:textstat/util.py")
    assert "def strip_comments(" in util and "drop_comments" not in util, \
        "the renaming is not part of 1.0.1"


def test_release_commit():
    tip = release()
    changed = git("diff", "--name-only", f"{tip}~1", tip).splitlines()
    assert changed == ["textstat/__init__.py"]
    assert git("show", f"{tip}:textstat/__init__.py") == '__version__ = "1.0.1"'


def test_annotated_tag():
    tip = release()
    assert git("cat-file", "-t", "refs/tags/v1.0.1", check=False) == "tag", \
        "v1.0.1 must be an annotated tag"
    assert git("rev-parse", "v1.0.1^{commit}") == tip


def test_fixes_work_and_tests_pass():
    tip = release()
    with tempfile.TemporaryDirectory() as tmp:
        git("clone", "-q", REPO, tmp, cwd="/")
        git("checkout", "-q", tip, cwd=tmp)
        run = subprocess.run([sys.executable, "-m", "unittest", "-q"], cwd=tmp,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        probe = ("from textstat.parser import parse\n"
                 "from textstat.pager import paginate\n"
                 "assert parse('') == []\n"
                 "assert parse('\\ufeff# note\\nx y\\n') == [['x', 'y']]\n"
                 "assert parse('\\ufeffa\\n') == [['a']]\n"
                 "assert paginate(list(range(7)), 3, 1) == [0, 1, 2]\n"
                 "assert paginate(list(range(7)), 3, 3) == [6]\n")
        run = subprocess.run([sys.executable, "-c", probe], cwd=tmp, capture_output=True,
                             text=True, timeout=60)
        assert run.returncode == 0, run.stderr
