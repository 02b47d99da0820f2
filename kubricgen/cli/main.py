"""`kubricgen` command: `kubricgen render SCENE.py [flags]` runs a scene script as a worker.

Every failure ends with one line on stderr naming the problem and a non-zero exit (2 for bad flags, 1 otherwise);
set KUBRICGEN_DEBUG=1 for the full traceback. Nothing half-written is left under the output name.
"""
from __future__ import annotations

import importlib
import logging
import os
import runpy
import signal
import sys
import threading
import traceback

from kubricgen.worker import session as worker_session
from kubricgen.worker.flags import OneLineArgumentParser, UsageError

PROG = "kubricgen"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ info lines are noise for CLI users
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # TF only reads/writes records here; silences its oneDNN notice


class Terminated(KeyboardInterrupt):
  """SIGTERM, raised in the main thread so that clean-ups run (staging, locks, child processes) as for Ctrl-C."""


def _on_sigterm(signum, frame):  # pylint: disable=unused-argument
  raise Terminated()


_stopped = []  # set when the run ends by SIGTERM or Ctrl-C: main() then exits at once (see there)


def _interrupted(error: KeyboardInterrupt) -> int:
  _stopped.append(error)
  if isinstance(error, Terminated):
    return fail("terminated by SIGTERM; whatever was not yet published is not: run the same command again to "
                "resume", 128 + signal.SIGTERM)
  return fail("interrupted", 130)


def fail(message: str, code: int = 1) -> int:
  sys.stderr.write(f"{PROG}: error: {message}\n")
  return code


def run_scene(script: str, argv: list[str]) -> int:
  """Run a scene script as `__main__` with `argv` as its flags; publish or clean up its output."""
  if not os.path.isfile(script):
    return fail(f"scene script not found: {script}")
  try:
    with open(script, encoding="utf-8") as handle:
      compile(handle.read(), script, "exec")
  except SyntaxError as error:
    return fail(f"{script}:{error.lineno}: syntax error: {error.msg}")
  saved_argv, saved_path = sys.argv, list(sys.path)
  sys.argv = [script, *argv]
  sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
  try:
    runpy.run_path(script, run_name="__main__")
    if worker_session.current() is not None:  # the script forgot kb.done(): publish for it
      worker_session.done()
    return 0
  except UsageError as error:
    worker_session.abort()
    return int(error.code or 2)
  except SystemExit as error:
    worker_session.abort()
    return error.code if isinstance(error.code, int) else fail(str(error.code))
  except KeyboardInterrupt as error:
    worker_session.abort()
    return _interrupted(error)
  except worker_session.OutputError as error:
    worker_session.abort()
    return fail(str(error))
  except Exception as error:  # pylint: disable=broad-except
    worker_session.abort()
    if os.environ.get("KUBRICGEN_DEBUG"):
      traceback.print_exc()
    where = _script_line(error, script)
    return fail(f"{script}{where} failed: {type(error).__name__}: {error}")
  finally:
    sys.argv, sys.path[:] = saved_argv, saved_path


def _script_line(error: BaseException, script: str) -> str:
  frames = traceback.extract_tb(error.__traceback__)
  lines = [f.lineno for f in frames if os.path.abspath(f.filename) == os.path.abspath(script)]
  return f":{lines[-1]}" if lines else ""


# Subcommands beside `render`: name -> module with HELP and run(argv, fail) -> exit code (imported when used).
COMMANDS = {
    "verify": "kubricgen.cli.verify_command",
    "assets": "kubricgen.cli.assets_command",
    "export": "kubricgen.cli.export_command",
    "train": "kubricgen.cli.train_command",
    "study": "kubricgen.cli.study_command",
    "analyze": "kubricgen.cli.analyze_command",
}


def main(argv: list[str] | None = None) -> int:
  """The `kubricgen` command; returns its exit status. SIGTERM ends it like Ctrl-C (clean-ups run, one line)."""
  if threading.current_thread() is not threading.main_thread():
    return _main(argv)
  previous = signal.signal(signal.SIGTERM, _on_sigterm)
  try:
    status = _main(argv)
  finally:
    signal.signal(signal.SIGTERM, previous)
  if _stopped:
    # The main thread has unwound (staging, locks, temporary files cleaned), but a runner's worker threads (Beam's
    # in-process workers) would keep running jobs and hold the interpreter open: end the process now. Job processes
    # notice their parent is gone and exit too (kubricgen_sharding.executor).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)  # pylint: disable=protected-access
  return status


class _SourceFormatter(logging.Formatter):
  """'kubricgen: message' for our own loggers; a library's messages (TFDS, absl, Beam) name their logger instead,
  so a warning from TensorFlow Datasets does not read as kubricgen's."""

  def format(self, record: logging.LogRecord) -> str:
    source = PROG if record.name == "root" or record.name.split(".")[0] in (PROG, "kubricgen_sharding",
                                                                          "kubricgen_robustness") else record.name
    text = f"{source}: {record.getMessage()}"
    if record.exc_info:
      text += "\n" + self.formatException(record.exc_info)
    return text


def _main(argv: list[str] | None) -> int:
  argv = sys.argv[1:] if argv is None else argv
  handler = logging.StreamHandler(sys.stderr)
  handler.setFormatter(_SourceFormatter())
  logging.basicConfig(level=logging.INFO, handlers=[handler])
  parser = OneLineArgumentParser(prog=PROG, description="Kubric-style synthetic data: scenes, assets, datasets.")
  commands = parser.add_subparsers(dest="command", metavar="COMMAND")  # its parsers: OneLineArgumentParser too
  render = commands.add_parser(
      "render", help="run a scene script (e.g. scenes/movi_a.py) and write its folder", add_help=False,
      usage=f"{PROG} render SCRIPT [FLAGS]", description="Run a scene script as a Kubric worker: its output folder "
      "appears once the scene is complete. The flags after SCRIPT are the script's own: `kubricgen render SCRIPT "
      "--help` lists them.")
  render.add_argument("script", help="scene script, e.g. scenes/helloworld.py")
  modules = {name: importlib.import_module(module) for name, module in COMMANDS.items()}
  for name, module in modules.items():
    commands.add_parser(name, help=module.HELP, add_help=False)
  if argv and argv[0] in modules:
    try:
      return modules[argv[0]].run(argv[1:], fail)
    except UsageError as error:
      return int(error.code or 2)
    except KeyboardInterrupt as error:
      return _interrupted(error)
  if not argv or argv[0] in ("-h", "--help"):
    parser.print_help()
    return 0 if argv else 2
  if argv[0] == "render" and argv[1:2] in (["-h"], ["--help"]):
    render.print_help()
    return 0
  try:
    known, rest = parser.parse_known_args(argv[:2])
  except UsageError as error:
    return int(error.code)
  rest += argv[2:]
  if known.command == "render":
    if known.script.startswith("-"):
      return fail(f"render: expected a scene script before flags, got {known.script}", 2)
    return run_scene(known.script, rest)
  return fail(f"unknown command {argv[0]!r}", 2)


if __name__ == "__main__":
  sys.exit(main())
