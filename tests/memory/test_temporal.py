"""Reading the span of time a question names (opensage.memory.temporal)."""

from datetime import UTC, date, datetime

import pytest

from opensage.memory.temporal import when

NOW = datetime(2023, 8, 20, 15, 0, tzinfo=UTC).timestamp()  # a Sunday


def days(query: str, now: float = NOW) -> tuple[date, date] | None:
    span = when(query, now)
    if span is None:
        return None
    return (
        datetime.fromtimestamp(span.start, UTC).date(),
        datetime.fromtimestamp(span.end, UTC).date(),
    )


@pytest.mark.parametrize(
    ("query", "start", "end"),
    [
        ("What did Gina find on 1 February, 2023?", date(2023, 2, 1), date(2023, 2, 2)),
        ("Which book did Tim finish on 8th December, 2023?", date(2023, 12, 8), date(2023, 12, 9)),
        (
            "Where was the picture shared on December 1,2023 taken?",
            date(2023, 12, 1),
            date(2023, 12, 2),
        ),
        ("What is John doing in August 2023?", date(2023, 8, 1), date(2023, 9, 1)),
        ("What did Joanna do in 2022?", date(2022, 1, 1), date(2023, 1, 1)),
        ("the build of 2023-05-07", date(2023, 5, 7), date(2023, 5, 8)),
        ("the release of 31 February, 2023", date(2023, 2, 1), date(2023, 3, 1)),  # no such day
        # A month without a year: the latest one that has begun.
        ("Which spot did she visit in May?", date(2023, 5, 1), date(2023, 6, 1)),
        ("What happened in October?", date(2022, 10, 1), date(2022, 11, 1)),
        # Relative dates, against now.
        ("What broke yesterday?", date(2023, 8, 19), date(2023, 8, 20)),
        ("What did we decide last week?", date(2023, 8, 7), date(2023, 8, 14)),
        ("the deploy of last month", date(2023, 7, 1), date(2023, 8, 1)),
        ("what failed 3 days ago", date(2023, 8, 17), date(2023, 8, 18)),
        ("what we learnt two weeks ago", date(2023, 8, 6), date(2023, 8, 13)),
        ("last year's outage", date(2022, 1, 1), date(2023, 1, 1)),
        # "the week before <date>": the week that ends where the date starts.
        ("What did John do the week before August 3, 2023?", date(2023, 7, 27), date(2023, 8, 3)),
        (
            "the puppy she got two weeks before August 11, 2023",
            date(2023, 7, 28),
            date(2023, 8, 11),
        ),
    ],
)
def test_a_span_is_read_from_the_question(query, start, end):
    assert days(query) == (start, end)


@pytest.mark.parametrize(
    "query",
    [
        "May I ask what the deploy key is?",
        "What did she paint recently?",
        "How many games did he win?",
    ],
)
def test_no_span_when_none_is_named(query):
    assert days(query) is None
