"""`kubricgen render scenes/si_score.py`: bad flags and values fail with one line before any work is done."""
import subprocess
import sys

import pytest

from tests.sharding.test_pipeline import ROOT, environment


@pytest.mark.parametrize("args, message", [
    (["--configs", "colour"], "argument --configs: unknown ['colour']"),
    (["--resolution", "100x50"], "SI-Score images are square"),
    (["--visibility_threshold", "size=1.5"], "visibility threshold for 'size' must be in [0, 1]"),
    (["--visibility_threshold", "size"], "expected SUBSET=VALUE"),
    (["--instances_per_class", "many"], "expected a number or 'all'"),
    (["--resolutoin", "64"], "unrecognized arguments: --resolutoin"),
    (["--seed", "-3"], "argument --seed"),
    (["--frame_end", "3"], "unrecognized arguments: --frame_end 3"),  # scene flags: the README says it refuses them
    (["--out", "x"], "unrecognized arguments: --out x"),
])
def test_bad_flags_fail_with_one_line(tmp_path, args, message):
  result = subprocess.run([sys.executable, "-m", "kubricgen.cli.main", "render", f"{ROOT}/scenes/si_score.py",
                           "--data_dir", str(tmp_path / "tfds"), *args], capture_output=True, text=True,
                          timeout=300, env=environment(), cwd=tmp_path)
  assert result.returncode == 2, result.stderr[-2000:]
  lines = [line for line in result.stderr.splitlines() if line.strip()]
  assert len(lines) == 1 and message in lines[0], result.stderr[-2000:]
  assert not (tmp_path / "tfds").exists()
