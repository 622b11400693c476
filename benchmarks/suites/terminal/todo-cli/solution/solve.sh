#!/bin/bash
# Reference solution: an argparse CLI over the JSON file, written atomically.
set -euo pipefail
cp /solution/todo.py /app/todo.py
