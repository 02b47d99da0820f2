"""Load a rendered scene folder back: per-frame arrays, metadata.json and events.json."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kubricgen.output.images import read_image_dict
from kubricgen.output.metadata import read_json


@dataclass
class SceneFolder:
  """A rendered scene: `layers` {name: (frames, H, W, C)}, `metadata`, `events` (collisions)."""
  path: str
  layers: dict[str, np.ndarray]
  metadata: dict[str, Any]
  events: dict[str, Any] = field(default_factory=dict)

  def __getitem__(self, layer: str) -> np.ndarray:
    return self.layers[layer]


def load_scene(path) -> SceneFolder:
  path = os.fspath(path)
  metadata_path = os.path.join(path, "metadata.json")
  if not os.path.isfile(metadata_path):
    raise FileNotFoundError(f"{path}: not a rendered scene folder (no metadata.json)")
  events_path = os.path.join(path, "events.json")
  events = read_json(events_path) if os.path.isfile(events_path) else {}
  return SceneFolder(path=path, layers=read_image_dict(path), metadata=read_json(metadata_path), events=events)
