"""Reading a terminal task's Dockerfile: what the task's environment is, and whether bwrap can
stand in for it.

A Dockerfile that only names its base (FROM), its folders and files (WORKDIR, COPY) and its
variables (ENV), with metadata (LABEL, EXPOSE, CMD, ENTRYPOINT, MAINTAINER), runs in bwrap:
the host's system stands in for the base image, the work dir is bound at WORKDIR, the copied
files are laid out on the host and bound where they go, and ENV is every command's
environment. A RUN line that only installs packages the host already has (`host_packages`) is
satisfied too. Anything else (other RUN lines, ADD, ARG, USER, a multi-stage build, COPY
--from) needs a real build, in the container backend; `Plan.needs_build` says why.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from opensage.bench import host_packages
from opensage.bench.tasks import MalformedTask

METADATA = {"LABEL", "EXPOSE", "CMD", "ENTRYPOINT", "MAINTAINER", "STOPSIGNAL", "HEALTHCHECK"}
KNOWN = METADATA | {
    "FROM",
    "WORKDIR",
    "COPY",
    "ENV",
    "RUN",
    "ADD",
    "ARG",
    "USER",
    "VOLUME",
    "SHELL",
    "ONBUILD",
}
DEFAULT_WORKDIR = "/app"  # Terminal-Bench's convention, where a Dockerfile sets none
VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


@dataclass
class Copy:
    sources: list[str]  # relative to the build context (environment/)
    dest: str  # absolute


@dataclass
class Plan:
    base: str
    workdir: str = DEFAULT_WORKDIR
    env: dict[str, str] = field(default_factory=dict)
    copies: list[Copy] = field(default_factory=list)
    needs_build: list[str] = field(default_factory=list)  # why bwrap cannot stand in
    satisfied: list[str] = field(default_factory=list)  # RUN lines the host already satisfies
    workdir_given: bool = False


def instructions(text: str) -> list[tuple[int, str, str]]:
    """(line number, KEYWORD, arguments) for each instruction, continuation lines joined and
    comments dropped."""
    found: list[tuple[int, str, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if not pending:
            start = number
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        pending.append(line)
        whole = " ".join(p.strip() for p in pending).strip()
        pending = []
        keyword, _, args = whole.partition(" ")
        found.append((start, keyword.upper(), args.strip()))
    if pending:
        found.append((start, " ".join(pending).partition(" ")[0].upper(), ""))
    return found


def plan(text: str, path: Path, name: str = "environment/Dockerfile") -> Plan:
    """What the Dockerfile makes (`path` is the task's folder, for errors)."""
    steps = instructions(text)
    if not steps or steps[0][1] not in ("FROM", "ARG"):
        raise MalformedTask(path, name, "does not start with FROM")
    result: Plan | None = None
    for line, keyword, args in steps:
        where = f"line {line}: {keyword}"
        if keyword not in KNOWN:
            raise MalformedTask(path, name, f"{where} is not a Dockerfile instruction")
        if keyword == "FROM":
            if result is not None:
                result.needs_build.append(f"{where}: a multi-stage build")
                continue
            image = next((b for b in args.split() if not b.startswith("--")), None)
            if image is None:
                raise MalformedTask(path, name, f"{where} names no image")
            result = Plan(base=image)
            continue
        if result is None:
            result = Plan(base="")
            result.needs_build.append(f"{where} before FROM")
            continue
        if not args and keyword not in METADATA:
            raise MalformedTask(path, name, f"{where} has no arguments")
        if keyword == "WORKDIR":
            result.workdir = _absolute(_expand(args, result.env), result.workdir)
            result.workdir_given = True
        elif keyword == "ENV":
            result.env.update(_env(args, result.env, path, name, where))
        elif keyword == "COPY":
            copy = _copy(args, result, path, name, where)
            if copy is not None:
                result.copies.append(copy)
        elif keyword == "RUN" and not args.startswith("["):
            have = host_packages.satisfied(_expand(args, result.env))
            if have is None:
                result.needs_build.append(f"{where}")
            else:
                result.satisfied.append(f"{where} {args}: {have}")
        elif keyword not in METADATA:
            result.needs_build.append(f"{where}")
    assert result is not None
    return result


def _expand(text: str, env: dict[str, str]) -> str:
    return VARIABLE.sub(lambda m: env.get(m[1] or m[2], ""), text)


def _absolute(path: str, workdir: str) -> str:
    joined = PurePosixPath(workdir) / path
    parts: list[str] = []
    for part in joined.parts[1:]:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return "/" + "/".join(parts)


def _env(args: str, env: dict[str, str], path: Path, name: str, where: str) -> dict[str, str]:
    try:
        words = shlex.split(args, posix=True)
    except ValueError as exc:
        raise MalformedTask(path, name, f"{where}: {exc}") from None
    if words and "=" not in words[0]:  # the old form: ENV KEY the rest of the line
        key, _, value = args.partition(" ")
        return {key: _expand(value.strip(), env)}
    values: dict[str, str] = {}
    for word in words:
        key, eq, value = word.partition("=")
        if not eq or not key:
            raise MalformedTask(path, name, f"{where}: {word!r} is not KEY=value")
        values[key] = _expand(value, {**env, **values})
    return values


def _copy(args: str, result: Plan, task: Path, name: str, where: str) -> Copy | None:
    words: list[str]
    if args.startswith("["):
        try:
            words = json.loads(args)
        except ValueError:
            raise MalformedTask(task, name, f"{where}: its JSON form does not parse") from None
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise MalformedTask(task, name, f"{where}: its JSON form must be a list of strings")
    else:
        words = args.split()
    flags = [w for w in words if w.startswith("--")]
    words = [w for w in words if not w.startswith("--")]
    if any(f.startswith("--from") for f in flags):
        result.needs_build.append(f"{where} --from (another stage or image)")
        return None
    if len(words) < 2:
        raise MalformedTask(task, name, f"{where} needs a source and a destination")
    sources = [_expand(s, result.env) for s in words[:-1]]
    for source in sources:
        if source.startswith("/") or ".." in PurePosixPath(source).parts:
            raise MalformedTask(
                task,
                name,
                f"{where}: the source {source!r} is outside the build context (environment/)",
            )
    dest = _expand(words[-1], result.env)
    absolute = _absolute(dest, result.workdir)
    if dest.endswith("/") and absolute != "/":
        absolute += "/"  # a folder: the sources go into it
    return Copy(sources, absolute)
