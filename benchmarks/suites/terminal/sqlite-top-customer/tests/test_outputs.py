"""Checks of /app/answer.json (the customer with the highest net spending in Q1 2024)."""

import hashlib
import json
from pathlib import Path

ANSWER = Path("/app/answer.json")
DUMP_SHA256 = "c8c60a2606f8277c6614f8e17aa323679129035cf2824c9a09bfa41a68324fd9"
# What common mistakes lead to: local dates instead of UTC, cancelled orders counted,
# refunds ignored.
MISTAKES = {19: "dates must be taken in UTC", 3: "dates must be taken in UTC",
            23: "cancelled orders do not count", 12: "refunds must be subtracted"}


def answer():
    assert ANSWER.is_file(), "/app/answer.json was not written"
    data = json.loads(ANSWER.read_text())
    assert isinstance(data, dict), "answer.json must hold a JSON object"
    return data


def test_customer():
    data = answer()
    found = data.get("customer_id")
    assert found not in MISTAKES, MISTAKES.get(found)
    assert found == 7
    assert data.get("name") == "Noor Haddad"


def test_net_spend():
    assert answer().get("net_spend") == "2144.90"


def test_dump_left_unchanged():
    digest = hashlib.sha256(Path("/app/shop.sql").read_bytes()).hexdigest()
    assert digest == DUMP_SHA256
