# One image, two uses (see README "Docker"):
#   docker run --rm -v "$PWD/output:/work/output" kubricgen kubricgen render scenes/movi_a.py --out output/movi_a
#   --sdk_container_image for Dataflow (Beam's SDK harness boots when the container is started with flags).
# Installs the package from the same pyproject.toml as a local install (no second dependency list).
ARG BEAM_VERSION=2.77.0
FROM apache/beam_python3.11_sdk:${BEAM_VERSION} AS beam_sdk

FROM python:3.11-slim-bookworm

# Shared libraries the bpy wheel links against (X11/GL stubs it loads even when rendering headless).
RUN apt-get update && apt-get install -y --no-install-recommends \
      libx11-6 libxrender1 libxxf86vm1 libxfixes3 libxi6 libxkbcommon0 libsm6 libice6 libgl1 libegl1 libgomp1 \
    && rm -rf /var/lib/apt/lists/*

# Beam's worker boot program, for Dataflow (and other portable runners) using this image as the worker container.
COPY --from=beam_sdk /opt/apache/beam /opt/apache/beam

WORKDIR /work
COPY pyproject.toml README.md ./
COPY kubricgen ./kubricgen
COPY beam_jobs ./beam_jobs
COPY robustness ./robustness
COPY scenes ./scenes
COPY assets ./assets
RUN pip install --no-cache-dir .

COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV KUBRICGEN_DEVICE=auto \
    KUBRICGEN_ASSETS_DIR=/work/assets
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["kubricgen", "--help"]
