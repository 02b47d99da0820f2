"""TFDS builder `si_score`: configs location, rotation, size (SI-Score's), viewpoint, lighting, occlusion, clutter
and cue_conflict (ours: 3D factors) (split `test`) and train (split `train`).

Importing this module registers `si_score` with TFDS. Loading a built dataset needs none of it: TFDS reads
`tfds.load("si_score/location", data_dir=...)` from the files alone.
"""
from __future__ import annotations

import dataclasses
import json
import os

import tensorflow_datasets as tfds

from kubricgen.datasets.si_score import factors, schema, specs
from kubricgen.datasets.si_score.generate import Generator

CONFIG_NAMES = ("location", "rotation", "size", *factors.SUBSETS_3D, "train")


def _description(name: str) -> str:
  if name in factors.GRIDS:
    return f"Test subset varying {name}: grid of {len(factors.GRIDS[name])} factor values."
  if name == "viewpoint":
    grids = factors.VIEWPOINT_GRIDS
    return (f"Test subset varying the object's viewpoint (azimuth x elevation of the camera around it, object "
            f"centred, no rotation): {len(grids['default'])} poses by default, {len(grids['full'])} with --paper.")
  default, full = factors.GRIDS_3D["default"].get(name), factors.GRIDS_3D["full"].get(name)
  if name == "lighting":
    return (f"Test subset varying the key light (object centred, fixed pose): direction (azimuth x elevation) at "
            f"{default.nominal_irradiance:g} W/m^2 and irradiance {min(default.irradiances):g}..."
            f"{max(default.irradiances):g} W/m^2 at the nominal direction: {len(default)} conditions by default, "
            f"{len(full)} with --paper.")
  if name == "occlusion":
    return (f"Test subset varying the share of the object hidden by an occluder (a grey bar or another class's "
            f"object): levels {', '.join(f'{v:g}' for v in default.levels)} by default, {len(full.levels)} levels "
            "with --paper; the measured share, amodal mask and instance segmentation in every example.")
  if name == "clutter":
    return (f"Test subset varying the number of distractor objects of other classes around the centred target: "
            f"{', '.join(str(v) for v in default.counts)} by default, 0..{max(full.counts)} with --paper; the "
            "target's visible share, amodal mask and instance segmentation in every example.")
  if name == "cue_conflict":
    return ("Test subset of shape-texture cue conflicts: each held-out object's shape wearing the surface of "
            f"{default.textures_per_shape} other classes' objects by default, of every other class with --paper; "
            "label = shape_label, and texture_label.")
  return "Training split: random factors on training instances."


class SiScoreConfig(tfds.core.BuilderConfig):
  """One SI-Score config. Generation settings (resolution, mode, ...) travel with the builder's `generator` and are
  recorded in the dataset's metadata (`metadata.json: settings`)."""


def settings_json(settings: specs.Settings) -> str:
  return json.dumps(dataclasses.asdict(settings), sort_keys=True)


