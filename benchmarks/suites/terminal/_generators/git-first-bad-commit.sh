#!/bin/bash
# Builds the task's history: a small statistics package; a commit in the middle breaks
# median() for lists of even length; earlier, a syntax error is committed and fixed.
set -euo pipefail
OUT=$(realpath -m "${1:?usage: git-first-bad-commit.sh OUTPUT.git}")
W=$(mktemp -d)
cd "$W"
git init -q -b main .
export GIT_AUTHOR_NAME="Dana Reyes" GIT_AUTHOR_EMAIL="dana@example.org"
export GIT_COMMITTER_NAME="Dana Reyes" GIT_COMMITTER_EMAIL="dana@example.org"
n=0
commit() {  # commit MESSAGE [AUTHOR]
    n=$((n + 1))
    local when="2024-03-$(printf %02d $(( (n + 1) / 2 )))T$(printf %02d $((9 + n % 8))):1$((n % 6)):00+01:00"
    git add -A
    GIT_AUTHOR_DATE="$when" GIT_COMMITTER_DATE="$when" git commit -q -m "$1"
}
mkdir -p stats
cat > stats/__init__.py <<'PY'
"""Small statistics helpers."""

from stats.central import mean, median
PY
cat > stats/central.py <<'PY'
def mean(values):
    values = list(values)
    if not values:
        raise ValueError("mean of no values")
    return sum(values) / len(values)


def median(values):
    ordered = sorted(values)
    if not ordered:
        raise ValueError("median of no values")
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2
PY
cat > README.md <<'PY'
# stats

Small statistics helpers: `mean`, `median`.
PY
commit "Add mean and median"
cat > check.py <<'PY'
"""Quick checks: python3 check.py"""

from stats import mean, median

assert mean([1, 2, 3]) == 2
assert median([3, 1, 2]) == 2
print("ok")
PY
commit "Add a quick check script"
cat >> stats/central.py <<'PY'


def mode(values):
    counts = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    if not counts:
        raise ValueError("mode of no values")
    best = max(counts.values())
    return min(v for v, c in counts.items() if c == best)
PY
sed -i 's/from stats.central import mean, median/from stats.central import mean, median, mode/' stats/__init__.py
commit "Add mode (smallest of the most common values)"
cat > stats/spread.py <<'PY'
from stats.central import mean


def variance(values, sample=True):
    values = list(values)
    if len(values) < (2 if sample else 1):
        raise ValueError("not enough values")
    m = mean(values)
    return sum((v - m) ** 2 for v in values) / (len(values) - (1 if sample else 0))


def stdev(values, sample=True):
    return variance(values, sample) ** 0.5
PY
echo "from stats.spread import stdev, variance" >> stats/__init__.py
commit "Add variance and standard deviation"
printf '\nAlso `mode`, `variance`, `stdev`.\n' >> README.md
commit "README: list the new functions"
cat >> check.py <<'PY'
assert mode([1, 2, 2, 3, 3]) == 2
assert abs(stdev([2, 4, 4, 4, 5, 5, 7, 9], sample=False) - 2.0) < 1e-12
PY
sed -i 's/from stats import mean, median/from stats import mean, median, mode, stdev/' check.py
commit "check.py: cover mode and stdev"
cat > stats/report.py <<'PY'
from stats.central import mean, median
from stats.spread import stdev


def summary(values):
    values = list(values)
    return {"n": len(values), "mean": mean(values), "median": median(values),
            "stdev": stdev(values) if len(values) > 1 else 0.0}
PY
echo "from stats.report import summary" >> stats/__init__.py
commit "Add summary()"
sed -i 's/"stdev": stdev(values) if len(values) > 1 else 0.0}/"stdev": stdev(values) if len(values) > 1 else 0.0,\n            "range": max(values) - min(values) if values else 0}/' stats/report.py
commit "summary: add the range"
# a syntax error, committed and fixed just after
sed -i 's/def summary(values):/def summary(values)/' stats/report.py
sed -i 's/"range": max(values) - min(values) if values else 0}/"range": max(values) - min(values) if values else 0,\n            "min": min(values, default=None)}/' stats/report.py
commit "summary: add the minimum"
sed -i 's/def summary(values)$/def summary(values):/' stats/report.py
commit "Fix a typo in summary"
cat > stats/weighted.py <<'PY'
def weighted_mean(values, weights):
    values, weights = list(values), list(weights)
    if len(values) != len(weights):
        raise ValueError("values and weights differ in length")
    total = sum(weights)
    if total == 0:
        raise ValueError("weights sum to zero")
    return sum(v * w for v, w in zip(values, weights)) / total
