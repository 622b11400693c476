#!/bin/bash
# Builds the task's history: textstat 1.0.0, then on main features, fixes, a refactor that
# renames a helper (so that a later fix conflicts on the release branch), docs, a version bump.
set -euo pipefail
OUT=$(realpath -m "${1:?usage: git-backport-release.sh OUTPUT.git}")
W=$(mktemp -d)
cd "$W"
git init -q -b main .
export GIT_AUTHOR_NAME="Sam Okoro" GIT_AUTHOR_EMAIL="sam@example.org"
export GIT_COMMITTER_NAME="Sam Okoro" GIT_COMMITTER_EMAIL="sam@example.org"
n=0
commit() {
    n=$((n + 1))
    local when="2024-04-$(printf %02d $n)T1$((n % 10)):00:00+02:00"
    git add -A
    GIT_AUTHOR_DATE="$when" GIT_COMMITTER_DATE="$when" git commit -q -m "$1"
}
mkdir -p textstat tests
echo '__version__ = "1.0.0"' > textstat/__init__.py
cat > textstat/util.py <<'PY'
"""Helpers for reading text records."""


def strip_comments(lines):
    """The lines that are not comments (starting with '#') or blank."""
    for line in lines:
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield line


def words(line):
    return line.split()
PY
cat > textstat/parser.py <<'PY'
"""Reading records: one a line, words separated by blanks; '#' starts a comment line; a first
line starting with '%' holds options and is skipped."""

from textstat.util import strip_comments, words


def parse(text):
    lines = text.splitlines()
    if lines[0].startswith("%"):
        lines = lines[1:]
    return [words(line) for line in strip_comments(lines)]
PY
cat > textstat/pager.py <<'PY'
"""Splitting results into pages."""


