"""One convention for the whole `kubricgen` command, each rule checked by running the CLI in a subprocess.

Flags are Kubric's snake_case in every command and scene script, and the kebab-case spelling is accepted. A bad flag is
one line from the one parser class, naming the command; `kubricgen render` without a script is such a line and
`kubricgen render --help` is help. Progress: `--progress/--no_progress` wherever bars are shown, on by default when
stderr is a terminal ($KUBRICGEN_PROGRESS=1 turns it on for a log file too).
"""
import glob
import os
import pty
import re
import select
import subprocess
import time

import pytest

from tests.conftest import ROOT, kubricgen_command

HELLO = os.path.join(ROOT, "scenes", "helloworld.py")
SI_SCORE = os.path.join(ROOT, "scenes", "si_score.py")
TINY = ["--seed", "0", "--resolution", "8x8", "--samples", "1"]


@pytest.fixture
def env(cli_env):
  return {k: v for k, v in cli_env.items() if k != "KUBRICGEN_PROGRESS"}


def run(args, env, cwd, timeout=300):
  return subprocess.run(kubricgen_command(*args), env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def run_on_a_terminal(args, env, cwd, timeout=300):
  """Run with stderr on a pseudo-terminal: (exit status, everything the terminal received)."""
  master, slave = pty.openpty()
  process = subprocess.Popen(kubricgen_command(*args), env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=slave)
  os.close(slave)
  received, deadline = [], time.monotonic() + timeout
  try:
    while time.monotonic() < deadline:
      if not select.select([master], [], [], 1.0)[0]:
        if process.poll() is not None:
          break
        continue
      try:
        data = os.read(master, 65536)
      except OSError:  # EIO: every writer has closed the terminal
        break
      if not data:
        break
      received.append(data)
    return process.wait(timeout=max(1.0, deadline - time.monotonic())), b"".join(received).decode(errors="replace")
  finally:
    os.close(master)
    if process.poll() is None:
      process.kill()


def test_render_without_a_script_is_one_line_and_render_help_is_help(env, tmp_path):
  bare = run(["render"], env, tmp_path)
  assert bare.returncode == 2 and bare.stdout == ""
  assert bare.stderr.splitlines() == ["kubricgen render: error: the following arguments are required: script"]
  for flag in ("--help", "-h"):
    helped = run(["render", flag], env, tmp_path)
    assert helped.returncode == 0 and helped.stderr == "", helped.stderr
    assert helped.stdout.startswith("usage: kubricgen render SCRIPT [FLAGS]") and "SCRIPT --help" in helped.stdout


# Every parser of the CLI: (argv that prints its help, whether it shows progress bars).
HELPS = [
    (["render", HELLO, "--help"], True), (["render", SI_SCORE, "--help"], True),
    (["assets", "list", "--help"], False), (["assets", "show", "--help"], False),
    (["assets", "preview", "--help"], True), (["assets", "import", "--help"], True),
    (["assets", "verify", "--help"], False), (["export", "--help"], False), (["verify", "--help"], False),
    (["train", "--help"], True), (["study", "--help"], True), (["analyze", "--help"], True),
]
KUBRIC_ALIASES = {"--job-dir"}  # Kubric's own spelling of --job_dir, kept as it is


def test_every_flag_is_snake_case_and_commands_with_bars_have_the_progress_flags(env, tmp_path):
  processes = [(argv, bars, subprocess.Popen(kubricgen_command(*argv), env=env, cwd=tmp_path, text=True,
                                             stdout=subprocess.PIPE, stderr=subprocess.PIPE))
               for argv, bars in HELPS]
  for argv, bars, process in processes:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0 and out.startswith("usage:"), (argv, err[-2000:])
    flags = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9_-]*", out))
    assert flags, argv
    kebab = sorted(f for f in flags if "-" in f[2:] and f not in KUBRIC_ALIASES)
    assert not kebab, (argv, kebab)
    assert ({"--progress", "--no_progress"} <= flags) == bars, (argv, sorted(flags))


