"""The bad-input inventory: every case of docs/bad_inputs.md, run, and the document checked against these cases.

Each case builds one bad input in tmp_path (a flag, a scene script, a mesh, a manifest, an archive, a dataset folder, a
config, a checkpoint, a storage URL), runs `kubricgen` on it (in-process through `main(argv)`; scene scripts in a
subprocess) and asserts: a non-zero exit, stderr is exactly one line matching the documented line (`…` stands for a
path-dependent part), no traceback. `test_the_document_lists_exactly_these_cases` keeps the document and the cases
in step.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import subprocess
import tarfile
import traceback
import zipfile
from typing import Callable

import pytest

from kubricgen.cli.main import main
from tests.conftest import ROOT, free_port, kubricgen_command

DOC = os.path.join(ROOT, "docs", "bad_inputs.md")
SCRIPTS = os.path.join(ROOT, "tests", "data")


@dataclasses.dataclass(frozen=True)
class Case:
  """One bad input: `setup(tmp_path)` builds it and returns kubricgen's argv; `line` is the one line it prints."""
  id: str
  setup: Callable
  line: str
  code: int = 1
  subprocess: bool = False  # scene scripts run as `kubricgen render` in a child process
  env: tuple = ()  # (NAME, VALUE) set for the run
  gap: str = ""  # a known gap: the case does not give one clean line today (xfail, strict)
  leaves: tuple = ()  # paths (relative to the work folder) the failed run creates: empty folders, lock files


def argv(*args):
  """A setup for a fixed argv; `{tmp}` in an argument is replaced by tmp_path."""
  return lambda tmp: [a.format(tmp=tmp) for a in args]


def scene(script, *args):
  return argv("render", os.path.join(SCRIPTS, script) if "/" not in script else script, "--out", "{tmp}/out", *args)


HELLO = os.path.join(ROOT, "scenes", "helloworld.py")
SI_SCORE = os.path.join(ROOT, "scenes", "si_score.py")


def _existing_output(tmp):
  (tmp / "out").mkdir()
  (tmp / "out" / "precious.txt").write_text("keep me")
  return ["render", HELLO, "--out", str(tmp / "out"), "--seed", "0", "--resolution", "8x8", "--samples", "1"]


def _output_under_a_file(tmp):
  (tmp / "file").write_text("x")
  return ["render", HELLO, "--out", str(tmp / "file" / "out"), "--seed", "0", "--resolution", "8x8", "--samples",
          "1"]


def _si_score_published_without_record(tmp):
  version = tmp / "tfds" / "si_score" / "location" / "1.0.0"
  version.mkdir(parents=True)
  (version / "dataset_info.json").write_text("{}")
  return ["render", SI_SCORE, "--configs", "location", "--data_dir", str(tmp / "tfds"), "--in_process",
          "--preview_dir", str(tmp / "preview")]


# Meshes and archives ----------------------------------------------------------------------------------------------

def _meshes(tmp):
  from tests.assets.conftest import write_meshes
  return write_meshes(tmp / "meshes")


def _import(tmp, source, *extra):
  return ["assets", "import", str(source), "--out", str(tmp / "lib" / "m.json"), "--no-thumbnails", *extra]


def _unreadable_mesh(tmp):
  folder = tmp / "meshes"
  folder.mkdir()
  (folder / "broken.glb").write_bytes(b"not a binary glTF file " * 16)
  return _import(tmp, folder)


def _empty_mesh(tmp):
  folder = tmp / "meshes"
  folder.mkdir()
  (folder / "empty.obj").write_text("# no vertices, no faces\n")
  return _import(tmp, folder)


def _no_meshes(tmp):
  (tmp / "meshes").mkdir()
  (tmp / "meshes" / "readme.txt").write_text("no meshes here")
  return _import(tmp, tmp / "meshes")


def _two_files_one_id(tmp):
  folder = _meshes(tmp)
  (folder / "box.obj").write_bytes((folder / "ell.obj").read_bytes())
  return _import(tmp, folder)


def _zip_escaping(tmp):
  folder = _meshes(tmp)
  with zipfile.ZipFile(tmp / "bad.zip", "w") as archive:
    archive.write(folder / "box.stl", "toys/box.stl")
    archive.writestr("../../escape.stl", b"solid x\nendsolid x\n")
  return _import(tmp, tmp / "bad.zip")


def _zip_absolute(tmp):
  with zipfile.ZipFile(tmp / "bad.zip", "w") as archive:
    archive.writestr("/etc/evil.stl", b"solid x\nendsolid x\n")
  return _import(tmp, tmp / "bad.zip")


