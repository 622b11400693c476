#!/usr/bin/env bash
# Builds the container backend's default image offline: a minimal root file system from this
# machine's Debian package sources, imported into podman or docker. Nothing comes from a
# container registry. It holds sh, coreutils and python3 with its standard library (synthesized
# tools and their harness need json, asyncio...), and what the software-engineering kit runs in
# the sandbox: git, ripgrep, gdb, gcc/g++ with libc's headers, make, pytest, and the Go, Rust
# (cargo) and Node.js toolchains for run_tests (about 1.5 GB in all; 1.5 minutes to build).
# Safe to run again: an image built from the same package list is kept; one built from another
# list (an older version of this script) is replaced.
set -euo pipefail
image=${1:-opensage-sandbox:latest}
packages="python3,procps,git,ripgrep,gdb,gcc,g++,libc6-dev,make,python3-pytest"
packages="$packages,golang-go,cargo,nodejs"
# The security kit: clang with its sanitizer runtimes and libFuzzer, llvm's symbolizer, gdb,
# make and cmake (about 0.3 GB more; the image was 1.8 GB and took 2.5 minutes to build here).
packages="$packages,clang-14,libclang-rt-14-dev,libfuzzer-14-dev,llvm-14,gdb,make,cmake"
engine=$(command -v podman || command -v docker || true)
if [ -z "$engine" ]; then
    echo "no podman or docker: install one to use the container backend" >&2
    exit 1
fi
# The list is kept in the image as an environment variable (docker's import takes no LABEL).
marker="OPENSAGE_IMAGE_PACKAGES=$packages"
old=""
if "$engine" image inspect "$image" >/dev/null 2>&1; then
    if "$engine" image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$image" \
            | grep -qxF "$marker"; then
        echo "image $image is there"
        exit 0
    fi
    old=$("$engine" image inspect --format '{{.Id}}' "$image")
    echo "image $image lacks some of: $packages; rebuilding it"
fi
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mmdebstrap --quiet --variant=essential --include="$packages" "$suite" "$tmp/rootfs.tar"
"$engine" import --quiet --change "ENV $marker" "$tmp/rootfs.tar" "$image" >/dev/null
# The replaced image goes too, unless a container still uses it.
[ -z "$old" ] || "$engine" rmi "$old" >/dev/null 2>&1 || true
echo "built image $image"
