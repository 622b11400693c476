#!/usr/bin/env python3
"""Print the most frequent words of a text file.

usage: wordfreq.py FILE [-n N]     (FILE may be '-' for standard input)
"""

import argparse
import re
import sys
from collections import Counter

# A run of letters ([^\W\d_]: word characters that are neither digits nor '_'), with single
# apostrophes (straight or curly) allowed between letters.
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def words(text):
    for match in WORD.finditer(text):
        yield match.group().lower()


def main(argv=None):
    parser = argparse.ArgumentParser(description="Print the most frequent words of a text.")
    parser.add_argument("file", help="a text file, or - for standard input")
    parser.add_argument("-n", type=int, default=10, help="how many words (default 10)")
    args = parser.parse_args(argv)
    if args.file == "-":
        text = sys.stdin.buffer.read().decode("utf-8")
    else:
        with open(args.file, encoding="utf-8") as f:
            text = f.read()
    counts = Counter(words(text))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    for word, count in ranked[: args.n]:
        print(f"{count} {word}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
