#!/usr/bin/env bash
# Builds the container backend's default image (sh, coreutils, python3 with its standard
# library: synthesized tools and their harness need json, asyncio...) offline: a minimal
# root file system from this machine's Debian package sources, imported into podman or docker.
# Nothing comes from a container registry. Safe to run again: an existing image is kept.
set -euo pipefail
image=${1:-opensage-sandbox:latest}
engine=$(command -v podman || command -v docker || true)
if [ -z "$engine" ]; then
    echo "no podman or docker: install one to use the container backend" >&2
    exit 1
fi
if "$engine" image inspect "$image" >/dev/null 2>&1; then
    echo "image $image is there"
    exit 0
fi
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mmdebstrap --quiet --variant=essential --include=python3,procps "$suite" "$tmp/rootfs.tar"
"$engine" import --quiet "$tmp/rootfs.tar" "$image" >/dev/null
echo "built image $image"
