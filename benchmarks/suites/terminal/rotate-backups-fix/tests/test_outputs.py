"""Checks of /app/rotate-backups.sh on fresh backup folders."""

import os
import subprocess
import tempfile
from pathlib import Path

SCRIPT = "/app/rotate-backups.sh"


def make(folder, names, newest_mtime_first=False):
    """Files with those names; by default the oldest date gets the newest mtime, so that a
    script ordering by modification time gets it backwards."""
    folder.mkdir(parents=True, exist_ok=True)
    ordered = sorted(names)
    for i, name in enumerate(ordered):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)
        stamp = 1_700_000_000 + (i if newest_mtime_first else len(ordered) - i) * 3600
        os.utime(path, (stamp, stamp))


def rotate(folder, keep):
    return subprocess.run(["bash", SCRIPT, str(folder), str(keep)], capture_output=True,
                          text=True, timeout=30)


def left(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def removed(result):
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert all(line.startswith("removed ") for line in lines), result.stdout
    return sorted(line[len("removed "):] for line in lines)


def test_newest_by_date_in_name():
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "b"
        make(folder, [f"db-2024-0{m}-01.tar.gz" for m in range(1, 6)])
        result = rotate(folder, 2)
        assert result.returncode == 0, result.stderr
        assert left(folder) == ["db-2024-04-01.tar.gz", "db-2024-05-01.tar.gz"]
        assert removed(result) == ["db-2024-01-01.tar.gz", "db-2024-02-01.tar.gz",
                                   "db-2024-03-01.tar.gz"]


def test_series_with_dashes_and_spaces():
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "nightly backups"
        make(folder, ["db-2023-12-30.tar.gz", "db-2023-12-31.tar.gz", "db-2024-01-01.tar.gz",
                      "db-archive-2023-11-30.tar.gz", "db-archive-2023-12-31.tar.gz",
                      "media files-2024-01-01.tar.gz", "media files-2024-01-02.tar.gz",
                      "media files-2024-01-03.tar.gz"])
        result = rotate(folder, 1)
        assert result.returncode == 0, result.stderr
        assert left(folder) == ["db-2024-01-01.tar.gz", "db-archive-2023-12-31.tar.gz",
                                "media files-2024-01-03.tar.gz"]
        assert removed(result) == ["db-2023-12-30.tar.gz", "db-2023-12-31.tar.gz",
                                   "db-archive-2023-11-30.tar.gz",
                                   "media files-2024-01-01.tar.gz",
                                   "media files-2024-01-02.tar.gz"]


def test_other_files_are_never_touched():
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "b"
        others = ["notes.txt", "db-latest.tar.gz", "db-2024-01-01.tar", "old/db-2020-01-01.tar.gz",
                  "db-2024-01-01.tar.gz.part"]
        make(folder, ["db-2024-01-01.tar.gz", "db-2024-01-02.tar.gz", *others])
        result = rotate(folder, 1)
        assert result.returncode == 0, result.stderr
        assert left(folder) == sorted(["db-2024-01-02.tar.gz", *others])
        assert removed(result) == ["db-2024-01-01.tar.gz"]


def test_keep_more_than_there_are():
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "b"
        make(folder, ["web-2024-02-01.tar.gz", "web-2024-02-02.tar.gz"], newest_mtime_first=True)
        result = rotate(folder, 10)
        assert result.returncode == 0, result.stderr
        assert left(folder) == ["web-2024-02-01.tar.gz", "web-2024-02-02.tar.gz"]
        assert removed(result) == []


def test_bad_arguments_delete_nothing():
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "b"
        names = [f"db-2024-01-0{d}.tar.gz" for d in range(1, 4)]
        make(folder, names)
        for args in (["0"], ["-1"], ["two"], ["1.5"], [], ["1", "extra"]):
            result = subprocess.run(["bash", SCRIPT, str(folder), *args], capture_output=True,
                                    text=True, timeout=30)
            assert result.returncode == 2, (args, result.returncode)
            assert result.stderr.strip(), f"no usage message for {args}"
            assert left(folder) == names, f"files deleted with {args}"
        result = rotate(Path(tmp) / "missing", 1)
        assert result.returncode == 2 and result.stderr.strip()