def _tar_link(tmp):
  with tarfile.open(tmp / "bad.tar", "w") as archive:
    link = tarfile.TarInfo("toys/box.stl")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    archive.addfile(link)
  return _import(tmp, tmp / "bad.tar")


def _not_an_archive(tmp):
  (tmp / "meshes.zip").write_bytes(b"this is not a zip file at all")
  return _import(tmp, tmp / "meshes.zip")


def _truncated_tar_gz(tmp):
  folder = _meshes(tmp)
  with tarfile.open(tmp / "meshes.tar.gz", "w:gz") as archive:
    archive.add(folder / "ell.obj", arcname="toys/ell.obj")
  data = (tmp / "meshes.tar.gz").read_bytes()
  (tmp / "meshes.tar.gz").write_bytes(data[:len(data) // 2])
  return _import(tmp, tmp / "meshes.tar.gz")


# Asset manifests --------------------------------------------------------------------------------------------------

def _manifest(tmp, change):
  from tests.assets.test_manifest import valid
  data = valid()
  change(data)
  (tmp / "m.json").write_text(json.dumps(data))
  return ["assets", "list", "--source", str(tmp / "m.json")]


def _manifest_not_json(tmp):
  (tmp / "m.json").write_text('{"schema": "kubricgen-asset-manifest", "version": 1,')
  return ["assets", "list", "--source", str(tmp / "m.json")]


def _manifest_folder(tmp):
  (tmp / "m.json").mkdir()
  return ["assets", "list", "--source", str(tmp / "m.json")]


def _tampered_file(tmp):
  from tests.assets.test_sources import box_obj, local_manifest
  path = local_manifest(tmp, {"box.obj": box_obj()})
  (tmp / "lib" / "box.obj").write_bytes(box_obj().replace(b"v ", b"V ", 1))  # same size, other bytes
  return ["assets", "verify", "--source", str(path)]


def _truncated_file(tmp):
  from tests.assets.test_sources import box_obj, local_manifest
  path = local_manifest(tmp, {"box.obj": box_obj()})
  (tmp / "lib" / "box.obj").write_bytes(box_obj()[:100])
  return ["assets", "verify", "--source", str(path)]


def _missing_file(tmp):
  from tests.assets.test_sources import box_obj, local_manifest
  path = local_manifest(tmp, {"box.obj": box_obj()})
  (tmp / "lib" / "box.obj").unlink()
  return ["assets", "verify", "--source", str(path)]


def _archive_entry_escaping(tmp):
  from tests.assets.test_sources import box_obj, local_manifest, served_from_its_archive
  data = box_obj()
  (tmp / "box.obj").write_bytes(data)
  archive = tmp / "thing.tar.gz"
  with tarfile.open(archive, "w:gz") as tar:
    tar.add(tmp / "box.obj", arcname="../box.obj")
  path = local_manifest(tmp, {"thing.tar.gz": archive.read_bytes()})
  served_from_its_archive(path, data)
  return ["assets", "verify", "--source", str(path)]


def _import_link_out(tmp):
  folder = _meshes(tmp)
  outside = tmp / "outside.stl"
  (folder / "box.stl").rename(outside)
  os.symlink(outside, folder / "box.stl")
  return _import(tmp, folder)


# Datasets ---------------------------------------------------------------------------------------------------------

def _corrupt_dataset_info(tmp):
  version = tmp / "tfds" / "si_score" / "location" / "1.0.0"
  version.mkdir(parents=True)
  (version / "dataset_info.json").write_text('{"name": "si_score", "splits": [')
  return version


def _dataset_without_hashes(tmp, tiny_data_dir):
  return ["verify", os.path.join(tiny_data_dir, "tiny_shapes", "1.0.0")]


# Training configs and checkpoints ---------------------------------------------------------------------------------

def _train(tmp, *args, config=None):
  from tests.robustness.conftest import TINY_CONFIG
  return ["train", "--config", config or TINY_CONFIG, "--workdir", str(tmp / "run"), "--no_progress", *args]


def _config_file(tmp, text):
  (tmp / "my_config.py").write_text(text)
  return _train(tmp, config=str(tmp / "my_config.py"))


def _train_with(tiny_data_dir, tmp, last_pt: bytes | None = None, *args):
  """`kubricgen train` on the tiny_shapes data; `last_pt`: the bytes of a last.pt already in the run folder."""
  if last_pt is not None:
    (tmp / "run").mkdir()
    (tmp / "run" / "last.pt").write_bytes(last_pt)
  return _train(tmp, "--data_dir", tiny_data_dir, "--config.total_steps=3", "--config.eval.dataset=", *args)


def _checkpoint_bytes(state: dict, digest: bool = True) -> bytes:
  """torch.save bytes of `state`, with the sha256 trailer kubricgen's checkpoints carry (unless digest=False)."""
  import io
  import torch
  from kubricgen_robustness.train import checkpoint
  buffer = io.BytesIO()
  torch.save(state, buffer)
  return checkpoint.with_digest(buffer.getvalue()) if digest else buffer.getvalue()


def _ours(**state):
  import torch
  from kubricgen_robustness.train import checkpoint
  return dict({"format": checkpoint.FORMAT, "version": checkpoint.VERSION, "weights": torch.zeros(4096)}, **state)


def _truncated_checkpoint(tmp, tiny_data_dir):
  return _train_with(tiny_data_dir, tmp, _checkpoint_bytes(_ours())[:5000])


def _flipped_byte_checkpoint(tmp, tiny_data_dir):
  data = bytearray(_checkpoint_bytes(_ours()))
  data[len(data) // 2] ^= 0xFF
  return _train_with(tiny_data_dir, tmp, bytes(data))


def _plain_torch_save(tmp, tiny_data_dir):
  return _train_with(tiny_data_dir, tmp, _checkpoint_bytes(_ours(), digest=False))


def _foreign_checkpoint(tmp, tiny_data_dir):
  import torch
  return _train_with(tiny_data_dir, tmp, _checkpoint_bytes({"state_dict": {"w": torch.zeros(2)}}))


def _future_checkpoint(tmp, tiny_data_dir):
  return _train_with(tiny_data_dir, tmp, _checkpoint_bytes(_ours(version=99)))


def _code_running_checkpoint(tmp, tiny_data_dir):
  from tests.robustness.train.test_bad_input import RunsCode
  return _train_with(tiny_data_dir, tmp, _checkpoint_bytes(_ours(payload=RunsCode(str(tmp / "ran")))))


T = "…/tests/data/"  # where the bad scene scripts of tests/data are
CASES = [
    # Flags
    Case("unknown-command", argv("frobnicate"), "kubricgen: error: argument COMMAND: invalid choice: 'frobnicate' "
         "(choose from 'render', 'verify', 'assets', 'export', 'train', 'study', 'analyze')", 2),
    Case("assets-bad-split", argv("assets", "list", "--split", "validation"), "kubricgen assets list: error: "
         "argument --split: invalid choice: 'validation' (choose from 'train', 'test')", 2),
    Case("assets-preview-tiny-size", argv("assets", "preview", "--size", "4", "--out", "{tmp}/x.png"),
         "kubricgen assets preview: error: argument --size: must be >= 16, got 4", 2),
    Case("assets-preview-not-png", argv("assets", "preview", "cube", "--source", "kubasic", "--out", "{tmp}/x.jpg"),
         "kubricgen assets preview: error: argument --out: must name a .png file, got …/x.jpg", 2),
    Case("import-bad-scale", argv("assets", "import", "{tmp}", "--out", "{tmp}/m.json", "--scale", "0"),
         "kubricgen assets import: error: argument --scale: must be > 0, got 0", 2),
    Case("import-front-axis-missing-value", lambda tmp: _import(tmp, _meshes(tmp), "--front-axis", "-y"),
         "kubricgen assets import: error: argument --front_axis: expected one argument", 2),
    Case("export-unknown-format", argv("export", "coco"), "kubricgen export: error: argument format: invalid "
         "choice: 'coco' (choose from 'siscore')", 2),
    Case("export-unknown-config", argv("export", "siscore", "--configs", "colour"), "kubricgen export: error: "
         "argument --configs: the stock siscore builder has no colour config; choose from location,rotation,size", 2),
    Case("export-ours-alone", argv("export", "siscore", "--configs", "viewpoint"),
         "kubricgen export: error: argument --configs: viewpoint is a kubricgen config (3D factors SI-Score's 2D "
         "pastes cannot vary); the stock siscore builder has only location,rotation,size", 2),
    Case("analyze-few-resamples", argv("analyze", "--model", "x", "--resamples", "10"),
         "kubricgen analyze: error: argument --resamples: must be >= 100, got 10", 2),
    Case("study-unknown-flag", argv("study", "--epochs", "5"),
         "kubricgen study: error: unrecognized arguments: --epochs 5", 2),
    Case("train-no-config", argv("train"), "kubricgen train: error: the following arguments are required: --config",
         2),
    Case("train-override-without-value", argv("train", "--config", "vit_ti8_cpu", "--config.total_steps"),
         "kubricgen train: error: --config.total_steps needs a value", 2),
    Case("render-no-script", argv("render"), "kubricgen render: error: the following arguments are required: script",
         2),
    Case("render-flag-before-script", argv("render", "--seed", "1"),
         "kubricgen render: error: the following arguments are required: script", 2),
    # Scene scripts (a child process each)
    Case("scene-bad-resolution", scene(HELLO, "--resolution", "64xabc"),
         "helloworld.py: error: argument --resolution: expected WxH (e.g. 256x256), got '64xabc'", 2, subprocess=True),
    Case("scene-negative-seed", scene(HELLO, "--seed", "-1"),
         "helloworld.py: error: argument --seed: must be in [0, 2^32), got -1", 2, subprocess=True),
    Case("scene-unknown-engine", scene(HELLO, "--engine", "povray"), "helloworld.py: error: argument --engine: "
         "invalid choice: 'povray' (choose from 'cycles', 'eevee', 'workbench')", 2, subprocess=True),
    Case("scene-unknown-output-format", scene(HELLO, "--output_format", "npz"), "helloworld.py: error: argument "
         "--output_format: invalid choice: 'npz' (choose from 'exr32', 'exr16', 'kubric')", 2, subprocess=True),
    Case("scene-unknown-flag", scene(HELLO, "--frobnicate"),
         "helloworld.py: error: unrecognized arguments: --frobnicate", 2, subprocess=True),
    Case("scene-not-found", scene("no_such_scene.py"),
         f"kubricgen: error: scene script not found: {T}no_such_scene.py", 1, subprocess=True),
    Case("scene-syntax-error", scene("syntax_error.py"),
         f"kubricgen: error: {T}syntax_error.py:2: syntax error: invalid syntax", 1, subprocess=True),
    Case("scene-raises", scene("raises.py", "--seed", "1"),
         f"kubricgen: error: {T}raises.py:5 failed: ValueError: Cube.mass: must be >= 0, got -1.0", 1,
         subprocess=True),
    Case("scene-missing-mesh", scene("missing_mesh.py", "--seed", "1"),
         f"kubricgen: error: {T}missing_mesh.py:4 failed: ValueError: FileBasedObject.render_filename: file not "
         "found: meshes/does_not_exist.obj", 1, subprocess=True),
    Case("scene-output-exists", _existing_output,
         "kubricgen: error: output folder …/out already exists (pass --overwrite to replace it)", 1, subprocess=True),
    Case("scene-output-under-a-file", _output_under_a_file,
         "kubricgen: error: cannot create output folder …/file: File exists", 1, subprocess=True),
    # Dataset build settings (scenes/si_score.py)
    Case("si-score-unknown-config", argv("render", SI_SCORE, "--configs", "colour"),
         "si_score: error: argument --configs: unknown ['colour']; choose from location,rotation,size,viewpoint,"
         "lighting,occlusion,clutter,cue_conflict,train", 2,
         subprocess=True),
    Case("si-score-one-class-cue-conflict", argv("render", SI_SCORE, "--configs", "viewpoint,cue_conflict",
                                                 "--classes", "banana"),
         "si_score: error: the cue_conflict config puts another class's surface on each shape: it needs at least two "
         "classes, got only 'banana'", 2, subprocess=True),
    Case("si-score-not-square", argv("render", SI_SCORE, "--resolution", "224x100"),
         "si_score: error: argument --resolution: SI-Score images are square, got 224x100", 2, subprocess=True),
    Case("si-score-bad-threshold", argv("render", SI_SCORE, "--visibility_threshold", "location"),
         "si_score: error: argument --visibility_threshold: expected SUBSET=VALUE, got 'location'", 2,
         subprocess=True),
    Case("si-score-bad-instances", argv("render", SI_SCORE, "--instances_per_class", "some"),
         "si_score: error: argument --instances_per_class: expected a number or 'all', got 'some'", 2,
         subprocess=True),
    Case("si-score-negative-train", argv("render", SI_SCORE, "--train_examples", "-1"),
         "si_score: error: argument --train_examples: must be >= 0, got -1", 2, subprocess=True),
    Case("si-score-negative-retries", argv("render", SI_SCORE, "--retries", "-1"),
         "si_score: error: argument --retries: must be >= 0, got -1", 2, subprocess=True),
    Case("si-score-zero-job-timeout", argv("render", SI_SCORE, "--job_timeout", "0"),
         "si_score: error: argument --job_timeout: must be > 0 seconds, got 0", 2, subprocess=True),
    Case("si-score-unknown-beam-flag", argv("render", SI_SCORE, "--runer", "DirectRunner"),
         "si_score: error: unrecognized arguments: --runer DirectRunner", 2, subprocess=True),
    Case("si-score-built-without-record", _si_score_published_without_record,
         "kubricgen: error: si_score/location at …/tfds/si_score/location/1.0.0 has no record of its build settings "
         "(built by an older kubricgen); pass --overwrite to rebuild it with these settings, or use another "
         "--data_dir", 1, subprocess=True, leaves=("preview", "tfds/.si_score-location.lock")),
    # Meshes and archives (kubricgen assets import)
    Case("import-missing-folder", argv("assets", "import", "{tmp}/nowhere", "--out", "{tmp}/m.json"),
         "kubricgen: error: import: …/nowhere is not a folder or a .zip/.tar archive"),
    Case("import-out-not-json", argv("assets", "import", "{tmp}", "--out", "{tmp}/m.txt"),
         "kubricgen: error: import: --out must name a .json manifest, got …/m.txt"),
    Case("import-no-meshes", _no_meshes,
         "kubricgen: error: import: no mesh files (.obj, .glb, .gltf, .stl, .ply) under …/meshes"),
    Case("import-unreadable-mesh", _unreadable_mesh,
         "kubricgen: error: …/meshes/broken.glb: cannot read mesh: incorrect header on GLB file"),
    Case("import-empty-mesh", _empty_mesh, "kubricgen: error: …/meshes/empty.obj: no triangles found"),
    Case("import-two-files-one-id", _two_files_one_id,
         "kubricgen: error: import: box.stl and box.obj both map to id 'box'"),
    Case("import-axes-parallel", lambda tmp: _import(tmp, _meshes(tmp), "--up-axis", "+y", "--front-axis=-y"),
         "kubricgen: error: import: front axis -y is parallel to up axis +y"),
    Case("import-link-out-of-folder", _import_link_out,
         "kubricgen: error: import: 'box.stl' leads outside …/meshes (through a link)"),
    Case("import-zip-escapes", _zip_escaping,
         "kubricgen: error: bad.zip: archive entry: '../../escape.stl' escapes its folder ('..')"),
    Case("import-zip-absolute", _zip_absolute, "kubricgen: error: bad.zip: archive entry: '/etc/evil.stl' is "
         "absolute; only paths inside the folder are allowed"),
    Case("import-tar-link", _tar_link,
         "kubricgen: error: bad.tar: archive entry 'toys/box.stl' is a link; links are refused"),
    Case("import-not-an-archive", _not_an_archive, "kubricgen: error: meshes.zip: not a zip or tar archive"),
    Case("import-truncated-archive", _truncated_tar_gz, "kubricgen: error: assets import failed: EOFError: "
         "Compressed file ended before the end-of-stream marker was reached"),
    # Asset sources and manifests
    Case("assets-unknown-id", argv("assets", "show", "dragon"),
         "kubricgen: error: classes: unknown asset id 'dragon' (… assets; see `kubricgen assets list`)"),
    Case("assets-unknown-source", argv("assets", "list", "--source", "nowhere"), "kubricgen: error: unknown source "
         "'nowhere': expected classes, kubasic, pybullet_data, backgrounds, a manifest (.json or gs://) or a folder"),
    Case("manifest-missing", argv("assets", "list", "--source", "{tmp}/missing.json"),
         "kubricgen: error: manifest …/missing.json: file not found"),
    Case("manifest-is-a-folder", _manifest_folder,
         "kubricgen: error: manifest …/m.json: is a folder, expected a JSON file"),
    Case("manifest-not-json", _manifest_not_json, "kubricgen: error: manifest …/m.json: not valid JSON: Expecting "
         "property name enclosed in double quotes: line 1 column 53 (char 52)"),
    Case("manifest-wrong-schema", lambda tmp: _manifest(tmp, lambda d: d.update(schema="kubric")),
         "kubricgen: error: manifest …/m.json: schema: expected 'kubricgen-asset-manifest', got 'kubric'"),
    Case("manifest-newer-version", lambda tmp: _manifest(tmp, lambda d: d.update(version=2)),
         "kubricgen: error: manifest …/m.json: version: this kubricgen reads version 1, got 2"),
    Case("manifest-unknown-key", lambda tmp: _manifest(tmp, lambda d: d.update(extra=1)),
         "kubricgen: error: manifest …/m.json: top level: unknown keys ['extra']"),
    Case("manifest-missing-license", lambda tmp: _manifest(tmp, lambda d: d["assets"][0].pop("license")),
         "kubricgen: error: manifest …/m.json: assets[0]: missing 'license'"),
    Case("manifest-bad-sha256", lambda tmp: _manifest(tmp, lambda d: d["assets"][0]["files"][0].update(
        sha256="abc")), "kubricgen: error: manifest …/m.json: asset 'duck'.files[0].sha256: expected 64 lowercase "
         "hex digits, got 'abc'"),
    Case("manifest-path-escapes", lambda tmp: _manifest(tmp, lambda d: d["assets"][0]["files"][0].update(
        path="../duck.obj")), "kubricgen: error: manifest …/m.json: asset 'duck'.files[0].path: '../duck.obj' "
         "escapes its folder ('..')"),
    Case("manifest-duplicate-id", lambda tmp: _manifest(tmp, lambda d: d["assets"][1].update(id="duck")),
         "kubricgen: error: manifest …/m.json: assets: duplicate asset id 'duck'"),
    Case("manifest-bad-imagenet-index", lambda tmp: _manifest(tmp, lambda d: d["assets"][1].update(
        imagenet_index=1000)), "kubricgen: error: manifest …/m.json: asset 'teapot'.imagenet_index: expected an "
         "ImageNet-1k index 0..999 or null, got 1000"),
    Case("file-tampered", _tampered_file, "kubricgen: error: asset 'thing' (…/lib/manifest.json): box.obj: sha256 "
         "mismatch for …/lib/box.obj: expected …, found …"),
    Case("file-truncated", _truncated_file, "kubricgen: error: asset 'thing' (…/lib/manifest.json): box.obj: size "
         "mismatch for …/lib/box.obj: expected … bytes, found 100"),
    Case("file-missing", _missing_file, "kubricgen: error: asset 'thing' (…/lib/manifest.json): missing file box.obj "
         "(looked in …/lib)"),
    Case("archive-entry-escapes", _archive_entry_escaping,
         "kubricgen: error: thing.tar.gz: archive entry: '../box.obj' escapes its folder ('..')"),
    # Storage (gs://)
    Case("gs-no-bucket", argv("assets", "list", "--source", "gs:///m.json"),
         "kubricgen: error: gs:///m.json: no bucket name"),
    Case("gs-bucket-only", argv("assets", "list", "--source", "gs://bucket.json"),
         "kubricgen: error: gs://bucket.json: names a bucket, not an object"),
    Case("gs-unreachable", argv("assets", "list", "--source", "gs://bucket/m.json"),
         "kubricgen: error: gs://bucket/m.json: cannot read: storage at http://127.0.0.1:… unreachable: still "
         "failing after 1 s of retries (ConnectionError)",
         env=(("STORAGE_EMULATOR_HOST", "http://127.0.0.1:{port}"), ("KUBRICGEN_GCS_RETRY_S", "1"))),
    # Datasets
    Case("verify-not-a-dataset", argv("verify", "{tmp}"),
         "kubricgen: error: …: no dataset_info.json, not a built TFDS dataset version folder"),
    Case("verify-no-content-hash", _dataset_without_hashes,
         "kubricgen: error: …/tiny_shapes/1.0.0: examples carry no content_hash; nothing to verify against"),
    Case("export-not-built", argv("export", "siscore", "--configs", "location", "--data_dir", "{tmp}/tfds", "--out",
                                  "{tmp}/siscore"),
         "kubricgen: error: no built si_score/location dataset at …/tfds/si_score/location/1.0.0 (build it with: "
         "kubricgen render scenes/si_score.py --configs location --data_dir …/tfds)"),
    Case("analyze-dataset-not-built", argv("analyze", "--model", "x", "--dataset", "no_such_dataset", "--configs",
                                           "location", "--data_dir", "{tmp}", "--no_progress"),
         "kubricgen: error: analyze: dataset 'no_such_dataset/location' not found in data_dir … "
         "(DatasetNotFoundError); build it first, e.g. `kubricgen render scenes/si_score.py`"),
    Case("analyze-no-configs", argv("analyze", "--model", "x", "--configs", ",", "--no_progress"),
         "kubricgen: error: analyze: no dataset config given (e.g. --configs location,rotation,size)"),
    Case("analyze-no-model", argv("analyze", "--configs", "location", "--no_progress"),
         "kubricgen: error: analyze: no model given (--model RUN_DIR | timm:NAME[:WEIGHTS] | MODULE:FUNCTION)"),
    Case("analyze-names-mismatch", argv("analyze", "--model", "x", "--name", "a", "--name", "b", "--no_progress"),
         "kubricgen: error: analyze: 2 names for 1 models"),
    Case("verify-corrupt-dataset-info", lambda tmp: ["verify", str(_corrupt_dataset_info(tmp))],
         "kubricgen: error: …/tfds/si_score/location/1.0.0: dataset_info.json or features.json does not read "
         "(ParseError: Failed to load JSON: …)"),
    Case("export-corrupt-dataset-info", lambda tmp: [
        "export", "siscore", "--configs", "location", "--data_dir", str(_corrupt_dataset_info(tmp).parents[2]),
        "--out", str(tmp / "siscore")], "kubricgen: error: …/tfds/si_score/location/1.0.0: dataset_info.json or "
        "features.json does not read (ParseError: Failed to load JSON: …)"),
    # Training configs
    Case("train-unknown-config", lambda tmp: _train(tmp, config="no_such_config"), "kubricgen: error: config not "
         "found: 'no_such_config' (a path to a .py file, or one of: resnet18_cpu, resnet50_bit_gpu, vit_s16_gpu, "
         "vit_ti8_cpu)", 2),
    Case("train-config-without-get-config", lambda tmp: _config_file(tmp, "CONFIG = {'batch_size': 8}\n"),
         "kubricgen: error: …/my_config.py has no get_config()", 2),
    Case("train-unknown-key", lambda tmp: _train(tmp, "--config.optimizer.lrr=0.1"),
         "kubricgen: error: unknown config key 'optimizer.lrr'", 2),
    Case("train-bad-value", lambda tmp: _train(tmp, "--config.batch_size=many"),
         "kubricgen: error: config key 'batch_size': cannot set 'many' (…)", 2),
    Case("train-zero-batch", lambda tmp: _train(tmp, "--config.batch_size=0"),
         "kubricgen: error: config key 'batch_size' must be > 0", 2),
    Case("train-group-key", lambda tmp: _train(tmp, "--config.optimizer=adam"),
         "kubricgen: error: config key 'optimizer' is a group; set its members, e.g. optimizer.NAME=VALUE", 2),
    Case("train-dataset-not-built", lambda tmp: _train(tmp, "--data_dir", str(tmp / "tfds"),
                                                       "--config.dataset=no_such_dataset"),
         "kubricgen: error: dataset 'no_such_dataset' not found in data_dir …/tfds (DatasetNotFoundError); build it "
         "first, e.g. `kubricgen render scenes/si_score.py`"),
    Case("train-unknown-model", lambda tmp, d: _train_with(d, tmp, None, "--config.model.name=not_a_model"),
         "kubricgen: error: unknown model name 'not_a_model' (see timm.list_models(), e.g. 'vit_tiny_patch16_224', "
         "'resnet18', 'resnetv2_50x1_bit')"),
    Case("train-missing-weights", lambda tmp, d: _train_with(
        d, tmp, None, "--config.model.pretrained_file=/no/such/weights.safetensors"),
         "kubricgen: error: weights not found: /no/such/weights.safetensors"),
    Case("train-config-syntax-error", lambda tmp: _config_file(tmp, "def get_config(:\n"),
         "kubricgen: error: …/my_config.py:1: syntax error: invalid syntax", 2),
    Case("train-config-raises", lambda tmp: _config_file(tmp, "def get_config():\n  raise RuntimeError('boom')\n"),
         "kubricgen: error: …/my_config.py: get_config() failed: RuntimeError: boom", 2),
    # Checkpoints (last.pt in the run folder, read before training resumes)
    Case("checkpoint-truncated", _truncated_checkpoint, "kubricgen: error: checkpoint …/run/last.pt is damaged or "
         "not a kubricgen checkpoint: no sha256 at its end"),
    Case("checkpoint-plain-torch-save", _plain_torch_save, "kubricgen: error: checkpoint …/run/last.pt is damaged "
         "or not a kubricgen checkpoint: no sha256 at its end"),
    Case("checkpoint-flipped-byte", _flipped_byte_checkpoint, "kubricgen: error: checkpoint …/run/last.pt is "
         "damaged: sha256 of its bytes is …, it was saved as …"),
    Case("checkpoint-foreign", _foreign_checkpoint,
         "kubricgen: error: …/run/last.pt is not a kubricgen training checkpoint"),
    Case("checkpoint-future-version", _future_checkpoint,
         "kubricgen: error: …/run/last.pt has checkpoint version 99, this trainer reads 2"),
    Case("checkpoint-runs-code", _code_running_checkpoint, "kubricgen: error: checkpoint …/run/last.pt is corrupt "
         "or not plain data (UnpicklingError: …)"),
]


# Running a case ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_data_dir(tmp_path_factory):
  """The trainer tests' tiny_shapes TFDS dataset (tests/robustness/tiny_shapes.py), built once for this module."""
  from tests.robustness import tiny_shapes
  data_dir = str(tmp_path_factory.mktemp("tfds"))
  tiny_shapes.build(data_dir, "array_record")
  return data_dir


def _takes_data_dir(setup) -> bool:
  import inspect
  return len(inspect.signature(setup).parameters) == 2


def run_case(case: Case, tmp_path, request, capfd, monkeypatch) -> tuple[int, str]:
  """Build the case's bad input and run kubricgen on it -> (exit code, stderr)."""
  monkeypatch.setenv("KUBRICGEN_ASSET_CACHE", str(tmp_path / "asset-cache"))
  monkeypatch.delenv("KUBRICGEN_DEBUG", raising=False)
  monkeypatch.delenv("TFDS_DATA_DIR", raising=False)
  for name, value in case.env:
    monkeypatch.setenv(name, value.format(port=free_port()))
  work = tmp_path / "work"
  work.mkdir()
  if _takes_data_dir(case.setup):
    args = case.setup(work, request.getfixturevalue("tiny_data_dir"))
  else:
    args = case.setup(work)
  monkeypatch.chdir(work)
  request.node.before = snapshot(work)
  if case.subprocess:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run(kubricgen_command(*args), env=env, cwd=work, capture_output=True, text=True,
                            timeout=120, check=False)
    return result.returncode, result.stderr
  from kubricgen.assets import integrity
  integrity.forget_verified()
  root = logging.getLogger()
  handlers, level = root.handlers[:], root.level
  root.handlers = []  # as in a fresh process: main()'s logging.basicConfig writes log lines to stderr
  capfd.readouterr()
  try:
    code = main(args)
  except SystemExit as error:
    code = error.code if isinstance(error.code, int) else 1
  except Exception:  # pylint: disable=broad-except
    traceback.print_exc()  # what a real process shows, and exit status 1
    code = 1
  finally:
    root.handlers, root.level = handlers, level
  return code, capfd.readouterr().err


def snapshot(folder) -> dict:
  """{relative path: (size, mtime) or None for a folder} of everything under `folder`."""
  found = {}
  for parent, folders, files in os.walk(folder):
    for name in folders + files:
      path = os.path.join(parent, name)
      stat = os.lstat(path)
      found[os.path.relpath(path, folder)] = None if os.path.isdir(path) else (stat.st_size, stat.st_mtime_ns)
  return found


def pattern(line: str) -> re.Pattern:
  """The documented line as a regex: `…` matches any path-dependent text."""
  return re.compile(".*".join(re.escape(part) for part in line.split("…")))


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=c.gap)]
                                               if c.gap else []) for c in CASES])
