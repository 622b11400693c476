#!/bin/bash
# Reference solution: quote every path, match the series exactly, order by the date in the
# name, and check the arguments first.
set -euo pipefail
cp /solution/rotate-backups.sh /app/rotate-backups.sh
chmod +x /app/rotate-backups.sh
