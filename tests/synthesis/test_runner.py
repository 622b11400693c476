"""What the runner believes of a sandbox's output: one whole report, from a harness that ended
well. Everything else in a sandbox is the tool's to write, so anything else is a failure, never
a result (and never a traceback in this process)."""

import asyncio
import json

import pytest

from opensage.sandbox import SandboxLimits
from opensage.sandbox.base import ExecResult
from opensage.synthesis.runner import ToolRunner

GOOD = {"outcomes": [{"ok": True, "value": 3}], "output": "hello\n"}


class Answering:
    """A sandbox that answers every command with what `answer(mark)` makes of the marker."""

    name = "answering"

    def __init__(self, answer):
        self.answer = answer

    async def exec(self, cmd, *, workdir, timeout_s, limits, stdin, env=None):
        stdout, exit_code = self.answer(json.loads(stdin)["mark"])
        return ExecResult(exit_code=exit_code, stdout=stdout, stderr="", duration_s=0.01)


def call(answer):
    runner = ToolRunner(lambda: Answering(answer), ".", SandboxLimits())
    return asyncio.run(runner.call("def main() -> int:\n    return 3\n", {}))


def line(mark, report=GOOD):
    return f"\n{mark}{json.dumps(report)}\n"


def test_one_whole_report_is_the_result():
    ran = call(lambda mark: ("printed by something\n" + line(mark), 0))
    assert ran.ok and ran.data["value"] == 3 and ran.output == "hello\n"


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (
            lambda mark: (line(mark) + line(mark, {"outcomes": [{"ok": True, "value": 5}]}), 0),
            "the harness's report came more than once: something in the sandbox forged one",
        ),
        (lambda mark: (line(mark), 137), "the process ended with exit code 137"),
        (lambda mark: (line(mark)[:-20], 0), "the harness's report did not arrive whole"),
        (lambda mark: ("no report at all\n", 0), "the harness sent no report"),
        (
            lambda mark: (line(mark, {"outcomes": [{"ok": True}]}), 0),
            "the harness sent a report without results",
        ),
        (
            lambda mark: (line(mark, {"outcomes": [{"ok": True, "value": 3}] * 2}), 0),
            "the harness sent a report without results",
        ),
    ],
)
def test_anything_but_one_whole_report_is_a_failure(answer, why):
    ran = call(answer)
    assert not ran.ok and ran.data["error"].startswith(why), ran
