"""Checks of /app/nextrun.py against the cron rules of the task's instruction."""

import subprocess
import sys

SCRIPT = "/app/nextrun.py"

# (expression, --from, the times expected; -n is their number)
CASES = [
    ("*/20 9-10 * * mon-fri", "2024-03-01T09:30", [
        "2024-03-01T09:40",
        "2024-03-01T10:00",
        "2024-03-01T10:20",
        "2024-03-01T10:40",
    ]),
    ("0 0 * * *", "2024-02-28T12:00", [
        "2024-02-29T00:00",
        "2024-03-01T00:00",
        "2024-03-02T00:00",
    ]),
    ("30 2 * * 0", "2024-03-01T00:00", [
        "2024-03-03T02:30",
        "2024-03-10T02:30",
        "2024-03-17T02:30",
    ]),
    ("30 2 * * 7", "2024-03-01T00:00", [
        "2024-03-03T02:30",
        "2024-03-10T02:30",
    ]),
    ("0 12 1,15 * *", "2024-01-20T00:00", [
        "2024-02-01T12:00",
        "2024-02-15T12:00",
        "2024-03-01T12:00",
        "2024-03-15T12:00",
    ]),
    ("0 9 13 * 5", "2024-09-01T00:00", [
        "2024-09-06T09:00",
        "2024-09-13T09:00",
        "2024-09-20T09:00",
        "2024-09-27T09:00",
        "2024-10-04T09:00",
        "2024-10-11T09:00",
    ]),
    ("0 9 * * 5", "2024-09-01T00:00", [
        "2024-09-06T09:00",
        "2024-09-13T09:00",
        "2024-09-20T09:00",
    ]),
    ("15 10 31 * *", "2024-01-31T10:15", [
        "2024-03-31T10:15",
        "2024-05-31T10:15",
        "2024-07-31T10:15",
        "2024-08-31T10:15",
    ]),
    ("5/20 * * * *", "2024-05-05T23:50", [
        "2024-05-06T00:05",
        "2024-05-06T00:25",
        "2024-05-06T00:45",
        "2024-05-06T01:05",
    ]),
    ("10-30/10 8 * * *", "2024-05-05T08:15", [
        "2024-05-05T08:20",
        "2024-05-05T08:30",
        "2024-05-06T08:10",
        "2024-05-06T08:20",
    ]),
    ("0 0 1 jan,JUL *", "2024-03-15T00:00", [
        "2024-07-01T00:00",
        "2025-01-01T00:00",
        "2025-07-01T00:00",
    ]),
    ("0 18 * 12 sat,sun", "2024-11-30T00:00", [
        "2024-12-01T18:00",
        "2024-12-07T18:00",
        "2024-12-08T18:00",
    ]),
    ("59 23 31 12 *", "2024-12-31T23:59", [
        "2025-12-31T23:59",
        "2026-12-31T23:59",
    ]),
    ("*/7 * * * *", "2024-01-01T00:55", [
        "2024-01-01T00:56",
        "2024-01-01T01:00",
        "2024-01-01T01:07",
        "2024-01-01T01:14",
    ]),
    ("@hourly", "2024-02-29T22:30", [
        "2024-02-29T23:00",
        "2024-03-01T00:00",
        "2024-03-01T01:00",
    ]),
    ("@weekly", "2024-02-29T22:30", [
        "2024-03-03T00:00",
        "2024-03-10T00:00",
    ]),
    ("@monthly", "2024-01-31T00:00", [
        "2024-02-01T00:00",
        "2024-03-01T00:00",
        "2024-04-01T00:00",
    ]),
    ("0 4 8-14 * mon", "2024-06-01T00:00", [
        "2024-06-03T04:00",
        "2024-06-08T04:00",
        "2024-06-09T04:00",
        "2024-06-10T04:00",
        "2024-06-11T04:00",
    ]),
    ("0 6 * 2 *", "2023-02-27T07:00", [
        "2023-02-28T06:00",
        "2024-02-01T06:00",
        "2024-02-02T06:00",
    ]),
]


def run(*args):
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True,
                          timeout=60)


def check(cases):
    assert cases
    failures = []
    for expression, start, expected in cases:
        result = run(expression, "--from", start, "-n", str(len(expected)))
        if result.returncode != 0 or result.stdout.split() != expected:
            failures.append(f"{expression!r} from {start}: got {result.stdout.split()} "
                            f"(exit {result.returncode}), expected {expected}")
    assert not failures, "\n".join(failures)


def test_values_ranges_lists_and_steps():
    check([c for c in CASES if not c[0].startswith("@") and c[0].split()[2] == "*"
           and c[0].split()[4] == "*"])


def test_days_of_week_and_names():
    check([c for c in CASES if not c[0].startswith("@") and c[0].split()[2] == "*"
           and c[0].split()[4] != "*"])


def test_day_of_month_or_day_of_week():
    check([c for c in CASES if not c[0].startswith("@") and c[0].split()[2] != "*"])


def test_shortcuts():
    check([c for c in CASES if c[0].startswith("@")])


def test_default_count_is_five():
    result = run("0 0 29 2 *", "--from", "2024-03-01T00:00", "-n", "1")
    assert result.returncode == 0 and result.stdout.split() == ["2028-02-29T00:00"]
    result = run("45 23 * * *", "--from", "2024-12-30T23:45")
    assert result.returncode == 0
    assert result.stdout.split() == ["2024-12-31T23:45", "2025-01-01T23:45", "2025-01-02T23:45",
                                     "2025-01-03T23:45", "2025-01-04T23:45"]


def test_never_fires():
    result = run("0 0 30 2 *", "--from", "2024-01-01T00:00")
    assert result.returncode == 1, result.stdout
    assert result.stderr.strip() and not result.stdout.strip()


def test_malformed():
    for args in (["0 0 * *"], ["0 0 * * * *"], ["60 * * * *"], ["* 24 * * *"],
                 ["* * 0 * *"], ["* * * 13 *"], ["* * * * 8"], ["* * * foo *"],
                 ["*/0 * * * *"], ["30-10 * * * *"], ["0 18 * 12 sat-sun"], ["1,,2 * * * *"],
                 ["@often"], ["0 0 * * *", "--from", "2024-02-30T10:00"],
                 ["0 0 * * *", "--from", "yesterday"], ["0 0 * * *", "-n", "0"]):
        result = run(*args)
        assert result.returncode == 2, f"{args}: exit {result.returncode}, {result.stdout!r}"
        assert result.stderr.strip(), f"{args}: no error message"
