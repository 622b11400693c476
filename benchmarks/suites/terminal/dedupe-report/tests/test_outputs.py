"""Checks of /app/duplicates.json (groups of files with the same content)."""

import hashlib
import json
import os
from pathlib import Path

REPORT = Path("/app/duplicates.json")
DATA = Path("/app/data")
GROUPS = [
    ["docs/cv.md", "docs/old/cv.md"],
    ["docs/tax returns/2023 (1).csv", "docs/tax returns/2023.csv"],
    ["music/playlist-backup.m3u", "music/playlist.m3u"],
    ["photos/2023/beach.txt", "photos/2024/IMG_0001.txt", "photos/2024/beach copy.txt"],
]
WASTED_BYTES = 8517
# Every file of /app/data: its SHA-256, or "-> target" for a symbolic link.
TREE = {
    "README.txt": "ffdfbd52a52446bbb8c550b3dfe000137102c8b2dedc1823ccd732f5370c5747",
    "docs/cv.md": "ee96833fc6ba628b7b2759c811297ff11b1f234f943017420399039cd6467b73",
    "docs/notes-edited.txt": "9324c4d00170f7b9576ae65b87d951f619c0f39e89d5eaa341bf00ee8f69566d",
    "docs/notes.txt": "68d887802df8a10369ac8a1e9c7c0a453f53dfa4e912ba00f106f1843324e8c8",
    "docs/old/.keep": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "docs/old/cv-2022.md": "eb2eff8f901542daab5f592ff717ce7d44ff4d6622db98e718543f4119312406",
    "docs/old/cv.md": "ee96833fc6ba628b7b2759c811297ff11b1f234f943017420399039cd6467b73",
    "docs/tax returns/2023 (1).csv":
        "1dda220a574b2bb54da4eb6e6176eea53164b1a75274d58deef571a82b23433e",
    "docs/tax returns/2023.csv": "1dda220a574b2bb54da4eb6e6176eea53164b1a75274d58deef571a82b23433e",
    "docs/todo.txt": "320de87948724ecefdd7fa01b214b2b2c1ac0101c172cdb5d09f2b9ee70dfdaf",
    "inbox/.keep": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "music/.keep": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "music/latest.m3u": "-> playlist.m3u",
    "music/mix.m3u": "261a7ee7a57556f2ec17f43443cbadec61f589800fd1895221a01d2106eb9b6e",
    "music/playlist-backup.m3u": "fb8c66732397c84331e7260aae4df203a3bc4069594bc9d4e667d7c8edf568b9",
    "music/playlist.m3u": "fb8c66732397c84331e7260aae4df203a3bc4069594bc9d4e667d7c8edf568b9",
    "photos/2023/beach.txt": "b260f6acf164566f61764e8f4d8e89ff5f7dddd6af678ec5567ec4fae8234de0",
    "photos/2023/sunset.txt": "7a2e54bb2b64e7552ff0230b0ad0cd569e374b6bbe685c77a742ffa473ec1cc9",
    "photos/2024/IMG_0001.txt": "b260f6acf164566f61764e8f4d8e89ff5f7dddd6af678ec5567ec4fae8234de0",
    "photos/2024/beach copy.txt":
        "b260f6acf164566f61764e8f4d8e89ff5f7dddd6af678ec5567ec4fae8234de0",
    "photos/2024/sunset.txt": "a160816e7f62d527a4573d90a9492e150ff7943fc53238b28c8b71949921eb71",
}


def report():
    assert REPORT.is_file(), "/app/duplicates.json was not written"
    data = json.loads(REPORT.read_text())
    assert isinstance(data, dict) and set(data) >= {"groups", "wasted_bytes"}
    return data


def test_groups_found():
    groups = report()["groups"]
    found = {frozenset(g) for g in groups}
    for group in GROUPS:
        assert frozenset(group) in found, f"missing or incomplete group {group}"
    for group in groups:
        assert not any(".keep" in path for path in group), "empty files are not duplicates"
        assert "music/latest.m3u" not in group, "symbolic links are not reported"
    assert len(groups) == len(GROUPS), "a group of files that are not duplicates"


def test_groups_sorted():
    assert report()["groups"] == GROUPS


def test_wasted_bytes():
    assert report()["wasted_bytes"] == WASTED_BYTES


def test_data_left_unchanged():
    found = {}
    for folder, _, files in os.walk(DATA):
        for name in files:
            path = Path(folder) / name
            rel = str(path.relative_to(DATA))
            found[rel] = f"-> {os.readlink(path)}" if path.is_symlink() else \
                hashlib.sha256(path.read_bytes()).hexdigest()
    assert found == TREE