def test_the_kebab_case_spelling_is_accepted(env, tmp_path):
  scene = run(["render", HELLO, "--frame-rate", "0"], env, tmp_path)  # parsed as --frame_rate, refused by its value
  assert scene.returncode == 2
  assert scene.stderr.splitlines() == ["helloworld.py: error: argument --frame_rate: expected a positive integer, "
                                       "got 0"]
  imported = run(["assets", "import", str(tmp_path / "nowhere"), "--out", str(tmp_path / "m.json"), "--up-axis",
                  "+y", "--class-name", "toy", "--no-thumbnails", "--thumbnail-size=32", "--no-progress"], env,
                 tmp_path)
  assert imported.returncode == 1, imported.stderr  # every flag taken: it gets as far as the missing folder
  assert imported.stderr.splitlines() == [f"kubricgen: error: import: {tmp_path / 'nowhere'} is not a folder or a "
                                          ".zip/.tar archive"]
  exported = run(["export", "siscore", "--data-dir", str(tmp_path / "tfds"), "--configs", "size"], env, tmp_path)
  assert exported.returncode == 1 and f"no built si_score/size dataset at {tmp_path / 'tfds'}" in exported.stderr
  snake = run(["assets", "import", str(tmp_path / "nowhere"), "--out", str(tmp_path / "m.json"), "--up_axis", "+y",
               "--class_name", "toy", "--no_thumbnails", "--thumbnail_size=32", "--no_progress"], env, tmp_path)
  assert snake.returncode == 1 and snake.stderr == imported.stderr


def test_flag_errors_come_from_the_one_parser():
  for path in glob.glob(os.path.join(ROOT, "kubricgen", "cli", "*.py")) + [SI_SCORE]:
    with open(path, encoding="utf-8") as handle:
      text = handle.read()
    assert "argparse.ArgumentParser(" not in text, path  # every parser is OneLineArgumentParser
    assert not re.search(r"\.error\s*=", text), path  # no error writer patched onto a parser


def bar_in(text):
  return "render cycles:" in text


@pytest.mark.parametrize("flags, progress_env, bar", [
    ([], None, False),  # stderr a pipe: no bar
    (["--progress"], None, True),
    ([], "1", True),  # a log file that wants bars
    (["--no_progress"], "1", False),
])
def test_render_progress_follows_the_one_rule_off_a_terminal(env, tmp_path, flags, progress_env, bar):
  if progress_env:
    env = {**env, "KUBRICGEN_PROGRESS": progress_env}
  result = run(["render", HELLO, *TINY, "--out", str(tmp_path / "out"), *flags], env, tmp_path)
  assert result.returncode == 0, result.stderr[-2000:]
  assert bar_in(result.stderr) == bar, result.stderr


@pytest.mark.parametrize("flags, bar", [([], True), (["--no_progress"], False)])
def test_render_progress_is_on_by_default_on_a_terminal(env, tmp_path, flags, bar):
  code, terminal = run_on_a_terminal(["render", HELLO, *TINY, "--out", str(tmp_path / "out"), *flags], env, tmp_path)
  assert code == 0, terminal[-2000:]
  assert bar_in(terminal) == bar, terminal


@pytest.mark.slow
def test_the_si_score_build_turns_its_bars_off_on_a_terminal_and_on_off_one(env, tmp_path):
  build = ["render", SI_SCORE, "--configs", "train", "--train_examples", "4", "--classes", "banana", "--resolution",
           "32", "--samples", "1", "--workers", "1", "--data_dir", str(tmp_path / "tfds"), "--preview_dir",
           str(tmp_path / "preview")]
  code, terminal = run_on_a_terminal([*build, "--no_progress"], env, tmp_path)
  assert code == 0, terminal[-3000:]
  assert "si_score/train: 4 examples" in terminal and "img/s" not in terminal, terminal[-3000:]
  forced = run([*build, "--progress", "--overwrite"], env, tmp_path)
  assert forced.returncode == 0, forced.stderr[-3000:]
  assert "img/s" in forced.stderr and "jobs=4/4" in forced.stderr
