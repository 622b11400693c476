from rle import decode, encode


def test_encode():
    assert encode("aaab") == "3a1b"
    assert encode("") == ""
    assert encode("xyz") == "1x1y1z"


def test_decode():
    assert decode("3a1b") == "aaab"
    assert decode("ab2c") == "abcc"


def test_round_trip_of_short_runs():
    for text in ["hello", "aabbbcccc", "mississippi"]:
        assert decode(encode(text)) == text


def test_decode_a_run_of_twelve():
    assert decode("12a") == "a" * 12
