"""Fault-injection trials against the small SI-Score Beam build, run as a user runs it (`kubricgen render` of
tests/integrity/small_scene.py, in a process group of its own), each ending in one outcome:

  identical  the published dataset equals the clean reference build byte for byte (every file of the version folder;
             on gs:// the downloaded objects);
  refused    the command exited non-zero, its stderr holds no traceback, exactly one `kubricgen: error:` line (the
             last; any other lines are the command's own `kubricgen: ` log lines) and nothing was published (no
             si_score/location/<version> folder, no dataset_info.json under the gs:// version prefix); a clean rerun
             must then give the identical dataset, or the trial is "other";
  other      anything else (a partial or different dataset, a traceback, a hang, ...), with a description.

Trials that kill the build (kill -9) are judged by the state they leave (nothing published, or the identical
dataset) and then by a rerun. A SIGTERM'd command must itself end as identical or refused, and leave none of its
processes running. One function per trial kind, each `(reference, workdir, rng, log) -> Outcome`, named in
`KINDS`: kill_worker, kill_driver, corrupt (damaged shards / cut-out cache entries), full_disk (a small tmpfs in a
mount namespace), flaky_gcs (`FlakyProxy` in front of a GCS emulator), concurrent (two builds at once), sigterm.
Randomness comes only from `rng` (seeded by the caller) and every trial logs what it did. Used by
tests/integrity/test_fault_injection.py (CI, few trials) and benchmarks/fault_injection.py (many).
"""
from __future__ import annotations

import contextlib
import dataclasses
import glob
import http.client
import http.server
import os
import random
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from typing import Callable

from tests.conftest import environment_variable, gcs_emulator_process  # noqa: F401  (the latter re-exported for
# benchmarks/fault_injection.py)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG = "location"
VERSION = "1.0.0"
JOBS = 15  # shards of the small location build
SCENE = os.path.join("tests", "integrity", "small_scene.py")
COMMAND_TIMEOUT_S = 300.0
STRAY_GRACE_S = 5.0  # how long processes of a terminated build may outlive its driver
IDENTICAL, REFUSED, OTHER = "identical", "refused", "other"


@dataclasses.dataclass
class Outcome:
  kind: str
  outcome: str  # IDENTICAL, REFUSED or OTHER
  detail: str  # what the trial did and what it found
  seconds: float = 0.0


@dataclasses.dataclass
class Run:
  returncode: int | None  # None: still running when judged (never for a finished run)
  stdout: str
  stderr: str
  seconds: float


@dataclasses.dataclass
class Reference:
  files: dict[str, bytes]
  seconds: float  # wall time of the clean build, to place random moments inside a build


def environment(**extra) -> dict:
  env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), TF_CPP_MIN_LOG_LEVEL="3")
  env.pop("KUBRICGEN_FAULTS", None)
  env.pop("KUBRICGEN_DEBUG", None)
  env.update(extra)
  return env


def command(data_dir, cache_dir, *extra) -> list[str]:
  return [sys.executable, "-m", "kubricgen.cli.main", "render", SCENE, str(data_dir), str(cache_dir),
          "--config", CONFIG, "--direct_num_workers=2", *extra]


def files_of(version_dir) -> dict[str, bytes]:
  out = {}
  for name in sorted(os.listdir(version_dir)):
    with open(os.path.join(version_dir, name), "rb") as handle:
      out[name] = handle.read()
  return out


def version_dir(data_dir) -> str:
  return os.path.join(str(data_dir), "si_score", CONFIG, VERSION)


def committed_markers(data_dir) -> list[str]:
  return sorted(glob.glob(os.path.join(str(data_dir), f".si_score-{CONFIG}-staging-*", "shards", "*.json")))


# ------------------------------------------------------------------------------------------------ processes


