"""The time a question asks about: "on 9 November, 2022", "in July 2023", "in 2021", "last
week", "two days ago", "the week before August 3, 2023".

`when(query, now)` finds the first such expression and returns the span of time it names, as
epoch seconds (start inclusive, end exclusive); relative dates ("yesterday", "last month") are
resolved against `now`, and a month without a year ("in May") is the latest such month not
after `now`. The search ranks the entries created within the span
(an entry is written on or after the day it tells of) beside the other rankings.

English only, and only what can be read without guessing: "recently", "last Friday" or "in the
summer" name no span and are left to the other rankings.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
MONTHS["sept"] = 9
MONTH = "(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
YEAR = r"((?:19|20)\d{2})"
NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
COUNT = r"(\d+|" + "|".join(NUMBERS) + ")"
UNIT = r"(day|week|month|year)s?"
DAY_SECONDS = 86_400.0

# The expressions, most specific first; each gives a span from its groups (see _span).
PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(rx, re.IGNORECASE))
    for name, rx in [
        ("day_month_year", rf"\b{DAY}\s+(?:of\s+)?{MONTH},?\s+{YEAR}\b"),
        ("month_day_year", rf"\b{MONTH}\s+{DAY},?\s*{YEAR}\b"),
        ("month_year", rf"\b{MONTH},?\s+(?:of\s+)?{YEAR}\b"),
        ("iso_day", r"\b((?:19|20)\d{2})-(\d{2})-(\d{2})\b"),
        ("ago", rf"\b{COUNT}\s+{UNIT}\s+ago\b"),
        ("relative", r"\b(yesterday|today|(?:last|this|past)\s+(?:week|month|year|weekend))\b"),
        ("in_month", rf"\b(?:in|during|of|since)\s+{MONTH}(?!\s*\d)\b"),
        ("in_year", rf"\b(?:in|during|of|since|by)\s+{YEAR}\b"),
    ]
]
# "the week before August 3, 2023": the span before the date (a week, unless a number is said).
BEFORE = re.compile(rf"\b(?:the\s+)?(?:{COUNT}\s+)?{UNIT}\s+before\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Span:
    start: float  # epoch seconds, inclusive
    end: float  # exclusive


def when(query: str, now: float) -> Span | None:
    """The span of time `query` asks about, or None if it names none (see the module)."""
    today = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for name, pattern in PATTERNS:
        found = pattern.search(query)
        if found is None:
            continue
        span = _span(name, found.groups(), today)
        if span is None:
            continue
        start, end = span
        before = BEFORE.search(query[: found.start()])
        if before is not None:  # "the week before <date>": the span ends where the date starts
            count = _number(before.group(1)) if before.group(1) else 1
            start, end = _back(start, before.group(2).lower(), count), start
        return Span(start.timestamp(), end.timestamp())
    return None


def _span(
    name: str, found: tuple[str | None, ...], today: datetime
) -> tuple[datetime, datetime] | None:
    groups = [g or "" for g in found]
    try:
        if name in ("day_month_year", "month_day_year", "iso_day"):
            if name == "day_month_year":
                day, month, year = int(groups[0]), MONTHS[groups[1].lower()], int(groups[2])
            elif name == "month_day_year":
                day, month, year = int(groups[1]), MONTHS[groups[0].lower()], int(groups[2])
            else:
                year, month, day = (int(g) for g in groups)
            start = datetime(year, month, day, tzinfo=UTC)
            return start, start + timedelta(days=1)
        if name in ("month_year", "in_month"):
            month = MONTHS[groups[0].lower()]
            if name == "month_year":
                year = int(groups[1])
            else:  # the latest such month, this year's if it has begun
                year = today.year if month <= today.month else today.year - 1
            start = datetime(year, month, 1, tzinfo=UTC)
            return start, _add_months(start, 1)
        if name == "in_year":
            start = datetime(int(groups[0]), 1, 1, tzinfo=UTC)
            return start, start.replace(year=start.year + 1)
        if name == "ago":
            unit = groups[1].lower()
            start = _back(today, unit, _number(groups[0]))
            return start, start + _length(unit, start)
        if name == "relative":
            return _relative(" ".join(groups[0].lower().split()), today)
    except ValueError:  # "31 February": no such day
        return None
    return None


def _relative(phrase: str, today: datetime) -> tuple[datetime, datetime]:
    if phrase == "today":
        return today, today + timedelta(days=1)
    if phrase == "yesterday":
        return today - timedelta(days=1), today
    which, unit = phrase.split()
    if unit == "weekend":  # the last Saturday and Sunday before today
        saturday = today - timedelta(days=(today.weekday() - 5) % 7 or 7)
        return saturday, saturday + timedelta(days=2)
    if which == "past":  # "the past week": the last 7 days, up to today
        return _back(today, unit, 1), today + timedelta(days=1)
    if unit == "week":
        monday = today - timedelta(days=today.weekday())
        return (
            (monday - timedelta(days=7), monday)
            if which == "last"
            else (monday, monday + timedelta(days=7))
        )
    if unit == "month":
        first = today.replace(day=1)
        return (
            (_add_months(first, -1), first) if which == "last" else (first, _add_months(first, 1))
        )
    first = today.replace(month=1, day=1)
    return (
        (first.replace(year=first.year - 1), first)
        if which == "last"
        else (first, first.replace(year=first.year + 1))
    )


def _number(word: str) -> int:
    return int(word) if word.isdigit() else NUMBERS[word.lower()]


def _back(moment: datetime, unit: str, count: int) -> datetime:
    if unit == "day":
        return moment - timedelta(days=count)
    if unit == "week":
        return moment - timedelta(weeks=count)
    if unit == "month":
        return _add_months(moment, -count)
    return moment.replace(year=moment.year - count, day=min(moment.day, 28))


def _length(unit: str, start: datetime) -> timedelta:
    return {"day": timedelta(days=1), "week": timedelta(weeks=1)}.get(
        unit, _add_months(start, 1 if unit == "month" else 12) - start
    )


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    return moment.replace(
        year=year, month=month + 1, day=min(moment.day, calendar.monthrange(year, month + 1)[1])
    )