PY
echo "from stats.weighted import weighted_mean" >> stats/__init__.py
commit "Add weighted_mean"
printf 'Also `weighted_mean` and `summary`.\n' >> README.md
commit "README: weighted_mean and summary"
cat >> check.py <<'PY'
from stats import weighted_mean

assert weighted_mean([1, 3], [3, 1]) == 1.5
PY
commit "check.py: weighted_mean"
# make median "faster" for big inputs: the regression
cat > stats/central.py <<'PY'
def mean(values):
    values = list(values)
    if not values:
        raise ValueError("mean of no values")
    return sum(values) / len(values)


def _select(values, k):
    """The k-th smallest value (0-based), without sorting everything."""
    pivot = values[len(values) // 2]
    lower = [v for v in values if v < pivot]
    equal = [v for v in values if v == pivot]
    if k < len(lower):
        return _select(lower, k)
    if k < len(lower) + len(equal):
        return pivot
    return _select([v for v in values if v > pivot], k - len(lower) - len(equal))


def median(values):
    values = list(values)
    if not values:
        raise ValueError("median of no values")
    mid = len(values) // 2
    if len(values) % 2:
        return _select(values, mid)
    return (_select(values, mid - 1) + _select(values, mid - 1)) / 2


def mode(values):
    counts = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    if not counts:
        raise ValueError("mode of no values")
    best = max(counts.values())
    return min(v for v, c in counts.items() if c == best)
PY
sed -i 's/def summary(values):/def summary(values):\n    """n, mean, median, stdev, range and minimum of the values."""/' stats/report.py
commit "Speed up summary() on large inputs"
BAD=$(git rev-parse HEAD)
sed -i 's/Small statistics helpers: `mean`, `median`./Small statistics helpers, pure Python: `mean`, `median`./' README.md
commit "README: say it is pure Python"
cat > stats/spread.py <<'PY'
from stats.central import mean


def variance(values, sample=True):
    values = list(values)
    if len(values) < (2 if sample else 1):
        raise ValueError("not enough values")
    m = mean(values)
    return sum((v - m) ** 2 for v in values) / (len(values) - (1 if sample else 0))


def stdev(values, sample=True):
    return variance(values, sample) ** 0.5


def iqr(values):
    ordered = sorted(values)
    if len(ordered) < 4:
        raise ValueError("iqr needs at least 4 values")
    q = len(ordered) // 4
    return ordered[-q - 1] - ordered[q]
PY
echo "from stats.spread import iqr" >> stats/__init__.py
commit "Add iqr"
cat >> check.py <<'PY'
from stats import iqr

assert iqr([1, 2, 3, 4, 5, 6, 7, 8]) == 4
PY
commit "check.py: iqr"
sed -i 's/    return sum(v \* w for v, w in zip(values, weights)) \/ total/    if any(w < 0 for w in weights):\n        raise ValueError("negative weight")\n    return sum(v * w for v, w in zip(values, weights)) \/ total/' stats/weighted.py
commit "weighted_mean: reject negative weights"
printf '\n## Development\n\nRun `python3 check.py`.\n' >> README.md
commit "README: how to run the checks"
sed -i 's/    values = list(values)\n    return {"n"/XX/' stats/report.py
cat > stats/report.py <<'PY'
from stats.central import mean, median
from stats.spread import stdev


def summary(values):
    """n, mean, median, stdev (sample), range and minimum of the values."""
    values = list(values)
    return {"n": len(values), "mean": mean(values), "median": median(values),
            "stdev": stdev(values) if len(values) > 1 else 0.0,
            "range": max(values) - min(values) if values else 0,
            "min": min(values, default=None)}
PY
commit "summary: a docstring"
echo '__version__ = "0.3.0"' >> stats/__init__.py
commit "Version 0.3.0"
GIT_COMMITTER_DATE="2024-03-11T18:00:00+01:00" git tag -a v0.3.0 -m "stats 0.3.0"
rm -rf "$OUT"
git clone -q --bare . "$OUT"
cd "$OUT"
git repack -q -a -d
rm -rf hooks info description logs FETCH_HEAD objects/pack/*.bitmap objects/info/packs
git pack-refs --all --prune 2>/dev/null || true
# keep a loose ref so that refs/ exists once stored without empty folders
mkdir -p refs/heads
head=$(git rev-parse main)
echo "$head" > refs/heads/main
grep -v " refs/heads/main$" packed-refs > packed-refs.new && mv packed-refs.new packed-refs
git config --unset remote.origin.url 2>/dev/null || true
git fsck --no-progress && git log --oneline | wc -l
echo "BAD=$BAD"
find . -type f | sort
rm -rf "$W"
