"""`kubricgen render`: real scene scripts in subprocesses; bad input, atomic output, determinism, Kubric ports."""
import json
import os
import signal
import subprocess
import time

import numpy as np
import pytest

import kubricgen as kb
from kubricgen.output.reader import load_scene
from tests.conftest import kubricgen_command

TINY = ["--resolution", "32x32", "--samples", "2"]


def run(args, env, cwd, timeout=300):
  return subprocess.run(kubricgen_command(*args), env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def visible(folder):
  return sorted(os.listdir(folder))


def test_helloworld_writes_a_complete_folder(tmp_path, cli_env, repo_root):
  out = tmp_path / "hello"
  result = run(["render", f"{repo_root}/scenes/helloworld.py", "--seed", "0", "--out", str(out), "--preview",
                *TINY], cli_env, tmp_path)
  assert result.returncode == 0, result.stderr
  scene = load_scene(out)
  assert scene["rgba"].shape == (1, 32, 32, 4)
  for layer in ("depth", "segmentation", "normal", "object_coordinates", "forward_flow", "backward_flow"):
    assert layer in scene.layers
  assert scene.metadata["seed"] == 0 and scene.metadata["flags"]["resolution"] == [32, 32]
  assert len(scene.metadata["camera"]["positions"]) == 1
  assert [i["name"] for i in scene.metadata["instances"]] == ["ball"]
  assert scene.metadata["render"]["engine"] == "cycles"
  assert (out / "preview.png").is_file()
  assert visible(tmp_path) == ["hello"]  # no staging folder left behind


def test_same_seed_gives_identical_files_and_seed_zero_is_a_seed(tmp_path, cli_env, repo_root):
  outs = []
  for name, seed in (("a", "0"), ("b", "0"), ("c", "1")):
    out = tmp_path / name
    result = run(["render", f"{repo_root}/scenes/movi_a.py", "--seed", seed, "--out", str(out), "--frame_end", "3",
                  "--max_objects", "4", *TINY], cli_env, tmp_path)
    assert result.returncode == 0, result.stderr
    outs.append(out)
  a, b, c = outs
  files = visible(a)
  assert files == visible(b)
  for name in files:
    if name != "metadata.json":
      assert (a / name).read_bytes() == (b / name).read_bytes(), name

  def stable(folder):
    data = json.loads((folder / "metadata.json").read_text())
    data["flags"].pop("job_dir")
    for key in ("seconds_build", "seconds_per_frame", "peak_memory_mb"):
      data["render"].pop(key)
    return data

  assert stable(a) == stable(b)
  assert stable(a)["seed"] == 0
  assert stable(a)["instances"] != stable(c)["instances"]  # another seed, another scene


@pytest.mark.parametrize("args, message, code", [
    (["--frobnicate"], "unrecognized arguments: --frobnicate", 2),
    (["--resolution", "64xabc"], "argument --resolution", 2),
    (["--resolution", "0x64"], "argument --resolution", 2),
    (["--seed", "-1"], "argument --seed", 2),
    (["--engine", "povray"], "argument --engine", 2),
])
def test_bad_flags_fail_with_one_line(tmp_path, cli_env, repo_root, args, message, code):
  out = tmp_path / "out"
  result = run(["render", f"{repo_root}/scenes/helloworld.py", "--out", str(out), *args], cli_env, tmp_path)
  assert result.returncode == code
  lines = [l for l in result.stderr.splitlines() if l.strip()]
  assert len(lines) == 1 and message in lines[0], result.stderr
  assert visible(tmp_path) == []


@pytest.mark.parametrize("script, message", [
    ("raises.py", "raises.py:5 failed: ValueError: Cube.mass: must be >= 0"),
    ("syntax_error.py", "syntax_error.py:2: syntax error"),
    ("missing_mesh.py", "file not found"),
    ("no_such_scene.py", "scene script not found"),
])
def test_failing_scripts_fail_with_one_line_and_leave_nothing(tmp_path, cli_env, repo_root, script, message):
  out = tmp_path / "out"
  result = run(["render", f"{repo_root}/tests/data/{script}", "--out", str(out), "--seed", "1"], cli_env, tmp_path)
  assert result.returncode == 1
  lines = [l for l in result.stderr.splitlines() if l.strip()]
  assert len(lines) == 1 and message in lines[0], result.stderr
  assert visible(tmp_path) == []


def test_unwritable_output_folder(tmp_path, cli_env, repo_root):
  locked = tmp_path / "locked"
  locked.mkdir()
  locked.chmod(0o500)
  # root may write anywhere, except into /proc: use that for the root case.
  target = locked / "out" if not os.access(locked, os.W_OK) else "/proc/kubricgen-test/out"
  try:
    result = run(["render", f"{repo_root}/scenes/helloworld.py", "--out", str(target), "--seed", "1"], cli_env,
                 tmp_path)
  finally:
    locked.chmod(0o700)
  lines = result.stderr.strip().splitlines()
  assert result.returncode == 1 and len(lines) == 1
  assert "not writable" in lines[0] or "cannot create output folder" in lines[0], lines
  assert os.listdir(locked) == [] and not os.path.exists(target)


def test_output_under_a_file_is_refused(tmp_path, cli_env, repo_root):
  blocker = tmp_path / "file"
  blocker.write_text("x")
  result = run(["render", f"{repo_root}/scenes/helloworld.py", "--out", str(blocker / "out"), "--seed", "1"],
               cli_env, tmp_path)
  assert result.returncode == 1
  assert len(result.stderr.strip().splitlines()) == 1 and "cannot create output folder" in result.stderr
  assert blocker.read_text() == "x"


def test_existing_output_is_kept_unless_overwrite(tmp_path, cli_env, repo_root):
  out = tmp_path / "out"
  out.mkdir()
  (out / "precious.txt").write_text("keep me")
  result = run(["render", f"{repo_root}/scenes/helloworld.py", "--out", str(out), *TINY], cli_env, tmp_path)
  assert result.returncode == 1 and "--overwrite" in result.stderr
  assert (out / "precious.txt").read_text() == "keep me"
  result = run(["render", f"{repo_root}/scenes/helloworld.py", "--out", str(out), "--overwrite", *TINY], cli_env,
               tmp_path)
  assert result.returncode == 0, result.stderr
  assert not (out / "precious.txt").exists() and (out / "metadata.json").exists()
  assert visible(tmp_path) == ["out"]


def test_a_killed_render_never_leaves_a_complete_looking_folder(tmp_path, cli_env, repo_root):
  out = tmp_path / "out"
  # Heavy enough (~1 min) that the kill below lands mid-render even when a loaded machine stretches the sleeps.
  process = subprocess.Popen(kubricgen_command("render", f"{repo_root}/scenes/movi_a.py", "--out", str(out),
                                               "--resolution", "128x128", "--samples", "256"),
                             env=cli_env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  deadline = time.time() + 120
  while time.time() < deadline and not any(p.name.startswith(".out.partial") for p in tmp_path.iterdir()):
    time.sleep(0.05)
  time.sleep(1.0)  # mid-render
  process.send_signal(signal.SIGKILL)
  process.wait()
  assert not out.exists()
  assert all(p.name.startswith(".out.partial") for p in tmp_path.iterdir())


def test_a_kubric_worker_runs_after_changing_its_imports(tmp_path, cli_env, repo_root):
  out = tmp_path / "port"
  result = run(["render", f"{repo_root}/tests/data/kubric_port.py", "--seed", "5", "--out", str(out),
                "--frame_end", "6", *TINY], cli_env, tmp_path)
  assert result.returncode == 0, result.stderr
  scene = load_scene(out)
  assert scene["rgba"].shape == (6, 32, 32, 4)
  assert len(scene.metadata["instances"]) == 4  # the floor is a background object
  assert set(np.unique(scene["segmentation"])) <= {0, 1, 2, 3, 4}
  assert scene.events["collisions"], "balls resting on the floor touch it"
  # Balls (radius 0.1 m) fall under gravity onto the floor (top at z = 0): each drops by free fall over the clip,
  # 0.5 g t^2, or down to its resting height 0.1 m, whichever is less; the seed spawns at least one high enough to
  # make the check count.
  heights = np.array([i["positions"] for i in scene.metadata["instances"]])[..., 2]
  seconds = (heights.shape[1] - 1) / scene.metadata["metadata"]["frame_rate"]  # Kubric's key for scene metadata
  expected = np.minimum(heights[:, 0] - 0.1, 0.5 * 9.81 * seconds ** 2)
  assert expected.max() > 0.05, heights[:, 0]
  assert (heights[:, 0] - heights[:, -1] >= 0.9 * expected - 2e-3).all(), (heights[:, 0], heights[:, -1], expected)
  assert (heights[:, -1] >= 0.1 - 5e-3).all()  # none sinks into the floor


def test_setup_without_seed_draws_and_records_one(tmp_path):
  flags = kb.ArgumentParser().parse_args(["--out", str(tmp_path / "x")])
  scene, rng, output_dir, _ = kb.setup(flags)
  try:
    from kubricgen.worker import session
    assert isinstance(session.current().seed, int)
  finally:
    session.abort()


def test_a_drawn_seed_replays_to_the_same_image_and_any_drawn_seed_is_accepted(tmp_path, cli_env, repo_root):
  """Without --seed a seed in [0, 2**32) is drawn and recorded; passing it back as --seed gives the same bytes
  (helloworld used to render with Cycles seed 0 when none was given, and to fail for seeds >= 2**31)."""
  drawn = tmp_path / "drawn"
  result = run(["render", f"{repo_root}/scenes/helloworld.py", "--out", str(drawn), *TINY], cli_env, tmp_path)
  assert result.returncode == 0, result.stderr
  seed = json.loads((drawn / "metadata.json").read_text())["seed"]
  replay = tmp_path / "replay"
  result = run(["render", f"{repo_root}/scenes/helloworld.py", "--out", str(replay), "--seed", str(seed), *TINY],
               cli_env, tmp_path)
  assert result.returncode == 0, result.stderr
  assert (drawn / "rgba_00000.png").read_bytes() == (replay / "rgba_00000.png").read_bytes()
  large = tmp_path / "large"
  result = run(["render", f"{repo_root}/scenes/helloworld.py", "--out", str(large), "--seed", str(2**32 - 1), *TINY],
               cli_env, tmp_path)
  assert result.returncode == 0, result.stderr


def test_kubrics_rng_defaults_to_the_runs_seeded_generator(tmp_path, caplog):
  """Kubric's random_hue_color / random_rotation / move_until_no_overlap take rng as optional: after kb.setup they
  draw from the run's seeded generator (the same numbers as passing it); without a run, from a generator with a
  fixed seed (never an unseeded one), with a warning."""
  import numpy as np
  from kubricgen.worker import session
  flags = kb.ArgumentParser().parse_args(["--out", str(tmp_path / "x"), "--seed", "7"])
  _, rng, _, _ = kb.setup(flags)
  try:
    drawn = (kb.random_hue_color(), kb.random_rotation("Z"), kb.random_rotation())
  finally:
    session.abort()
  replay = np.random.RandomState(7)
  expected = (kb.random_hue_color(rng=replay), kb.random_rotation("Z", rng=replay), kb.random_rotation(rng=replay))
  for got, want in zip(drawn, expected):
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
  from kubricgen.scene import randomness
  randomness._fallback_rng = None  # pylint: disable=protected-access  # as in a fresh process
  with caplog.at_level("WARNING", logger="kubricgen"):
    after_run = (kb.random_hue_color(), kb.random_rotation())  # the run ended: the fixed-seed fallback
  assert "seeded with 0" in caplog.text
  fallback = np.random.RandomState(randomness.FALLBACK_SEED)
  for got, want in zip(after_run, (kb.random_hue_color(rng=fallback), kb.random_rotation(rng=fallback))):
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
