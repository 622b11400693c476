#!/bin/bash
# Reference solution: each field parsed into the set of values it allows, then a walk over the
# days (at most 8 years), the day-of-month/day-of-week "either" rule when both are restricted.
set -euo pipefail
cp /solution/nextrun.py /app/nextrun.py
