# Rendering container: `docker build -t kubricgen .` then
#   docker run --rm -v "$PWD/output:/work/output" kubricgen kubricgen render scenes/movi_a.py --out output/movi_a
# Installs the package from the same pyproject.toml as a local install (no second dependency list).
FROM python:3.11-slim-bookworm

# Shared libraries the bpy wheel links against (X11/GL stubs it loads even when rendering headless).
RUN apt-get update && apt-get install -y --no-install-recommends \
      libx11-6 libxrender1 libxxf86vm1 libxfixes3 libxi6 libxkbcommon0 libsm6 libice6 libgl1 libegl1 libgomp1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /work
COPY pyproject.toml README.md ./
COPY kubricgen ./kubricgen
COPY scenes ./scenes
RUN pip install --no-cache-dir .

ENV KUBRICGEN_DEVICE=auto
CMD ["kubricgen", "--help"]
