"""benchmarks/kubric_side_by_side.py refuses to start without a Kubric checkout and a Kubric Python: one line each,
before anything is built or rendered (no Kubric environment needed here)."""
import os
import subprocess
import sys

import pytest

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "benchmarks",
                      "kubric_side_by_side.py")


def run(*args):
  return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("args, says", [
    ((), "--kubric_src is required"),
    (("--kubric_src", "/nonexistent/kubric"), "--kubric_src /nonexistent/kubric: not a Kubric checkout"),
])
def test_refuses_a_missing_kubric_checkout_in_one_line(args, says):
  result = run(*args, "--kubric_python", sys.executable)
  assert result.returncode == 2
  lines = result.stderr.strip().splitlines()
  assert len(lines) == 1 and lines[0].startswith(f"kubric_side_by_side: {says}"), result.stderr
  assert result.stdout == ""


def test_refuses_a_missing_kubric_python_in_one_line(tmp_path):
  (tmp_path / "kubric" / "renderer").mkdir(parents=True)
  (tmp_path / "kubric" / "renderer" / "blender.py").write_text("")
  result = run("--kubric_src", str(tmp_path), "--kubric_python", str(tmp_path / "no-python"))
  assert result.returncode == 2
  assert result.stderr.strip().splitlines() == [
      f"kubric_side_by_side: --kubric_python {tmp_path / 'no-python'}: no such executable"]
