#!/usr/bin/env bash
# Sets up .venv-harbor: Harbor (the Terminal-Bench 2.0 harness, which needs Python 3.12 or newer)
# with OpenSage installed from this checkout, for the Harbor adapter
# (opensage.integrations.harbor) and its tests. Safe to run again. The first run takes one
# to two minutes and makes a 470 MB environment (Harbor brings LiteLLM and its SDKs).
set -euo pipefail
cd "$(dirname "$0")/.."

HARBOR_VERSION=0.25.0  # the release the adapter is tested with

# A Python 3.12 or newer: PYTHON_HARBOR, else one on PATH, else one pyenv installed.
python=${PYTHON_HARBOR:-}
if [ -z "$python" ]; then
    for candidate in python3.13 python3.12 "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            python=$candidate
            break
        fi
    done
fi
if [ -z "$python" ]; then
    echo "Harbor needs Python 3.12 or newer and none was found; set PYTHON_HARBOR=/path/to/python3.12" >&2
    exit 1
fi

[ -x .venv-harbor/bin/python ] || "$python" -m venv .venv-harbor
.venv-harbor/bin/python -m pip install --quiet --upgrade pip
.venv-harbor/bin/python -m pip install --quiet "harbor==$HARBOR_VERSION" -e . "pytest>=8" "pytest-timeout>=2.3"
