#!/bin/bash
# Reference solution: words found by a regular expression (letters, inner apostrophes), ties in
# alphabetical order, input read as UTF-8.
set -euo pipefail
cp /solution/wordfreq.py /app/wordfreq.py
