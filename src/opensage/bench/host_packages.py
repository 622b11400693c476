"""Whether the host already has what a Dockerfile's RUN line installs.

Most RUN lines of terminal tasks install packages: `apt-get install -y git curl`, `pip install
pytest`. When bwrap stands in for the task's image, the host's system is the base, so such a
line needs no build if every package it names is already on the host (Debian's, by
dpkg-query; Python's, in the Python the sandbox's commands run). `satisfied` reads one RUN
line and says what the host has, or None when anything in it is more than that (a package the
host lacks, a pinned version it does not have, any other command): then the task is built in
the container backend as before.
"""

from __future__ import annotations

import importlib.metadata
import shlex
import shutil
import subprocess

# Removing these only cleans caches (apt's lists, pip's downloads): nothing for the host to do.
CACHES = ("/var/lib/apt/lists", "/var/cache/apt", "/root/.cache/pip")
SEPARATORS = {"&&", ";"}


def satisfied(line: str) -> str | None:
    """What the host has that this RUN line (shell form) would install, or None."""
    try:
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|<>()")
        lexer.whitespace_split = True
        words = list(lexer)
    except ValueError:
        return None
    found: list[str] = []
    command: list[str] = []
    for word in [*words, "&&"]:
        if word not in SEPARATORS:
            command.append(word)
            continue
        if not command:
            continue
        have = _command(command)
        if have is None:
            return None
        found += have
        command = []
    return f"the host has {', '.join(found)}" if found else "nothing to install"


def _command(words: list[str]) -> list[str] | None:
    """The packages one command installs, all on the host; [] for housekeeping; else None."""
    while words and _assignment(words[0]):  # DEBIAN_FRONTEND=noninteractive apt-get ...
        words = words[1:]
    if words[:1] == ["export"] and all(_assignment(w) for w in words[1:]):
        return []
    if words[:1] == ["rm"] and all(w.startswith("-") or _cache(w) for w in words[1:]):
        return []
    if words[:1] in (["apt-get"], ["apt"]):
        rest = [w for w in words[1:] if not w.startswith("-")]  # -y, -qq, --no-install-...
        if rest[:1] in (["update"], ["clean"], ["autoclean"], ["autoremove"]) and len(rest) == 1:
            return []
        if rest[:1] == ["install"]:
            return _all([_debian(w) for w in rest[1:]])
        return None
    if words[:2] in (["pip", "install"], ["pip3", "install"]):
        return _pip(words[2:])
    if words[:1] in (["python"], ["python3"]) and words[1:4] == ["-m", "pip", "install"]:
        return _pip(words[4:])
    return None


def _pip(args: list[str]) -> list[str] | None:
    harmless = {"--no-cache-dir", "-q", "--quiet", "-U", "--upgrade", "--break-system-packages"}
    if any(a.startswith("-") and a not in harmless for a in args):
        return None  # -r FILE, -e PATH, --index-url...: more than naming packages
    return _all([_python(a) for a in args if not a.startswith("-")])


def _all(found: list[str | None]) -> list[str] | None:
    if not found or any(f is None for f in found):
        return None
    return [f for f in found if f is not None]


def _debian(spec: str) -> str | None:
    name, _, version = spec.partition("=")
    if shutil.which("dpkg-query") is None:
        return None
    shown = subprocess.run(
        ["dpkg-query", "-W", "-f=${db:Status-Status} ${Version}", name],
        capture_output=True,
        text=True,
        check=False,
    )
    status, _, installed = shown.stdout.strip().partition(" ")
    if shown.returncode != 0 or status != "installed":
        return None
    if version and installed != version:
        return None
    return f"{name} {installed} (Debian)"


def _python(spec: str) -> str | None:
    """`name` or `name==version`; any other specifier is left to a real build."""
    name, eq, version = spec.partition("==")
    if any(c in name for c in "<>=!~[;@ ") or (eq and not version):
        return None
    try:
        installed = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None
    if version and installed != version:
        return None
    return f"{name} {installed} (Python)"


def _assignment(word: str) -> bool:
    key, eq, _ = word.partition("=")
    return bool(eq) and key.isidentifier()


def _cache(path: str) -> bool:
    return any(path == c or path.startswith(c + "/") for c in CACHES)