def page_count(items, per_page):
    return max(1, -(-len(items) // per_page))


def paginate(items, per_page, page):
    """The items of page `page` (numbered from 1)."""
    if page < 1 or per_page < 1:
        raise ValueError("page and per_page start at 1")
    start = page * per_page
    return items[start:start + per_page]
PY
cat > textstat/cli.py <<'PY'
"""textstat FILE [--page N]: word counts of a records file."""

import argparse
import sys

from textstat.pager import paginate
from textstat.parser import parse


def main(argv=None):
    parser = argparse.ArgumentParser(prog="textstat")
    parser.add_argument("file")
    parser.add_argument("--page", type=int, default=1)
    parser.add_argument("--per-page", type=int, default=20)
    args = parser.parse_args(argv)
    with open(args.file, encoding="utf-8") as f:
        records = parse(f.read())
    for number, record in enumerate(paginate(records, args.per_page, args.page)):
        print(f"{number + 1}\t{len(record)}\t{' '.join(record)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
PY
cat > tests/__init__.py <<'PY'
PY
cat > tests/test_parser.py <<'PY'
import unittest

from textstat.parser import parse


class ParseTest(unittest.TestCase):
    def test_records(self):
        self.assertEqual(parse("a b\n# note\n\nc\n"), [["a", "b"], ["c"]])

    def test_options_line(self):
        self.assertEqual(parse("% sep=space\nx y\n"), [["x", "y"]])
PY
cat > tests/test_pager.py <<'PY'
import unittest

from textstat.pager import page_count, paginate


class PagerTest(unittest.TestCase):
    def test_page_count(self):
        self.assertEqual(page_count(list(range(41)), 20), 3)
        self.assertEqual(page_count([], 20), 1)

    def test_bad_page(self):
        with self.assertRaises(ValueError):
            paginate([1], 10, 0)
PY
cat > README.md <<'PY'
# textstat

Word counts of records files: `python3 -m textstat.cli FILE [--page N] [--per-page N]`.
Tests: `python3 -m unittest`.
PY
commit "textstat 1.0.0"
GIT_COMMITTER_DATE="2024-04-01T18:00:00+02:00" git tag -a v1.0.0 -m "textstat 1.0.0"

cat > textstat/export.py <<'PY'
"""Writing records as CSV."""

import csv
import io


def to_csv(records):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for record in records:
        writer.writerow([len(record), " ".join(record)])
    return out.getvalue()
PY
cat > tests/test_export.py <<'PY'
import unittest

from textstat.export import to_csv


class ExportTest(unittest.TestCase):
    def test_csv(self):
        self.assertEqual(to_csv([["a", "b"]]), "2,a b\n")
PY
commit "feat: add CSV export"

sed -i 's/    if lines\[0\].startswith("%"):/    if lines and lines[0].startswith("%"):/' textstat/parser.py
cat >> tests/test_parser.py <<'PY'

    def test_empty_input(self):
        self.assertEqual(parse(""), [])
PY
commit "fix: handle empty input in parse()"

sed -i 's/^Tests: `python3 -m unittest`./Tests: `python3 -m unittest`.\n\nExample: `python3 -m textstat.cli notes.txt --page 2 --per-page 10`./' README.md
commit "docs: usage example"

python3 - <<'PY'
p = "textstat/cli.py"
s = open(p).read()
s = s.replace('    parser.add_argument("--per-page", type=int, default=20)\n',
              '    parser.add_argument("--per-page", type=int, default=20)\n'
              '    parser.add_argument("--csv", action="store_true")\n')
s = s.replace("from textstat.pager import paginate\n",
              "from textstat.export import to_csv\nfrom textstat.pager import paginate\n")
s = s.replace("    for number, record in enumerate(",
              "    if args.csv:\n        print(to_csv(records), end=\"\")\n        return 0\n"
              "    for number, record in enumerate(")
open(p, "w").write(s)
PY
commit "feat: --csv flag"

sed -i 's/    start = page \* per_page/    start = (page - 1) * per_page/' textstat/pager.py
cat >> tests/test_pager.py <<'PY'

    def test_first_page(self):
        self.assertEqual(paginate(list(range(5)), 2, 1), [0, 1])
        self.assertEqual(paginate(list(range(5)), 2, 3), [4])
PY
commit "fix: off-by-one in paginate()"

sed -i 's/Word counts of records files/Word counts of record files/' README.md
commit "docs: fix a typo in the README"

sed -i 's/strip_comments/drop_comments/g' textstat/util.py textstat/parser.py
commit "refactor: rename strip_comments to drop_comments"

python3 - <<'PY'
p = "textstat/util.py"
s = open(p).read()
old = '''def drop_comments(lines):
    """The lines that are not comments (starting with '#') or blank."""
    for line in lines:
        stripped'''
new = '''def drop_comments(lines):
    """The lines that are not comments (starting with '#') or blank. A byte order mark
    at the start of the first line is not part of it."""
    for number, line in enumerate(lines):
        if number == 0:
            line = line.lstrip("\\ufeff")
        stripped'''
assert old in s
open(p, "w").write(s.replace(old, new))
PY
cat >> tests/test_parser.py <<'PY'

    def test_byte_order_mark(self):
        self.assertEqual(parse("\ufeffa b\nc\n"), [["a", "b"], ["c"]])
PY
commit "fix: strip a byte order mark from input"

echo '__version__ = "1.1.0.dev0"' > textstat/__init__.py
commit "chore: bump version to 1.1.0.dev0"
python3 -m unittest -q 2>&1 | tail -1

rm -rf "$OUT"
git clone -q --bare . "$OUT"
cd "$OUT"
git repack -q -a -d
rm -rf hooks info description logs FETCH_HEAD objects/pack/*.bitmap objects/info/packs
git pack-refs --all --prune 2>/dev/null || true
head=$(git rev-parse main)
mkdir -p refs/heads
echo "$head" > refs/heads/main
grep -v " refs/heads/main$" packed-refs > packed-refs.new && mv packed-refs.new packed-refs
git config --unset remote.origin.url 2>/dev/null || true
git fsck --no-progress
git log --oneline main | cat
rm -rf "$W"
