"""Running model-written tool code: always in the sandbox, never in this process.

Nothing inside a sandbox can be hidden from the code that runs there: its processes share one
user, and /proc reaches their memory and their pipes (the sandbox's own stdout among them). So
a sandbox running a tool only reports what the tool decides anyway, the values its `main`
returned and what it printed, and every verdict on a test is reached outside its reach: the
tests' expectations never enter its sandbox, an `expect` is compared in this process, and a
`check` (an expression the model wrote) runs in a sandbox of its own, where no tool code ran,
on the values as JSON.

In the tool's sandbox a harness forks before it reads its request. The child, the tool's
process, gets only the code and the arguments: it calls `main` once per set of arguments and
sends each outcome as a JSON line into a pipe, while what it prints goes into another. The
parent alone writes the report to the sandbox's stdout, after a random marker the child never
held, so nothing the tool prints can pass for a result. A report that is missing, doubled or
garbled, or a harness that did not end cleanly, is a failure, never a result.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opensage.sandbox.base import ExecResult, Sandbox, SandboxLimits

# Imports are kept few: each costs startup time on every call.
HARNESS = r'''
import json, os, select, sys

OUTPUT_KEPT = 4000  # bytes: the end of what the tool printed
TAMPERED = ("the tool's process wrote something other than its results into the harness's "
            "result pipe")


def read_all(fd):
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]


def call(main, args, trace):
    """One call of main, as a JSON line: its value, or the traceback."""
    try:
        value = main(**args)
        if type(value).__name__ == "coroutine":  # an async main
            import asyncio
            value = asyncio.run(value)
    except BaseException:
        return json.dumps({"ok": False, "error": trace()})
    try:
        return json.dumps({"ok": True, "value": value})
    except Exception:  # not JSON: its repr stands for it
        try:
            return json.dumps({"ok": True, "value": repr(value)})
        except BaseException:
            return json.dumps({"ok": False, "error": trace()})


def tool_process(request_r, result_w):
    """The forked child: loads the code and calls main once per set of arguments."""
    request = json.loads(read_all(request_r))
    code = request["code"]

    def trace(limit=-8):
        import linecache, traceback
        linecache.cache["tool.py"] = (len(code), None, code.splitlines(True), "tool.py")
        text = traceback.format_exc(limit=limit)
        return text if len(text) <= 8000 else text[:2000] + "\n[...]\n" + text[-6000:]

    sys.path.insert(0, os.getcwd())  # the tool imports from its work dir, as `python -c` would
    space = {"__name__": "synthesized_tool"}
    try:
        exec(compile(code, "tool.py", "exec"), space)
        main = space["main"]
    except BaseException:
        error = "the code failed to load:\n" + trace()
        write_all(result_w, (json.dumps({"ok": False, "load": True, "error": error}) + "\n")
                  .encode())
        return
    for args in request["calls"]:
        write_all(result_w, (call(main, args, trace) + "\n").encode())


class Received:
    """What the child sends: its outcome lines (one longer than `room` is kept as its size
    only, and lines past `count` are kept only to be noticed) and the end of its prints."""

    def __init__(self, result_r, out_r, room, count):
        self.result_r, self.out_r, self.room, self.count = result_r, out_r, room, count
        self.lines, self.part, self.size, self.printed = [], bytearray(), 0, bytearray()

    def take(self, fd):
        """Read once from fd; False at its end."""
        data = os.read(fd, 1 << 16)
        if not data:
            return False
        if fd == self.out_r:
            self.printed = (self.printed + data)[-OUTPUT_KEPT:]
            return True
        while data:
            head, newline, data = data.partition(b"\n")
            self.size += len(head)
            if self.size <= self.room:
                self.part += head
            if newline:
                if len(self.lines) <= self.count:
                    self.lines.append(bytes(self.part) if self.size <= self.room else self.size)
                self.part, self.size = bytearray(), 0
        return True


def collect(pid, received):
    """Take what the child sends until it ends; its wait status."""
    streams = [received.result_r, received.out_r]
    try:
        wake = [os.pidfd_open(pid)]  # readable when the child ends
    except (AttributeError, OSError):  # before Python 3.9 or Linux 5.3: poll instead
        wake = []
    while True:
        ready = select.select(streams + wake, [], [], None if wake else 0.05)[0]
        for fd in set(ready) & set(streams):
            if not received.take(fd):
                streams.remove(fd)
        ended, status = os.waitpid(pid, os.WNOHANG)
        if ended:
            break
    for fd in streams:  # what is already there: a process the tool left may hold the pipe
        os.set_blocking(fd, False)
        try:
            for _ in range(64):
                if not received.take(fd):
                    break
        except BlockingIOError:
            pass
    return status


def ending(status):
    """Why the tool's process ended without reporting every result."""
    import signal
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        limit = {signal.SIGXCPU: "cpu", signal.SIGXFSZ: "file_size"}.get(number)
        if limit:
            return f"it was stopped by the sandbox's {limit} limit"
        if number == signal.SIGKILL:
            return "it was killed by SIGKILL (a container's memory limit kills this way)"
        return f"it died of signal {number} ({signal.strsignal(number)})"
    return (f"its process ended (exit code {os.waitstatus_to_exitcode(status)}) before it "
            "reported every result")


