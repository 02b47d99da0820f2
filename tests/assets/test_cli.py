"""`kubricgen assets list | show | preview | verify`, and one-line errors with non-zero exits."""
import json
import subprocess

import numpy as np
import pytest
from PIL import Image

from tests.conftest import kubricgen_command


def run(*args, env):
  return subprocess.run(kubricgen_command("assets", *args), capture_output=True, text=True, env=env, timeout=300)


def test_list_show_and_verify(cli_env):
  listed = run("list", "--json", env=cli_env)
  assert listed.returncode == 0, listed.stderr
  rows = [json.loads(line) for line in listed.stdout.splitlines()]
  assert len({r["class_name"] for r in rows}) >= 12 and {r["split"] for r in rows} == {"train", "test"}
  test_only = run("list", "--split", "test", "--class", "teapot", "--json", env=cli_env)
  assert [json.loads(l)["split"] for l in test_only.stdout.splitlines()] == ["test"]
  shown = run("show", "teddy_brown", env=cli_env)
  assert shown.returncode == 0, shown.stderr
  details = json.loads(shown.stdout)
  assert details["imagenet_index"] == 850 and details["files_verified"] == ["teddy2_VHACD_CHs.obj"]
  assert details["size_m"] == pytest.approx(0.15) and details["mass_properties"]["mass"] > 0
  verified = run("verify", "--source", "pybullet_data", env=cli_env)
  assert verified.returncode == 0 and "files verified" in verified.stdout
  kubasic = run("list", "--source", "kubasic", env=cli_env)
  assert kubasic.stdout.split()[0] == "cube" and "suzanne" in kubasic.stdout


def test_preview_writes_a_contact_sheet(tmp_path, cli_env):
  out = tmp_path / "sheet.png"
  result = run("preview", "banana_yellow", "mug_red", "--out", str(out), "--size", "32", "--samples", "2", env=cli_env)
  assert result.returncode == 0, result.stderr
  sheet = np.asarray(Image.open(out))
  assert sheet.shape[0] > 2 * 32 and sheet.shape[1] > 32  # two class rows of 32-pixel tiles, with labels
  backgrounds = run("preview", "--source", "backgrounds", "--out", str(tmp_path / "bg.png"), "--size", "24",
                    env=cli_env)
  assert backgrounds.returncode == 0 and (tmp_path / "bg.png").exists()


@pytest.mark.parametrize("args, code, words", [
    (("show", "dragon"), 1, "unknown asset id 'dragon'"),
    (("preview", "dragon", "--out", "{tmp}/x.png"), 1, "unknown asset id 'dragon'"),
    (("list", "--source", "{tmp}/missing.json"), 1, "file not found"),
    (("list", "--source", "{tmp}/bad.json"), 1, "version"),
    (("list", "--source", "nowhere"), 1, "unknown source"),
    (("list", "--split", "validation"), 2, "invalid choice"),
    (("preview", "--size", "4", "--out", "{tmp}/x.png"), 2, "--size"),
    (("frobnicate",), 2, "invalid choice"),
])
def test_bad_input_is_one_line_and_a_non_zero_exit(tmp_path, cli_env, args, code, words):
  (tmp_path / "bad.json").write_text(json.dumps({"schema": "kubricgen-asset-manifest", "version": 9,
                                                 "name": "x", "assets": []}))
  result = run(*[a.format(tmp=tmp_path) for a in args], env=cli_env)
  assert result.returncode == code
  # Bad flags (exit 2) are reported by the parser of the command they were given to; other errors by kubricgen.
  parser = "kubricgen assets" + (f" {args[0]}" if args[0] in ("list", "show", "preview") else "")
  prefix = f"{parser}: error: " if code == 2 else "kubricgen: error: "
  assert result.stderr.startswith(prefix) and words in result.stderr, result.stderr
  assert result.stderr.count("\n") == 1
  assert not (tmp_path / "x.png").exists()
