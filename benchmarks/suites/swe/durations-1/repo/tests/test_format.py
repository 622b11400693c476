from durations import format_duration, parse


def test_mixed_units():
    assert format_duration(5400) == "1h 30m"
    assert format_duration(2 * 86400 + 5) == "2d 5s"


def test_zero_and_negative():
    assert format_duration(0) == "0s"
    assert format_duration(-90) == "-1m 30s"


def test_largest_unit():
    assert format_duration(90000, largest="h") == "25h"
    assert format_duration(90000, sep="") == "1d1h"


def test_round_trip():
    for text in ["1w 2d", "3h 4m 5s", "59s"]:
        assert format_duration(parse(text)) == text