def report(lines, status, count, room):
    """The parent's report on the child's outcome lines."""
    wrapper = len(json.dumps({"ok": True, "value": None})) - len("null")
    outcomes = []
    for line in lines:
        if isinstance(line, int):
            outcomes.append({"ok": False, "error": (
                f"the tool's result is too large ({line - wrapper} bytes; at most "
                f"{room - wrapper}): return less, or write it to a file in the work dir and "
                "return its path")})
            continue
        try:
            outcome = json.loads(line)
            valid = outcome["ok"] is True and "value" in outcome or (
                outcome["ok"] is False and isinstance(outcome["error"], str))
        except (ValueError, TypeError, KeyError):
            valid = False
        if not valid:
            return {"error": TAMPERED}
        if outcome.get("load") and len(lines) == 1:
            return {"error": outcome["error"]}
        outcomes.append({k: outcome[k] for k in ("ok", "value", "error") if k in outcome})
    if len(outcomes) > count:
        return {"error": TAMPERED}
    if len(outcomes) < count or status != 0:
        return {"error": ending(status) + ".", "died": True}
    return {"outcomes": outcomes}


def harness():
    request_r, request_w = os.pipe()
    result_r, result_w = os.pipe()
    out_r, out_w = os.pipe()
    pid = os.fork()  # before the request is read: the tool's process never holds the marker
    if pid == 0:
        try:
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(out_w, 1)
            for fd in (null, request_w, result_r, out_r, out_w):
                os.close(fd)
            tool_process(request_r, result_w)
        finally:
            try:
                sys.stdout.flush()
            finally:
                os._exit(0)
    for fd in (request_r, result_w, out_w):
        os.close(fd)
    request = json.loads(sys.stdin.buffer.read())
    try:
        write_all(request_w, json.dumps({"code": request["code"],
                                         "calls": request["calls"]}).encode())
    except BrokenPipeError:  # the child is gone: its status says why
        pass
    os.close(request_w)
    count, room = len(request["calls"]), request["room"]
    received = Received(result_r, out_r, room, count)
    status = collect(pid, received)
    result = report(received.lines, status, count, room)
    result["output"] = received.printed.decode(errors="replace")
    sys.stdout.write("\n" + request["mark"] + json.dumps(result) + "\n")


