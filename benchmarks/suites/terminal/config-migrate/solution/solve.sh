#!/bin/bash
# Reference solution: one function per rule of MIGRATION.md; invalid files are listed, not
# written.
set -euo pipefail
python3 /solution/migrate.py