class Builder(tfds.core.GeneratorBasedBuilder):
  """SI-Score regenerated with 3D-rendered objects (kubricgen)."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {
      "1.0.0": "First release: location, rotation and size subsets with the paper's exact grids, a train split on "
               "held-out instances, object masks and every factor per example.",
  }
  BUILDER_CONFIGS = [SiScoreConfig(name=name, description=_description(name)) for name in CONFIG_NAMES]

  def __init__(self, *, generator: Generator | None = None, progress: bool = True, file_format=None, **kwargs):
    """`download_and_prepare()` generates every example in this process and writes it with TFDS's writer. (Beam
    builds, kubricgen.datasets.si_score.build, use this builder for `jobs()` and `info` only: their workers write
    the shards.)

    `file_format` picks which of a built dataset's formats to read (tfrecord, or its array_record copy). TFDS's own
    builder would take it as the primary format and refuse a dataset whose dataset_info.json names another one,
    which is what `tfds.data_source(name, split=...)` without data_dir asks for (array_record); here it is chosen
    among the formats the dataset has, as `as_data_source` does with a data_dir."""
    self._custom_generator = generator  # set first: TFDS calls _info() from its __init__
    self._progress = progress
    super().__init__(**kwargs)
    if file_format is not None:
      self._choose_file_format(tfds.core.FileFormat.from_value(file_format))

  def _choose_file_format(self, wanted) -> None:
    info = self.info
    if info.file_format == wanted:
      return
    if info.initialized:  # restored from a built dataset's dataset_info.json: one of its formats, files repointed
      available = info.available_file_formats()
      if wanted not in available:
        raise ValueError(f"si_score/{self.builder_config.name} in {self.data_dir} has no {wanted.value} files (it "
                         f"has {', '.join(sorted(f.value for f in available))})")
      info.set_file_format(wanted, override=True, override_if_initialized=True)
    else:  # nothing built yet: the format to write
      info.set_file_format(wanted, override=True)
    self._original_state["file_format"] = wanted.value  # a pickled copy reads the same files

  @property
  def _generator(self) -> Generator:
    if self._custom_generator is None:
      self._custom_generator = Generator(specs.Settings())
    return self._custom_generator

  def _existing(self):
    """(features, alternative file formats) of an already-built copy in data_dir, else None: reading a built
    dataset never needs the class library it was made from."""
    data_dir = getattr(self, "_data_dir", None)
    if not data_dir or not os.path.isfile(os.path.join(data_dir, "features.json")):
      return None
    with open(os.path.join(data_dir, "dataset_info.json"), encoding="utf-8") as handle:
      alternatives = json.load(handle).get("alternativeFileFormats", [])
    return tfds.features.FeatureConnector.from_config(data_dir), alternatives

  def _info(self) -> tfds.core.DatasetInfo:
    existing = self._existing()
    if existing is not None:
      return self.dataset_info_from_configs(features=existing[0], alternative_file_formats=existing[1],
                                            supervised_keys=("image", "label"),
                                            homepage="https://github.com/google-research/si-score")
    generator = self._generator
    class_names = sorted(c.name for c in generator.library.classes)
    return self.dataset_info_from_configs(
        features=schema.features(class_names, self.builder_config.name),
        supervised_keys=("image", "label"),
        homepage="https://github.com/google-research/si-score",
        metadata=tfds.core.MetadataDict(
            settings=json.loads(settings_json(generator.settings)),
            imagenet_labels={c.name: c.imagenet_index for c in generator.library.classes},
        ),
    )

  def jobs(self) -> list[specs.Job]:
    generator, name = self._generator, self.builder_config.name
    background_ids = list(generator.backgrounds.ids)
    all_specs = specs.config_specs(name, generator.settings, generator.library, background_ids)
    return specs.group_into_jobs(all_specs, generator.settings.job_size)

  def _split_generators(self, dl_manager):
    del dl_manager  # nothing to download: everything is rendered
    jobs = self.jobs()
    self._render_cutouts(jobs)
    split = specs.SPLIT_OF_SUBSET[self.builder_config.name]
    return {split: self._generate_examples(jobs)}

  def _render_cutouts(self, jobs) -> None:
    from tqdm.auto import tqdm  # pylint: disable=import-outside-toplevel
    needed = [(job, pose) for job in jobs for pose in job.poses()]
    # In-process builds: each cut-out once, before compositing (Beam builds render them in the workers' jobs).
    for job, pose in tqdm(needed, desc=f"si_score/{self.builder_config.name}: cut-outs", unit="object",
                          disable=not self._progress, leave=False):
      self._generator.cutout(job, pose)

  def _generate_examples(self, jobs):
    return self._generate_in_process(jobs)

  def _generate_in_process(self, jobs):
    from tqdm.auto import tqdm  # pylint: disable=import-outside-toplevel
    total = sum(len(job.specs) for job in jobs)
    with tqdm(total=total, desc=f"si_score/{self.builder_config.name}", unit="img", disable=not self._progress,
              smoothing=0.05) as bar:
      for job in jobs:
        yield from self._generator.examples(job)
        bar.update(len(job.specs))
