#!/usr/bin/env bash
# Make a Debian bookworm base image from Debian's packages, for machines that reach Debian's package mirror but no
# image registry:  docker/debian_base.sh [TAG] [MIRROR]   (default kubricgen-base:bookworm, deb.debian.org)
# Needs root, debootstrap and a running Docker engine. The result is a plain minbase bookworm (what
# `debian:bookworm-slim` is made from), imported as a local image.
set -euo pipefail
tag="${1:-kubricgen-base:bookworm}"
mirror="${2:-http://deb.debian.org/debian}"
root="$(mktemp -d "${TMPDIR:-/tmp}/kubricgen-debootstrap-XXXXXX")"
trap 'rm -rf "$root"' EXIT
echo "debootstrap bookworm (minbase) from $mirror ..." >&2
debootstrap --variant=minbase bookworm "$root" "$mirror" >&2
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import --change 'CMD ["bash"]' - "$tag" >/dev/null
echo "$tag"
