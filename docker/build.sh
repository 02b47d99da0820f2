#!/usr/bin/env bash
# Build the kubricgen image:  docker/build.sh [--offline] [TAG]   (default tag kubricgen:latest)
#   (default)   the dataflow target: runtime + Beam's worker boot program; pulls debian:bookworm-slim and
#               apache/beam_python3.11_sdk from Docker Hub.
#   --offline   no image registry needed: the base is made from Debian's packages (docker/debian_base.sh) and the
#               runtime target is built (everything but Beam's boot program; Dask workers and `docker run` work).
# pip inside the build trusts the CA bundle that $PIP_CERT names on this machine, if any (behind a TLS proxy).
set -euo pipefail
cd "$(dirname "$0")/.."
offline=0
case "${1:-}" in
  -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  --offline) offline=1; shift ;;
esac
tag="${1:-kubricgen:latest}"
rm -f docker/ca/bundle.pem
if [ -n "${PIP_CERT:-}" ] && [ -s "$PIP_CERT" ]; then cp "$PIP_CERT" docker/ca/bundle.pem; fi
trap 'rm -f docker/ca/bundle.pem' EXIT
if [ "$offline" = 1 ]; then
  base="kubricgen-base:bookworm"
  if docker image inspect "$base" >/dev/null 2>&1; then
    echo "using the existing base image $base (docker rmi $base to make it afresh)" >&2
  else
    docker/debian_base.sh "$base"
  fi
  DOCKER_BUILDKIT=0 docker build --force-rm --target runtime --build-arg BASE_IMAGE="$base" -t "$tag" .
else
  docker build -t "$tag" .
fi