class Build:
  """One build command in a process group of its own, stdout/stderr to files (no pipe to fill)."""

  def __init__(self, argv: list[str], env: dict, logs: str):
    os.makedirs(logs, exist_ok=True)
    self.out_path, self.err_path = os.path.join(logs, "stdout"), os.path.join(logs, "stderr")
    self.start = time.perf_counter()
    with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
      self.process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=err, start_new_session=True)
    self.pid = self.process.pid

  def running(self) -> bool:
    return self.process.poll() is None

  def wait(self, timeout: float = COMMAND_TIMEOUT_S) -> Run:
    try:
      self.process.wait(timeout=max(1.0, timeout - (time.perf_counter() - self.start)))
    except subprocess.TimeoutExpired:
      self.kill_group()
      self.process.wait()
      run = self.result()
      run.stderr += f"\n[harness: killed after {timeout:g} s: hung]"
      run.returncode = None
      return run
    return self.result()

  def result(self) -> Run:
    with open(self.out_path, encoding="utf-8", errors="replace") as out, \
        open(self.err_path, encoding="utf-8", errors="replace") as err:
      return Run(self.process.returncode, out.read(), err.read(), time.perf_counter() - self.start)

  def kill_group(self, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
      os.killpg(self.pid, sig)

  def group_alive(self) -> list[int]:
    """Pids still alive in the build's process group (the driver's session), zombies excluded."""
    alive = []
    for entry in os.listdir("/proc"):
      if not entry.isdigit():
        continue
      try:
        with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
          fields = handle.read().rsplit(")", 1)[1].split()
      except OSError:
        continue
      if fields[0] != "Z" and int(fields[2]) == self.pid:  # state, ppid, pgrp
        alive.append(int(entry))
    return alive

  def job_processes(self) -> list[int]:
    """The driver's job child processes (multiprocessing spawn children that run the Beam jobs)."""
    found = []
    for pid in _descendants(self.pid):
      try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
          cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
      except OSError:
        continue
      if "spawn_main" in cmdline and "resource_tracker" not in cmdline:
        found.append(pid)
    return found


def _descendants(pid: int) -> list[int]:
  try:
    import psutil  # pylint: disable=import-outside-toplevel
    try:
      return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
      return []
  except ImportError:
    pass
  parents = {}
  for entry in os.listdir("/proc"):
    if entry.isdigit():
      try:
        with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
          parents[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
      except OSError:
        pass
  out, frontier = [], [pid]
  while frontier:
    parent = frontier.pop()
    children = [p for p, pp in parents.items() if pp == parent]
    out += children
    frontier += children
  return out


def finish(build: Build) -> list[int]:
  """Kill whatever of the build's process group is still alive; returns the pids that were (strays)."""
  strays = build.group_alive()
  if strays:
    build.kill_group()
    with contextlib.suppress(subprocess.TimeoutExpired):
      build.process.wait(timeout=10)
  return strays


def wait_until(condition: Callable[[], bool], build: Build, timeout: float = COMMAND_TIMEOUT_S,
               every: float = 0.01) -> bool:
  """Poll until `condition()` or the build ends; True if the condition came true."""
  deadline = time.time() + timeout
  while time.time() < deadline:
    if condition():
      return True
    if not build.running():
      return condition()
    time.sleep(every)
  return False


# ------------------------------------------------------------------------------------------------ judging


def clean_refusal(run: Run) -> str | None:
  """None if `run` failed with exactly one error line and no traceback; else why not."""
  if run.returncode is None:
    return "the command hung"
  if run.returncode == 0:
    return "the command succeeded"
  if run.returncode < 0:
    return f"the command died from signal {-run.returncode} without a message"
  lines = [line for line in run.stderr.splitlines() if line.strip()]
  if any("Traceback" in line for line in lines):
    return f"a traceback on stderr: {_tail(run.stderr)}"
  errors = [line for line in lines if line.startswith("kubricgen: error:")]
  if len(errors) != 1 or lines[-1] != errors[0]:
    return f"{len(errors)} error line(s), last stderr line {lines[-1] if lines else '(none)'!r}"
  strange = [line for line in lines if not line.startswith("kubricgen: ")]
  if strange:
    return f"{len(strange)} stderr line(s) beside the error line, e.g. {strange[0][:200]!r}"
  return None


def _tail(text: str, characters: int = 600) -> str:
  return " | ".join(text.strip()[-characters:].splitlines())


def error_line(run: Run) -> str:
  lines = [line for line in run.stderr.splitlines() if line.strip()]
  return lines[-1] if lines else ""


def differences(files: dict[str, bytes], reference: dict[str, bytes]) -> str:
  missing = sorted(set(reference) - set(files))
  extra = sorted(set(files) - set(reference))
  changed = sorted(n for n in set(files) & set(reference) if files[n] != reference[n])
  return f"missing {missing[:4]}, extra {extra[:4]}, different {changed[:4]} ({len(changed)} file(s))"


def judge_local(run: Run, data_dir, reference: Reference) -> tuple[str, str]:
  """(outcome, description) of a finished command that built into local `data_dir`."""
  published = os.path.exists(version_dir(data_dir))
  if run.returncode == 0:
    if not published:
      return OTHER, "the command succeeded and published nothing"
    files = files_of(version_dir(data_dir))
    if files == reference.files:
      return IDENTICAL, "identical"
    return OTHER, f"the command succeeded but the dataset differs: {differences(files, reference.files)}"
  why = clean_refusal(run)
  if why:
    return OTHER, f"exit {run.returncode}: {why}" + (" (and something was published)" if published else "")
  if published:
    return OTHER, f"refused ({error_line(run)}) but published {version_dir(data_dir)}"
  return REFUSED, error_line(run)


def state_after_interruption(data_dir, reference: Reference) -> str | None:
  """None if an interrupted build left nothing published or the identical dataset; else what it left."""
  if not os.path.exists(version_dir(data_dir)):
    return None
  files = files_of(version_dir(data_dir))
  return None if files == reference.files else f"a partial or different dataset was published: " \
      f"{differences(files, reference.files)}"


def rerun_local(reference: Reference, data_dir, cache_dir, workdir: str, tag: str, env=None) -> tuple[str, str]:
  run = Build(command(data_dir, cache_dir), env or environment(), os.path.join(workdir, tag)).wait()
  return judge_local(run, data_dir, reference)


def after_refusal(outcome: str, detail: str, reference: Reference, data_dir, cache_dir,
                  workdir: str) -> tuple[str, str]:
  """A refused trial must leave a state a clean rerun turns into the identical dataset."""
  if outcome != REFUSED:
    return outcome, detail
  again, how = rerun_local(reference, data_dir, cache_dir, workdir, "clean-rerun")
  if again != IDENTICAL:
    return OTHER, f"refused ({detail}), then a clean rerun gave {again}: {how}"
  return REFUSED, f"{detail}; a clean rerun gave the identical dataset"


def clean_build(workdir: str) -> Reference:
  data, cache = os.path.join(workdir, "data"), os.path.join(workdir, "cache")
  run = Build(command(data, cache), environment(), os.path.join(workdir, "logs")).wait()
  if run.returncode != 0:
    raise RuntimeError(f"the clean reference build failed: {_tail(run.stderr, 3000)}")
  return Reference(files_of(version_dir(data)), run.seconds)


# ------------------------------------------------------------------------------------------------ trial kinds


def kill_worker(reference: Reference, workdir: str, rng: random.Random, log=print) -> Outcome:
  """(a) kill -9 of one job process of the driver at a random moment; the build goes on and must publish the
  identical dataset (the job is retried) or refuse cleanly."""
  data, cache = os.path.join(workdir, "data"), os.path.join(workdir, "cache")
  after = rng.randrange(0, JOBS - 1)  # committed shards before the kill
  extra = rng.uniform(0.0, 0.5)
  build = Build(command(data, cache), environment(), os.path.join(workdir, "run"))
  wait_until(lambda: len(committed_markers(data)) >= after, build)
  time.sleep(extra)
  victim = None
  deadline = time.time() + 20
  while build.running() and victim is None and time.time() < deadline:
    candidates = build.job_processes()
    if candidates:
      victim = rng.choice(sorted(candidates))
      with contextlib.suppress(ProcessLookupError):
        os.kill(victim, signal.SIGKILL)
    else:
      time.sleep(0.01)
  done = "the build's publishing" if os.path.exists(version_dir(data)) else \
      f"{len(committed_markers(data))} committed shard(s)"
  run = build.wait()
  finish(build)
  did = (f"killed job process {victim} after {done} (aimed at {after} + {extra:.2f} s)"
         if victim else f"found no job process to kill (aimed at {after} shards + {extra:.2f} s; build ended)")
  outcome, how = judge_local(run, data, reference)
  outcome, how = after_refusal(outcome, how, reference, data, cache, workdir)
  if outcome == IDENTICAL and run.returncode == 0 and victim and "worker process died" not in run.stderr:
    how += " (no retry logged: the process was between jobs)"
  log(f"kill_worker: {did}: {outcome}: {how}")
  return Outcome("kill_worker", outcome, f"{did}: {how}")


def _shard_temporaries(data_dir) -> list[str]:
  """Shard files being written (a temporary name in the staged version folder)."""
  return glob.glob(os.path.join(str(data_dir), f".si_score-{CONFIG}-staging-*", "si_score", CONFIG, VERSION,
                                ".*.tmp"))


def kill_driver(reference: Reference, workdir: str, rng: random.Random, log=print, mid_write: bool = False) -> Outcome:
  """(b) kill -9 of the driver's whole process group at a random moment, then a rerun. Half the trials pick a moment
  in the build's wall time (start-up included), half a moment after a random number of shards is committed (the
  jobs take the last third of a build); `mid_write`: the moment a shard file is being written, after a random
  number of shards is committed."""
  data, cache = os.path.join(workdir, "data"), os.path.join(workdir, "cache")
  by_shards = mid_write or rng.random() < 0.5
  delay = 0.0 if mid_write else rng.uniform(0.0, 0.3) if by_shards else rng.uniform(0.15, 1.0) * reference.seconds
  after = rng.randrange(0, JOBS - 1) if by_shards else None
  build = Build(command(data, cache), environment(), os.path.join(workdir, "killed"))
  if by_shards:
    wait_until(lambda: len(committed_markers(data)) >= after, build, every=0.005)
  if mid_write:
    wait_until(lambda: bool(_shard_temporaries(data)), build, every=0.001)
  ended = wait_until(lambda: False, build, timeout=delay) or not build.running()
  build.kill_group()
  build.process.wait()
  done = len(committed_markers(data))
  moment = f"{after} shards + {delay:.2f} s" if by_shards else f"{delay:.2f} s"
  if mid_write:
    moment = f"{after} shards and a shard file being written ({len(_shard_temporaries(data))} temporary file(s) left)"
  did = (f"the build finished before the kill at {moment}" if ended else
         f"killed the process group at {moment} with {done} shard(s) committed")
  left = state_after_interruption(data, reference)
  if left:
    log(f"kill_driver: {did}: other: {left}")
    return Outcome("kill_driver", OTHER, f"{did}: {left}")
  outcome, how = rerun_local(reference, data, cache, workdir, "rerun")
  outcome, how = after_refusal(outcome, how, reference, data, cache, workdir)
  log(f"kill_driver: {did}; rerun: {outcome}: {how}")
  return Outcome("kill_driver", outcome, f"{did}; rerun: {how}")


def _damage(path: str, rng: random.Random) -> str:
  size = os.path.getsize(path)
  if rng.random() < 0.5 and size > 0:
    offset = rng.randrange(size)
    with open(path, "r+b") as handle:
      handle.seek(offset)
      byte = handle.read(1)[0]
      handle.seek(offset)
      handle.write(bytes([byte ^ (1 << rng.randrange(8))]))
    return f"flipped a bit at byte {offset}/{size} of {os.path.basename(path)}"
  keep = rng.randrange(size) if size else 0
  os.truncate(path, keep)
  return f"truncated {os.path.basename(path)} from {size} to {keep} bytes"


def corrupt(reference: Reference, workdir: str, rng: random.Random, log=print) -> Outcome:
  """(c) after a run killed with some shards committed, damage (flip a bit or truncate) a committed shard file
  and/or a cut-out cache PNG, then rerun."""
  data, cache = os.path.join(workdir, "data"), os.path.join(workdir, "cache")
  after = rng.randrange(2, JOBS - 2)
  build = Build(command(data, cache), environment(), os.path.join(workdir, "killed"))
  wait_until(lambda: len(committed_markers(data)) >= after and glob.glob(os.path.join(cache, "*.png")), build)
  build.kill_group()
  build.process.wait()
  markers = committed_markers(data)
  if os.path.exists(version_dir(data)) or not markers:
    return Outcome("corrupt", OTHER, f"the killed run (aimed at {after} shards) left {len(markers)} committed shards "
                   f"and published={os.path.exists(version_dir(data))}: nothing to damage")
  what = rng.choice(["shard", "cutout", "both"])
  damage = []
  if what in ("shard", "both"):
    staged = glob.glob(os.path.join(data, f".si_score-{CONFIG}-staging-*", "si_score", CONFIG, VERSION))[0]
    index = int(os.path.basename(rng.choice(markers))[:-5])
    shards = sorted(glob.glob(os.path.join(staged, f"si_score-test.*-{index:05d}-of-*")))
    damage.append(_damage(rng.choice(shards), rng))
  pngs = sorted(glob.glob(os.path.join(cache, "*.png")))
  if what in ("cutout", "both") and pngs:
    damage.append(_damage(rng.choice(pngs), rng) + " (cut-out cache)")
  did = f"killed after {len(markers)} committed shard(s); " + "; ".join(damage)
  outcome, how = rerun_local(reference, data, cache, workdir, "rerun")
  outcome, how = after_refusal(outcome, how, reference, data, cache, workdir)
  log(f"corrupt: {did}; rerun: {outcome}: {how}")
  return Outcome("corrupt", outcome, f"{did}; rerun: {how}")


def _can_mount() -> bool:
  try:
    probe = subprocess.run(["unshare", "--mount", "sh", "-c", "mount -t tmpfs probe /mnt"], capture_output=True,
                           timeout=30)
    return probe.returncode == 0
  except (OSError, subprocess.TimeoutExpired):
    return False


CAN_MOUNT = None


def can_fill_a_disk() -> bool:
  """Whether full-disk trials can run here: they need mount namespaces (root or CAP_SYS_ADMIN) for a small tmpfs."""
  global CAN_MOUNT  # pylint: disable=global-statement
  if CAN_MOUNT is None:
    CAN_MOUNT = _can_mount()
  return CAN_MOUNT


def full_disk(reference: Reference, workdir: str, rng: random.Random, log=print) -> Outcome:
  """(d) the data_dir and cut-out cache (and, half the time, TMPDIR) on a small tmpfs that fills up during the
  build (a private mount namespace); then, with the space back, a rerun from what the full disk held."""
  mount = os.path.join(workdir, "disk")
  snapshot = os.path.join(workdir, "after")
  os.makedirs(mount)
  os.makedirs(snapshot)
  size_kb = rng.randrange(256, 10 * 1024)
  tmp_on_disk = rng.random() < 0.5
  env = environment()
  inner = shlex.join(command(os.path.join(mount, "data"), os.path.join(mount, "cache")))
  if tmp_on_disk:
    inner = f"mkdir -p {shlex.quote(mount)}/tmp && TMPDIR={shlex.quote(mount)}/tmp {inner}"
  script = (f"mount -t tmpfs -o size={size_kb}k kubricgen-full {shlex.quote(mount)} || exit 99; ({inner}); "
            f"rc=$?; df -k {shlex.quote(mount)} | tail -1 >&2; rm -rf {shlex.quote(mount)}/tmp; "
            f"cp -a {shlex.quote(mount)}/. {shlex.quote(snapshot)}/; exit $rc")
  run = Build(["unshare", "--mount", "--propagation", "private", "sh", "-c", script], env,
              os.path.join(workdir, "full")).wait()
  if run.returncode == 99:
    raise RuntimeError(f"cannot mount a tmpfs: {run.stderr.strip()}")
  usage = run.stderr.strip().splitlines()[-1] if run.stderr.strip() else ""
  run.stderr = "\n".join(run.stderr.strip().splitlines()[:-1])  # the harness's own df line
  did = f"{size_kb} KB tmpfs for data_dir and cache" + (" and TMPDIR" if tmp_on_disk else "") + \
      f" (df after: {' '.join(usage.split()[1:4])})"
  data, cache = os.path.join(snapshot, "data"), os.path.join(snapshot, "cache")
  outcome, how = judge_local(run, data, reference)
  outcome, how = after_refusal(outcome, how, reference, data, cache, workdir)
  log(f"full_disk: {did}: {outcome}: {how}")
  return Outcome("full_disk", outcome, f"{did}: {how}")


def concurrent_builds(reference: Reference, workdir: str, rng: random.Random, log=print) -> Outcome:
  """(f) two builds of the same config into the same data_dir (and cache), the second started 0-2 s after the
  first: each one must publish the identical dataset (or find it built) or refuse cleanly, and the published
  dataset must be the identical one."""
  data, cache = os.path.join(workdir, "data"), os.path.join(workdir, "cache")
  gap = rng.choice([0.0, rng.uniform(0.0, 2.0)])
  first = Build(command(data, cache), environment(), os.path.join(workdir, "first"))
  time.sleep(gap)
  second = Build(command(data, cache), environment(), os.path.join(workdir, "second"))
  runs = [first.wait(), second.wait()]
  for build in (first, second):
    finish(build)
  did = f"second build started {gap:.2f} s after the first"
  verdicts = []
  for name, run in zip(("first", "second"), runs):
    if run.returncode == 0:
      verdicts.append(f"{name} succeeded")
    else:
      why = clean_refusal(run)
      if why:
        log(f"concurrent: {did}: other: {name}: exit {run.returncode}: {why}")
        return Outcome("concurrent", OTHER, f"{did}: {name}: exit {run.returncode}: {why}")
      verdicts.append(f"{name} refused ({error_line(run)})")
  published = os.path.exists(version_dir(data))
  if not published:
    outcome = REFUSED if all(r.returncode != 0 for r in runs) else OTHER
    how = f"{'; '.join(verdicts)}; nothing published"
    outcome, how = after_refusal(outcome, how, reference, data, cache, workdir)
  else:
    files = files_of(version_dir(data))
    outcome = IDENTICAL if files == reference.files else OTHER
    how = "; ".join(verdicts) + ("; the published dataset is identical" if outcome == IDENTICAL else
                                 f"; the published dataset differs: {differences(files, reference.files)}")
  log(f"concurrent: {did}: {outcome}: {how}")
  return Outcome("concurrent", outcome, f"{did}: {how}")


def sigterm_publish(reference: Reference, workdir: str, rng: random.Random, log=print) -> Outcome:
  """(g) SIGTERM to the driver (only) late in the build: once every shard is committed (the driver then writes
  dataset_info.json and swaps the staging folder in), once the staged dataset_info.json exists, or at a random late
  moment. The terminated command must have published the identical dataset (a driver terminated just after its
  publish counts), or failed with one line and published nothing; and no process of its own may be running
  STRAY_GRACE_S after it ended. A rerun must then give the identical dataset (it is run and reported in any case)."""
  data, cache = os.path.join(workdir, "data"), os.path.join(workdir, "cache")
  trigger = rng.choice(["all shards committed", "staged dataset_info.json written", "late moment"])
  delay = {"all shards committed": rng.uniform(0.0, 0.6), "staged dataset_info.json written": rng.uniform(0.0, 0.1),
           "late moment": rng.uniform(0.6, 1.05) * reference.seconds}[trigger]
  build = Build(command(data, cache), environment(), os.path.join(workdir, "terminated"))
  staged_info = os.path.join(data, f".si_score-{CONFIG}-staging-*", "si_score", CONFIG, VERSION, "dataset_info.json")
  if trigger == "all shards committed":
    wait_until(lambda: len(committed_markers(data)) >= JOBS, build, every=0.002)
  elif trigger == "staged dataset_info.json written":
    wait_until(lambda: bool(glob.glob(staged_info)) or os.path.exists(version_dir(data)), build, every=0.002)
  time.sleep(delay)
  sent = build.running()
  with contextlib.suppress(ProcessLookupError):
    os.kill(build.pid, signal.SIGTERM)
  stage = ("published" if os.path.exists(version_dir(data)) else
           "staged info written" if glob.glob(staged_info) else f"{len(committed_markers(data))} shards committed")
  run = build.wait()
  deadline = time.time() + STRAY_GRACE_S
  while build.group_alive() and time.time() < deadline:
    time.sleep(0.1)
  strays = finish(build)
  did = f"SIGTERM at '{trigger}' + {delay:.2f} s ({stage})" if sent else \
      f"the build had ended before SIGTERM ('{trigger}' + {delay:.2f} s)"
  did += f", driver exit {run.returncode}"
  problems = []
  if strays:
    problems.append(f"{len(strays)} process(es) of its group still alive {STRAY_GRACE_S:g} s after the driver ended "
                    "(orphaned job processes; killed by the harness)")
  if run.returncode == 0:
    outcome, how = judge_local(run, data, reference)
  else:
    left = state_after_interruption(data, reference)
    if left:
      problems.append(left)
    why = clean_refusal(run)
    if why and not left and os.path.exists(version_dir(data)):
      did += " after publishing the identical dataset"  # what a user finds is the clean build's dataset
    elif why:
      problems.append(why)
    outcome, how = rerun_local(reference, data, cache, workdir, "rerun")
    how = f"rerun: {how}"
    if not problems and not why:
      outcome, how = (REFUSED, f"{error_line(run)}; {how}") if outcome == IDENTICAL else (OTHER, how)
  if problems:
    outcome, how = OTHER, f"{'; '.join(problems)}; {how}"
  log(f"sigterm: {did}: {outcome}: {how}")
  return Outcome("sigterm", outcome, f"{did}: {how}")


# ------------------------------------------------------------------------------------------------ flaky GCS


class FlakyProxy:
  """An HTTP proxy in front of a GCS emulator that fails a share of requests: answers 503, closes the connection
  without answering, or forwards the request and then closes without answering (the request took effect, its
  answer is lost). Thread-safe counts of what it did; `share` may be changed while it runs."""

  MODES = ("503", "drop", "drop-after")

  def __init__(self, upstream: str, share: float, seed: int, methods=None, modes=MODES, once: bool = False):
    self.upstream = upstream.split("://", 1)[-1].rstrip("/")
    self.share = share
    self.methods = methods  # None: any request may fail; else only these HTTP methods
    self.modes = tuple(modes)
    self.once = once  # fail a request (method and path) at most once: its retry goes through
    self.failed = set()
    self.random = random.Random(seed)
    self.lock = threading.Lock()
    self.counts = {"requests": 0, **{mode: 0 for mode in self.MODES}}
    proxy = self

    class Handler(http.server.BaseHTTPRequestHandler):
      protocol_version = "HTTP/1.1"

      def log_message(self, *args):  # pylint: disable=arguments-differ
        pass

      def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
          chunks = []
          while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
              while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
              return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

      def _handle(self):
        body = self._body()
        fault = proxy.draw(self.command, self.path)
        if fault == "503":
          message = b'{"error": {"code": 503, "message": "injected by the fault proxy"}}'
          self.send_response(503)
          self.send_header("Content-Type", "application/json")
          self.send_header("Content-Length", str(len(message)))
          self.end_headers()
          self.wfile.write(message)
          return
        if fault == "drop":
          self.close_connection = True
          return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "transfer-encoding",
                                                                                 "connection", "content-length")}
        headers["Content-Length"] = str(len(body))
        connection = http.client.HTTPConnection(proxy.upstream, timeout=60)
        try:
          connection.request(self.command, self.path, body=body, headers=headers)
          response = connection.getresponse()
          data = response.read()
        finally:
          connection.close()
        if fault == "drop-after":
          self.close_connection = True
          return
        self.send_response(response.status, response.reason)
        for key, value in response.getheaders():
          if key.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

      do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

    class Server(http.server.ThreadingHTTPServer):
      def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):  # a client that gave up: expected
          super().handle_error(request, client_address)

    self.server = Server(("127.0.0.1", 0), Handler)
    self.server.daemon_threads = True
    self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
    self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

  def draw(self, method: str, path: str = "") -> str | None:
    with self.lock:
      self.counts["requests"] += 1
      if self.methods is not None and method not in self.methods:
        return None
      if self.once and (method, path) in self.failed:
        return None
      if self.random.random() >= self.share:
        return None
      self.failed.add((method, path))
      mode = self.random.choice(self.modes)
      self.counts[mode] += 1
      return mode

  def __enter__(self) -> "FlakyProxy":
    self.thread.start()
    return self

  def __exit__(self, *exc):
    self.server.shutdown()
    self.server.server_close()


