#!/usr/bin/env python3
"""Print the most frequent words of a text file.

usage: wordfreq.py FILE [-n N]     (FILE may be '-' for standard input)
"""

import argparse
import string
import sys
from collections import Counter


def words(text):
    for token in text.split():
        token = token.strip(string.punctuation).lower()
        if token:
            yield token


def main(argv=None):
    parser = argparse.ArgumentParser(description="Print the most frequent words of a text.")
    parser.add_argument("file", help="a text file, or - for standard input")
    parser.add_argument("-n", type=int, default=10, help="how many words (default 10)")
    args = parser.parse_args(argv)
    if args.file == "-":
        text = sys.stdin.read()
    else:
        with open(args.file) as f:
            text = f.read()
    counts = Counter(words(text))
    for word, count in counts.most_common(args.n):
        print(f"{count} {word}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
