"""The retrieval choices kept by the LoCoMo evaluation (benchmarks/memory_retrieval.py), each on
a small case that fails without it, on both backends."""

from dataclasses import replace
from datetime import UTC, datetime

from opensage.memory.base import Tuning

# A conversation: the answer to "what did grandma give Caroline?" names no grandma.
TURNS = [
    "Caroline: I finally finished the painting for the art show",
    "Melanie: What did your grandma give you for your eighteenth birthday?",
    "Caroline: This necklace, it means the world to me",
    "Melanie: It is beautiful, it suits you",
    "Caroline: Thanks! The weather was lovely at the beach today",
]


def test_a_turn_is_found_through_its_neighbours(make_store):
    store = make_store()
    ids = store.add_many([{"text": t} for t in TURNS], neighbours=1)
    necklace = ids[2]
    assert "what did your grandma give you" in store.rows()[2]["context"].lower()
    found = [h.id for h in store.search("What was the gift from grandma?", k=3)]
    assert necklace in found
    # The control: the same turns without their neighbours never find it.
    alone = make_store()
    ids = alone.add_many([{"text": t} for t in TURNS])
    assert ids[2] not in [h.id for h in alone.search("What was the gift from grandma?", k=3)]


def test_a_neighbour_counts_less_than_the_entry_itself(make_store):
    store = make_store()
    ids = store.add_many([{"text": t} for t in TURNS], neighbours=1)
    # "grandma" is the question turn's own word and only its neighbours' context.
    assert store.search("grandma birthday", k=3)[0].id == ids[1]


def day(year: int, month: int, d: int) -> float:
    return datetime(year, month, d, 12, tzinfo=UTC).timestamp()


def test_a_relative_date_finds_the_entries_of_its_time(make_store):
    store = make_store()
    assert store.tuning.date_share > 0  # on by default
    # Both match the question's words equally.
    may, june = store.add_many(
        [
            {"text": "Melanie: We went camping by the lake", "created": day(2023, 5, 9)},
            {"text": "Melanie: We went camping by the sea", "created": day(2023, 6, 20)},
        ]
    )
    question = "Where did Melanie go camping last month?"
    now = day(2023, 6, 25)
    assert store.search(question, k=2, now=now)[0].id == may
    # Without the dates, the newer comes first.
    store.tuning = replace(store.tuning, date_share=0.0)
    assert store.search(question, k=2, now=now)[0].id == june
    # An absolute date works the same, whatever now is.
    store.tuning = Tuning() if Tuning().date_share else replace(Tuning(), date_share=0.5)
    assert store.search("Where did Melanie go camping in May 2023?", k=2)[0].id == may


def test_an_entry_written_after_the_span_still_counts_within_the_slack(make_store):
    store = make_store()
    slack = store.tuning.date_slack_days
    told, other = store.add_many(
        [
            {
                "text": "Caroline: I went to a support group",
                "created": day(2023, 5, 8) + (slack - 1) * 86_400,
            },
            {
                "text": "Caroline: I went to a pottery class",
                "created": day(2023, 5, 8) + (slack + 20) * 86_400,
            },
        ]
    )
    found = [h.id for h in store.search("What did Caroline do on 8 May, 2023?", k=2)]
    assert found == [told, other]


def test_a_second_round_follows_the_names_of_the_first(make_store):
    store = make_store()
    store.tuning = replace(store.tuning, second_round=0.25)  # off by default: it costs a query
    ids = store.add_many(
        [
            {"text": t}
            for t in [
                "Caroline: My grandma Rosa gave me this necklace when I was ten",
                "Melanie: Rosa told me she moved to Lisbon last spring",
                "Caroline: the beach was lovely today",
                "Caroline: painting helps me relax",
                "Melanie: the kids loved the museum",
            ]
        ]
    )
    question = "Where does the grandma of Caroline live now?"
    found = [h.id for h in store.search(question, k=5)]
    assert found[0] == ids[0] and ids[1] in found  # Lisbon: through Rosa
    store.tuning = replace(store.tuning, second_round=0.0)
    assert ids[1] not in [h.id for h in store.search(question, k=5)]


def test_the_best_keyword_hit_stays_first(make_store):
    store = make_store()
    assert store.tuning.keep_top  # on by default
    best, dated = store.add_many(
        [
            {
                "text": "The deploy key of the staging server rotates every 30 days",
                "created": day(2023, 6, 20),
            },
            {"text": "Notes from the deploy", "created": day(2023, 5, 10)},
        ]
    )
    question = "the deploy key of staging, in May 2023"
    assert [h.id for h in store.search(question, k=2)] == [best, dated]
    # Without it, the weaker match of the right month passes the one that names every word.
    store.tuning = replace(store.tuning, keep_top=False)
    assert [h.id for h in store.search(question, k=2)] == [dated, best]
    # A tie at the top protects nothing: neither is the clear best.
    store.tuning = replace(store.tuning, keep_top=True)
    twins = store.add_many([{"text": "release notes"}, {"text": "release notes"}])
    assert {h.id for h in store.search("release notes", k=2)} == set(twins)
