"""Running model-written tool code: always in the sandbox, never in this process.

The code goes to a small harness over stdin (no files to place), which runs `main(**args)` (or a
list of tests, or an import check) and prints its JSON result after a random marker line, so the
tool's own prints stay apart from it. Anything that kills the harness (a limit, the timeout, a
crash) is reported from the sandbox's result instead.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opensage.sandbox.base import ExecResult, Sandbox, SandboxLimits

# Imports are kept to json and sys until needed: each costs startup time on every call.
HARNESS = r'''
import json, sys
request = json.loads(sys.stdin.read())
mark = request["mark"]

def emit(result):
    sys.stdout.write("\n" + mark + json.dumps(result, default=repr) + "\n")
    sys.stdout.flush()

def trace(limit=-8):
    import linecache, traceback
    code = request.get("code", "")  # so that the traceback shows the tool's source lines
    linecache.cache["tool.py"] = (len(code), None, code.splitlines(True), "tool.py")
    return traceback.format_exc(limit=limit)

if request["mode"] == "imports":
    import importlib.util
    emit({"missing": [m for m in request["modules"] if importlib.util.find_spec(m) is None]})
    sys.exit(0)
space = {"__name__": "synthesized_tool"}
try:
    exec(compile(request["code"], "tool.py", "exec"), space)
    main = space["main"]
except BaseException:
    emit({"ok": False, "error": "the code failed to load:\n" + trace()})
    sys.exit(0)

def call(args):
    try:
        value = main(**args)
        if type(value).__name__ == "coroutine":  # an async main
            import asyncio
            value = asyncio.run(value)
        json.dumps(value)
        return {"ok": True, "value": value}
    except TypeError as exc:
        if "not JSON serializable" in str(exc):
            return {"ok": True, "value": repr(value)}
        return {"ok": False, "error": trace()}
    except BaseException:
        return {"ok": False, "error": trace()}

if request["mode"] == "call":
    emit(call(request["args"]))
    sys.exit(0)
report = []
for test in request["tests"]:
    outcome = call(test.get("args", {}))
    entry = {"args": test.get("args", {}), "passed": outcome["ok"]}
    if not outcome["ok"]:
        entry["error"] = outcome["error"]
    elif "expect" in test:
        entry["passed"] = outcome["value"] == test["expect"]
        if not entry["passed"]:
            entry["error"] = f"expected {test['expect']!r}, got {outcome['value']!r}"
    elif "check" in test:
        try:
            entry["passed"] = bool(eval(test["check"], {"result": outcome["value"]}))
            if not entry["passed"]:
                entry["error"] = f"check {test['check']!r} is false for {outcome['value']!r}"
        except BaseException:
            entry["passed"] = False
            entry["error"] = "the check failed:\n" + trace(-3)
    report.append(entry)
emit({"tests": report})
'''


@dataclass
class HarnessResult:
    ok: bool
    data: dict[str, Any]  # the harness's JSON result, or {"error": ...} when it was killed
    output: str  # what the code itself printed
    duration_s: float


class ToolRunner:
    """Runs synthesized code in a sandbox opened on first use."""

    def __init__(self, open_sandbox: Callable[[], Sandbox], workdir: Path,
                 limits: SandboxLimits, timeout_s: float = 60.0):
        self.open_sandbox = open_sandbox
        self.workdir = workdir
        self.limits = limits
        self.timeout_s = timeout_s
        self._sandbox: Sandbox | None = None

    async def call(self, code: str, args: dict[str, Any],
                   timeout_s: float | None = None) -> HarnessResult:
        return await self._run({"mode": "call", "code": code, "args": args}, timeout_s)

    async def test(self, code: str, tests: list[dict[str, Any]]) -> HarnessResult:
        return await self._run({"mode": "test", "code": code, "tests": tests},
                               self.timeout_s * max(1, len(tests)))

    async def missing_modules(self, modules: list[str]) -> list[str]:
        if not modules:
            return []
        result = await self._run({"mode": "imports", "modules": modules}, self.timeout_s)
        return list(result.data.get("missing", [])) if result.ok else modules

    async def _run(self, request: dict[str, Any], timeout_s: float | None) -> HarnessResult:
        if self._sandbox is None:
            self._sandbox = self.open_sandbox()
        mark = f"@@opensage-result-{secrets.token_hex(8)}@@"
        timeout = timeout_s or self.timeout_s
        done = await self._sandbox.exec(["python3", "-c", HARNESS], workdir=self.workdir,
                                        timeout_s=timeout, limits=self.limits,
                                        stdin=json.dumps({**request, "mark": mark}))
        return _parse(done, mark, timeout)


def _parse(done: ExecResult, mark: str, timeout_s: float) -> HarnessResult:
    output, found, payload = done.stdout.rpartition("\n" + mark)
    if found:
        data = json.loads(payload)
        return HarnessResult(ok=data.get("ok", True), data=data, output=output,
                             duration_s=done.duration_s)
    if done.timed_out:
        why = f"it ran past its {timeout_s:g} s timeout and was killed"
    elif done.limit:
        why = f"it was stopped by the sandbox's {done.limit} limit"
    else:
        why = f"the process ended with exit code {done.exit_code}"
    error = f"{why}.\n{done.stderr[-2000:]}".rstrip()
    return HarnessResult(ok=False, data={"error": error}, output=done.stdout,
                         duration_s=done.duration_s)