def _direct_storage(emulator: str):
  """A GcsStorage talking to the emulator itself (no proxy)."""
  from kubricgen.storage import GcsStorage  # pylint: disable=import-outside-toplevel
  with environment_variable("STORAGE_EMULATOR_HOST", emulator):
    storage = GcsStorage()
    storage.client()
    return storage




def flaky_gcs(reference: Reference, workdir: str, rng: random.Random, log=print, emulator: str = "",
              share: float | None = None, methods=None, modes=FlakyProxy.MODES, once: bool = False) -> Outcome:
  """(e) a gs:// build through a proxy that fails a random share (5-30%) of the requests (or `share` of those whose
  HTTP method is in `methods`, in `modes`, each at most `once`), the cut-out cache on gs:// too half the time: the
  objects published must equal the clean build's, or the command refuses cleanly, publishes nothing, and a rerun
  through a healthy proxy gives the identical dataset."""
  if not emulator:
    raise ValueError("flaky_gcs needs the endpoint of a running GCS emulator")
  storage = _direct_storage(emulator)
  bucket = f"fault-{uuid.uuid4().hex[:10]}"
  storage.create_bucket(bucket)
  share = round(rng.uniform(0.05, 0.3), 3) if share is None else share
  data = f"gs://{bucket}/tfds"
  cache = f"gs://{bucket}/cache" if rng.random() < 0.5 else os.path.join(workdir, "cache")
  final = f"{data}/si_score/{CONFIG}/{VERSION}"
  with FlakyProxy(emulator, share, rng.randrange(1 << 30), methods, modes, once) as proxy:
    env = environment(STORAGE_EMULATOR_HOST=proxy.url)
    run = Build(command(data, cache), env, os.path.join(workdir, "flaky")).wait()
    counts = dict(proxy.counts)
    which = "/".join(methods) if methods else "all"
    did = (f"{share:.0%} of {which} requests failed{' once' if once else ''} ({counts['503']} x 503, "
           f"{counts['drop']} dropped, {counts['drop-after']} dropped after taking effect, of {counts['requests']} "
           f"requests); cache {'on gs://' if cache.startswith('gs://') else 'local'}")

    def published() -> bool:
      return any(url.endswith("/dataset_info.json") for url in storage.list(final + "/"))

    def download(tag: str) -> dict[str, bytes]:
      from kubricgen_sharding import gcs  # pylint: disable=import-outside-toplevel
      return files_of(gcs.download_dataset(final, os.path.join(workdir, tag), storage))

    if run.returncode == 0:
      if not published():
        outcome, how = OTHER, "the command succeeded and published nothing"
      else:
        files = download("copy")
        outcome, how = (IDENTICAL, "identical") if files == reference.files else \
            (OTHER, f"the command succeeded but the objects differ: {differences(files, reference.files)}")
    else:
      why = clean_refusal(run)
      if why:
        outcome, how = OTHER, f"exit {run.returncode}: {why}" + (" (and published)" if published() else "")
      elif published():
        same = "identical" if download("copy") == reference.files else "NOT identical"
        outcome, how = OTHER, (f"refused ({error_line(run)}) but dataset_info.json is under {final} (the published "
                               f"objects are {same} to the clean build's)")
      else:
        proxy.share = 0.0
        again = Build(command(data, cache), env, os.path.join(workdir, "healthy")).wait()
        if again.returncode == 0 and published() and download("copy") == reference.files:
          outcome, how = REFUSED, f"{error_line(run)}; a rerun through a healthy proxy gave the identical dataset"
        else:
          outcome, how = OTHER, (f"refused ({error_line(run)}), then a healthy rerun: exit {again.returncode}, "
                                 f"{_tail(again.stderr, 400)}")
  log(f"flaky_gcs: {did}: {outcome}: {how}")
  return Outcome("flaky_gcs", outcome, f"{did}: {how}")


KINDS: dict[str, Callable[..., Outcome]] = {
    "kill_worker": kill_worker,
    "kill_driver": kill_driver,
    "corrupt": corrupt,
    "full_disk": full_disk,
    "flaky_gcs": flaky_gcs,
    "concurrent": concurrent_builds,
    "sigterm": sigterm_publish,
}


def run_trial(kind: str, reference: Reference, workdir: str, rng: random.Random, log=print, **kwargs) -> Outcome:
  """Run one trial of `kind` in the empty folder `workdir`; a harness error is an "other" outcome too."""
  start = time.perf_counter()
  try:
    outcome = KINDS[kind](reference, workdir, rng, log=log, **kwargs)
  except Exception as error:  # pylint: disable=broad-except
    outcome = Outcome(kind, OTHER, f"the trial itself failed: {type(error).__name__}: {error}")
    log(f"{kind}: other: {outcome.detail}")
  outcome.seconds = time.perf_counter() - start
  return outcome
