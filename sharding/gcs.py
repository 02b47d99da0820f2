"""Publish a finished TFDS dataset version folder to gs:// and fetch it back.

TensorFlow's own GCS client cannot be pointed at an emulator, so datasets are written locally and uploaded with
google-cloud-storage (through `kubricgen.storage`, which honours STORAGE_EMULATOR_HOST and retries transient
errors). dataset_info.json is uploaded last: TFDS treats a version folder without it as absent, so a reader never
sees a partial dataset. Against real GCS, `tfds.load(..., data_dir="gs://...")` reads the result directly.
"""
from __future__ import annotations

import os

from kubricgen.storage import GcsStorage, split_url

MARKER = "dataset_info.json"


def upload_dataset(local_version_dir: str, destination: str, overwrite: bool = False,
                   storage: GcsStorage | None = None) -> str:
  storage = storage or GcsStorage()
  split_url(destination)  # validates the URL
  existing = storage.list(destination.rstrip("/") + "/")
  if any(url.endswith("/" + MARKER) for url in existing) and not overwrite:
    raise FileExistsError(f"{destination} already holds a dataset (pass --overwrite to replace it)")
  files = sorted(name for name in os.listdir(local_version_dir)
                 if os.path.isfile(os.path.join(local_version_dir, name)))
  if MARKER not in files:
    raise FileNotFoundError(f"{local_version_dir}: no {MARKER}, not a finished dataset")
  for name in [n for n in files if n != MARKER] + [MARKER]:
    storage.upload_file(os.path.join(local_version_dir, name), f"{destination.rstrip('/')}/{name}")
  return destination


def download_dataset(source: str, local_version_dir: str, storage: GcsStorage | None = None) -> str:
  """Copy a published version folder from gs:// (refused if it has no dataset_info.json)."""
  storage = storage or GcsStorage()
  urls = storage.list(source.rstrip("/") + "/")
  if not any(url.endswith("/" + MARKER) for url in urls):
    raise FileNotFoundError(f"{source}: no published dataset there")
  os.makedirs(local_version_dir, exist_ok=True)
  for url in urls:
    storage.download(url, os.path.join(local_version_dir, url.rsplit("/", 1)[1]))
  return local_version_dir
