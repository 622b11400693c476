"""Checks of /app/report.csv (the regional sales report)."""

import csv
import hashlib
from pathlib import Path

REPORT = Path("/app/report.csv")
SALES = Path("/app/sales.csv")
SALES_SHA256 = "5aac384db249e99705611bce918e53b415081bec8dee6391cc7589ee654614ab"

EXPECTED = [
    ["region", "orders", "units", "revenue"],
    ["South", "13", "69", "71324.02"],
    ["West", "11", "63", "47449.22"],
    ["North", "17", "85", "43649.85"],
    ["East", "14", "58", "39839.46"],
    ["TOTAL", "55", "275", "202262.55"],
]


def rows():
    assert REPORT.is_file(), "/app/report.csv was not written"
    with REPORT.open(newline="") as f:
        return [[cell.strip() for cell in row] for row in csv.reader(f) if row]


def test_header_and_regions():
    found = rows()
    assert found[0] == EXPECTED[0]
    assert [r[0] for r in found[1:]] == [r[0] for r in EXPECTED[1:]], \
        "one line per region, by revenue, then TOTAL"


def test_counts_and_revenue():
    assert rows() == EXPECTED


def test_sales_left_unchanged():
    assert hashlib.sha256(SALES.read_bytes()).hexdigest() == SALES_SHA256