harness()
'''

IMPORTS = r"""
import importlib.util, json, os, sys
request = json.loads(sys.stdin.read())
sys.path.insert(0, os.getcwd())  # where the tool looks first
missing = [m for m in request["modules"]  # __main__ and the like are loaded, without a spec
           if m not in sys.modules and importlib.util.find_spec(m) is None]
sys.stdout.write("\n" + request["mark"] + json.dumps({"missing": missing}) + "\n")
"""

# No tool code ever ran in this process: only the checks and the values, as JSON.
CHECKS = r"""
import json, sys
request = json.loads(sys.stdin.read())
verdicts = []
for check, result in request["checks"]:
    try:
        verdicts.append({"passed": bool(eval(check, {"result": result}))})
    except BaseException:
        import traceback
        verdicts.append({"error": traceback.format_exc(limit=-3)[-4000:]})
sys.stdout.write("\n" + request["mark"] + json.dumps({"verdicts": verdicts}) + "\n")
"""

RESERVED = 32_000  # of the sandbox's kept stdout: the report's framing and the tool's prints
SHOWN = 500  # characters of a value quoted in a failed test's message


class HarnessError(Exception):
    """The harness could not do its work; the message says why."""


@dataclass
class HarnessResult:
    ok: bool
    data: dict[str, Any]  # {"value"}, {"tests"}, or {"error"}
    output: str  # the end of what the code itself printed
    duration_s: float


class ToolRunner:
    """Runs synthesized code in a sandbox opened on first use."""

    def __init__(
        self,
        open_sandbox: Callable[[], Sandbox],
        workdir: Path,
        limits: SandboxLimits,
        timeout_s: float = 60.0,
    ):
        self.open_sandbox = open_sandbox
        self.workdir = workdir
        self.limits = limits
        self.timeout_s = timeout_s
        self._sandbox: Sandbox | None = None

    async def call(
        self, code: str, args: dict[str, Any], timeout_s: float | None = None
    ) -> HarnessResult:
        ran = await self._run_tool(code, [args], timeout_s or self.timeout_s)
        if not ran.ok:
            return ran
        outcome = ran.data["outcomes"][0]
        return HarnessResult(
            ok=outcome["ok"], data=outcome, output=ran.output, duration_s=ran.duration_s
        )

    async def test(self, code: str, tests: list[dict[str, Any]]) -> HarnessResult:
        """Run the tests; whether each passed is decided here and in a sandbox of its own."""
        ran = await self._run_tool(
            code, [t.get("args", {}) for t in tests], self.timeout_s * max(1, len(tests))
        )
        if not ran.ok:
            return ran
        outcomes = ran.data["outcomes"]
        report = [_verdict(test, outcome) for test, outcome in zip(tests, outcomes, strict=True)]
        pending = [
            (entry, test["check"], outcome["value"])
            for entry, test, outcome in zip(report, tests, outcomes, strict=True)
            if "passed" not in entry
        ]
        duration = ran.duration_s
        if pending:
            verdicts, took = await self._checks([(check, value) for _, check, value in pending])
            duration += took
            for (entry, check, value), verdict in zip(pending, verdicts, strict=True):
                entry["passed"] = verdict.get("passed") is True
                if "error" in verdict:
                    entry["error"] = str(verdict["error"])
                elif not entry["passed"]:
                    entry["error"] = f"check {check!r} is false for {_shown(value)}"
        return HarnessResult(
            ok=True, data={"tests": report}, output=ran.output, duration_s=duration
        )

    async def missing_modules(self, modules: list[str]) -> list[str]:
        """The modules (top-level names) the sandbox cannot import."""
        if not modules:
            return []
        data, _ = await self._exec(IMPORTS, {"modules": modules}, self.timeout_s)
        if not isinstance(data.get("missing"), list):
            raise HarnessError(f"the import check could not run: {data.get('error', data)}")
        return [str(m) for m in data["missing"]]

    async def _run_tool(
        self, code: str, calls: list[dict[str, Any]], timeout_s: float
    ) -> HarnessResult:
        room = max(0, self.limits.output_bytes - min(RESERVED, self.limits.output_bytes // 2))
        data, done = await self._exec(
            HARNESS, {"code": code, "calls": calls, "room": room // max(1, len(calls))}, timeout_s
        )
        outcomes = data.get("outcomes")
        output = str(data.get("output", ""))
        if (
            isinstance(outcomes, list)
            and len(outcomes) == len(calls)
            and all(map(_is_outcome, outcomes))
        ):
            return HarnessResult(
                ok=True, data={"outcomes": outcomes}, output=output, duration_s=done.duration_s
            )
        error = str(data.get("error", "the harness sent a report without results"))
        if data.get("died") and done.stderr.strip():
            error += "\n" + done.stderr[-2000:].rstrip()
        return HarnessResult(
            ok=False, data={"error": error}, output=output, duration_s=done.duration_s
        )

    async def _checks(self, checks: list[tuple[str, Any]]) -> tuple[list[dict[str, Any]], float]:
        """Each check's verdict on its value: {"passed": bool}, or {"error": why}."""
        data, done = await self._exec(CHECKS, {"checks": checks}, self.timeout_s)
        verdicts = data.get("verdicts")
        if (
            isinstance(verdicts, list)
            and len(verdicts) == len(checks)
            and all(isinstance(v, dict) for v in verdicts)
        ):
            return verdicts, done.duration_s
        why = f"the check could not run: {data.get('error', 'its report was malformed')}"
        return [{"error": why} for _ in checks], done.duration_s

    async def _exec(
        self, script: str, request: dict[str, Any], timeout_s: float
    ) -> tuple[dict[str, Any], ExecResult]:
        if self._sandbox is None:
            self._sandbox = self.open_sandbox()
        mark = f"@@opensage-result-{secrets.token_hex(8)}@@"
        # -I: the interpreter ignores the work dir, where the model can write a json.py.
        done = await self._sandbox.exec(
            ["python3", "-I", "-c", script],
            workdir=self.workdir,
            timeout_s=timeout_s,
            limits=self.limits,
            stdin=json.dumps({**request, "mark": mark}),
        )
        return _read(done, mark, timeout_s), done


def _read(done: ExecResult, mark: str, timeout_s: float) -> dict[str, Any]:
    """The harness's report: the one line after the marker, from a harness that ended well;
    otherwise {"error": why}."""
    parts = done.stdout.split("\n" + mark)
    if done.timed_out:
        why = f"it ran past its {timeout_s:g} s timeout and was killed"
    elif done.limit:
        why = f"it was stopped by the sandbox's {done.limit} limit"
    elif done.exit_code != 0:
        why = f"the process ended with exit code {done.exit_code}"
    elif len(parts) != 2:
        why = (
            "the harness's report came more than once: something in the sandbox forged one"
            if len(parts) > 2
            else "the harness sent no report"
        )
    else:
        try:
            data = json.loads(parts[1].partition("\n")[0])
        except ValueError:
            data = None
        if isinstance(data, dict):
            return data
        why = (
            "the harness's report did not arrive whole (the sandbox keeps "
            f"{len(done.stdout)} characters of output)"
        )
    return {"error": f"{why}.\n{done.stderr[-2000:]}".rstrip()}


def _is_outcome(outcome: Any) -> bool:
    return isinstance(outcome, dict) and (
        (outcome.get("ok") is True and "value" in outcome)
        or (outcome.get("ok") is False and isinstance(outcome.get("error"), str))
    )


def _verdict(test: dict[str, Any], outcome: dict[str, Any]) -> dict[str, Any]:
    """A test's entry in the report; without "passed" while its check is still to run."""
    entry: dict[str, Any] = {"args": test.get("args", {})}
    if not outcome["ok"]:
        return {**entry, "passed": False, "error": outcome["error"]}
    value = outcome["value"]
    if "expect" in test:
        entry["passed"] = value == test["expect"]
        if not entry["passed"]:
            entry["error"] = f"expected {_shown(test['expect'])}, got {_shown(value)}"
    elif "check" not in test:
        entry["passed"] = True
    return entry


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= SHOWN else text[:SHOWN] + f"... ({len(text)} characters)"
