#!/bin/bash
# Reference solution: git bisect in a clone, skipping commits where stats cannot be imported.
set -euo pipefail
work=$(mktemp -d)
git clone -q /app/project.git "$work/stats"
cd "$work/stats"
cat > "$work/probe.sh" <<'SH'
#!/bin/sh
# 0: good, 1: bad, 125: cannot tell (the package does not import)
out=$(python3 -c 'from stats import median; print(median([1, 2, 3, 4]))' 2>/dev/null) || exit 125
[ "$out" = "2.5" ]
SH
chmod +x "$work/probe.sh"
first=$(git rev-list --max-parents=0 main)
git bisect start main "$first" >/dev/null
git bisect run "$work/probe.sh" > "$work/bisect.log"
git rev-parse refs/bisect/bad > /app/first_bad.txt
git bisect reset >/dev/null
rm -rf "$work"
