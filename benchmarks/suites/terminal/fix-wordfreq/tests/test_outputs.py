"""Checks of /app/wordfreq.py on texts it has not seen, against the README's rules."""

import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).parent / "data"
SCRIPT = "/app/wordfreq.py"


def run(*args, stdin=None):
    result = subprocess.run([sys.executable, SCRIPT, *args], input=stdin, capture_output=True,
                            timeout=30)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout.decode("utf-8")


def expected(name):
    return (DATA / f"{name}.expected").read_text(encoding="utf-8")


def test_release_notes():
    assert run(str(DATA / "release-notes.txt"), "-n", "8") == expected("release-notes")


def test_accents_and_apostrophes():
    assert run(str(DATA / "poeme.txt"), "-n", "8") == expected("poeme")


def test_ties_in_alphabetical_order():
    assert run(str(DATA / "ties.txt"), "-n", "8") == expected("ties")


def test_standard_input_and_default_count():
    text = (DATA / "release-notes.txt").read_bytes()
    out = run("-", stdin=text)
    assert len(out.splitlines()) == 10
    assert out.startswith(expected("release-notes"))
