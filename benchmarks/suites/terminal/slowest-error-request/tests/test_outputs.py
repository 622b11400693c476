"""Checks of /app/answer.txt (the slowest request that failed with a 5xx status)."""

import hashlib
from pathlib import Path

ANSWER = Path("/app/answer.txt")
LOGS = {
    "app.log": "c920658a6071225a00399d3cdb6990a2fc4dd3fa191c1a952eeaf035a909ddc8",
    "app.log.1": "0ad676593f0506905ab5e2e0e29f3f9a1813ef5bf01f4bf00aa519bec630d54a",
    "app.log.2": "e01e7f2f2c828a4f343365670cc7fdb3b5a127494602e76da50d416bcd8621cc",
}


def test_answer_is_the_slowest_server_error():
    assert ANSWER.is_file(), "/app/answer.txt was not written"
    answer = ANSWER.read_text().strip()
    assert answer != "c0ffee1234", "1980ms is shorter than 2.310s: durations come in two units"
    assert answer not in ("aa00bb11cc", "deadbeef00"), "only 5xx statuses count"
    assert answer == "7f3a9c01d2"


def test_logs_left_unchanged():
    for name, digest in LOGS.items():
        data = (Path("/app/logs") / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, f"{name} was changed"
