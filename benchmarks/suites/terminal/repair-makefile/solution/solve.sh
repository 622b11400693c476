#!/bin/bash
# Reference solution: a tab before the link recipe, every source built (format.c was left
# out), libm linked, bin/ made, header dependencies from -MMD -MP, phony targets declared.
set -euo pipefail
cp /solution/Makefile /app/unitconv/Makefile
