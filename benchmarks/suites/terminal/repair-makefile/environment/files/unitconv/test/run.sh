#!/bin/sh
# Runs bin/unitconv on each case of test/cases.txt ("ARGS|EXPECTED OUTPUT").
status=0
while IFS='|' read -r args expected; do
    [ -z "$args" ] && continue
    # shellcheck disable=SC2086
    got=$(./bin/unitconv $args 2>&1)
    if [ "$got" = "$expected" ]; then
        echo "PASS unitconv $args"
    else
        echo "FAIL unitconv $args: got '$got', expected '$expected'"
        status=1
    fi
done < test/cases.txt
exit $status
