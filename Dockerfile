# One image, two targets (see README "Docker"):
#   runtime   kubricgen on Debian bookworm's Python 3.11: `docker run IMAGE kubricgen render scenes/helloworld.py ...`,
#             and a Dask worker (`docker run IMAGE dask worker ...`).
#   dataflow  (default) runtime + Beam's worker boot program, for `--sdk_container_image` on Dataflow and other
#             portable runners; it needs Beam's official SDK image, so it builds only where that can be pulled.
# Base images are build arguments: where no registry is reachable, BASE_IMAGE can be a Debian base made from Debian's
# packages (docker/debian_base.sh) and the runtime target is built alone (--target runtime).
# Installs the package from the same pyproject.toml as a local install (no second dependency list).
ARG BASE_IMAGE=debian:bookworm-slim
ARG BEAM_SDK_IMAGE=apache/beam_python3.11_sdk:2.77.0

FROM ${BASE_IMAGE} AS runtime
ARG DEBIAN_FRONTEND=noninteractive
# Bookworm's python3 is 3.11 (what bpy 5.0 needs); the X11/GL libraries are stubs the bpy wheel loads even when it
# renders headless.
RUN apt-get update && apt-get install -y --no-install-recommends \
      python3 python3-venv ca-certificates \
      libx11-6 libxrender1 libxxf86vm1 libxfixes3 libxi6 libxkbcommon0 libsm6 libice6 libgl1 libegl1 libgomp1 \
    && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /work
# Dependencies first, read from pyproject.toml (no second list), in a layer that only a dependency change rebuilds.
# docker/ca/ may hold a CA bundle (bundle.pem) for pip to trust behind a TLS-inspecting proxy (docker/build.sh puts
# the host's there, from $PIP_CERT); it is used for this install only and not kept in the image.
COPY pyproject.toml ./
COPY docker/ca/ /tmp/kubricgen-ca/
RUN if [ -s /tmp/kubricgen-ca/bundle.pem ]; then export PIP_CERT=/tmp/kubricgen-ca/bundle.pem; fi \
    && python3 -c "import tomllib; print('\\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
       > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt "setuptools>=68" \
    && rm -rf /tmp/kubricgen-ca /tmp/requirements.txt
COPY README.md ./
COPY kubricgen ./kubricgen
COPY sharding ./sharding
COPY robustness ./robustness
COPY scenes ./scenes
COPY assets ./assets
RUN pip install --no-cache-dir --no-deps --no-build-isolation .

COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV KUBRICGEN_DEVICE=auto \
    KUBRICGEN_ASSETS_DIR=/work/assets
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["kubricgen", "--help"]

FROM ${BEAM_SDK_IMAGE} AS beam_sdk

FROM runtime AS dataflow
# Beam's worker boot program: Dataflow (and other portable runners) start the container with its flags.
COPY --from=beam_sdk /opt/apache/beam /opt/apache/beam
