#!/usr/bin/env python3
"""Print the next times a cron expression fires."""

import argparse
import calendar
import sys
from datetime import datetime, timedelta

MONTHS = {n.lower(): i for i, n in enumerate(calendar.month_abbr) if n}
DAYS = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
FIELDS = [("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day of month", 1, 31, {}),
          ("month", 1, 12, MONTHS), ("day of week", 0, 7, DAYS)]
MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
          "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
          "@hourly": "0 * * * *"}
HORIZON_DAYS = 8 * 366


class CronError(ValueError):
    pass


def value(text, name, low, high, names):
    number = names.get(text.lower()) if not text.isdigit() else int(text)
    if number is None:
        raise CronError(f"{name}: {text!r} is not a number or a known name")
    if not low <= number <= high:
        raise CronError(f"{name}: {number} is outside {low}-{high}")
    return number


def field(text, name, low, high, names):
    """The set of values a field allows."""
    allowed = set()
    for part in text.split(","):
        base, slash, step_text = part.partition("/")
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"{name}: bad step in {part!r}")
            step = int(step_text)
        else:
            step = 1
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = value(first, name, low, high, names), value(last, name, low, high,
                                                                      names)
            if start > end:
                raise CronError(f"{name}: the range {base!r} runs backwards")
        elif base:
            start = value(base, name, low, high, names)
            end = high if slash else start
        else:
            raise CronError(f"{name}: empty item in {text!r}")
        allowed.update(range(start, end + 1, step))
    return allowed


def parse(expression):
    expression = MACROS.get(expression.strip().lower(), expression)
    parts = expression.split()
    if len(parts) != 5:
        raise CronError(f"expected 5 fields, got {len(parts)}")
    sets = [field(p, *spec) for p, spec in zip(parts, FIELDS, strict=True)]
    if 7 in sets[4]:
        sets[4] = (sets[4] - {7}) | {0}
    return sets, parts[2] != "*" and parts[4] != "*"


def runs(expression, after):
    (minutes, hours, mdays, months, wdays), either = parse(expression)
    day = after.date()
    last = day + timedelta(days=HORIZON_DAYS)
    while day <= last:
        if day.month in months:
            by_mday, by_wday = day.day in mdays, (day.weekday() + 1) % 7 in wdays
            if (by_mday or by_wday) if either else (by_mday and by_wday):
                for hour in sorted(hours):
                    for minute in sorted(minutes):
                        moment = datetime(day.year, day.month, day.day, hour, minute)
                        if moment > after:
                            yield moment
        day += timedelta(days=1)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="nextrun", description=__doc__)
    parser.add_argument("expression")
    parser.add_argument("--from", dest="start")
    parser.add_argument("-n", type=int, default=5)
    args = parser.parse_args(argv)
    try:
        start = (datetime.strptime(args.start, "%Y-%m-%dT%H:%M") if args.start
                 else datetime.now().replace(second=0, microsecond=0))
    except ValueError:
        parser.error(f"--from must be YYYY-MM-DDTHH:MM, not {args.start!r}")
    if args.n < 1:
        parser.error("-n must be at least 1")
    try:
        found = []
        for moment in runs(args.expression, start):
            found.append(moment)
            if len(found) == args.n:
                break
    except CronError as exc:
        print(f"nextrun: {exc}", file=sys.stderr)
        return 2
    if not found:
        print("nextrun: the expression does not fire within 8 years", file=sys.stderr)
        return 1
    for moment in found:
        print(moment.strftime("%Y-%m-%dT%H:%M"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