def test_bad_input_gives_one_line_and_a_non_zero_exit(case, tmp_path, request, capfd, monkeypatch):
  code, stderr = run_case(case, tmp_path, request, capfd, monkeypatch)
  lines = [l for l in stderr.splitlines() if l.strip()]
  assert "Traceback" not in stderr, stderr
  assert code == case.code, (code, stderr)
  assert len(lines) == 1, stderr
  assert pattern(case.line).fullmatch(lines[0]), (lines[0], case.line)
  after, before = snapshot(tmp_path / "work"), request.node.before
  assert {k: v for k, v in after.items() if k not in case.leaves} == before, "the failed run left or changed files"
  for path in case.leaves:
    assert after[path] is None or after[path][0] == 0, f"{path} is not empty"


def document_rows() -> dict[str, tuple[str, int]]:
  """{case id: (line, exit code)} from the tables of docs/bad_inputs.md: rows `| `id` | input | command | `line` |
  exit |`; a line holding backticks is written ``` `` line `` ```, and `\\|` stands for `|`."""
  rows = {}
  with open(DOC, encoding="utf-8") as handle:
    for row in handle:
      cells = [c.strip() for c in row.strip().strip("|").split(" | ")]
      if not row.startswith("| `") or len(cells) != 5:
        continue
      case_id, line, code = cells[0].strip("`"), cells[3], cells[4]
      span = re.fullmatch(r"(`+) ?(.*?) ?\1", line)
      assert span, f"{case_id}: the line is not one code span: {line}"
      assert case_id not in rows, f"{case_id} is listed twice"
      rows[case_id] = (span.group(2).replace("\\|", "|"), int(code))
  return rows


def test_the_document_lists_exactly_these_cases():
  rows = document_rows()
  cases = {c.id: (c.line, c.code) for c in CASES}
  assert sorted(set(cases) - set(rows)) == [], "cases missing from docs/bad_inputs.md"
  assert sorted(set(rows) - set(cases)) == [], "rows of docs/bad_inputs.md without a case here"
  for case_id, (line, code) in cases.items():
    assert rows[case_id] == (line, code), case_id
  gaps = {c.id for c in CASES if c.gap}
  with open(DOC, encoding="utf-8") as handle:
    known_gaps = handle.read().partition("## Known gaps")[2]
  assert {i for i in rows if f"`{i}`" in known_gaps} == gaps
