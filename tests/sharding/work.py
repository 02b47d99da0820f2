"""Job functions for executor tests (module-level, so spawned child processes can import them)."""
import os
import time


def square(value):
  return value * value


def pid_of(_):
  return os.getpid()


def hang_then_answer(flag_path):
  """Hangs the first time (creating flag_path), answers afterwards."""
  if not os.path.exists(flag_path):
    open(flag_path, "w").close()
    time.sleep(3600)
  return "answer"


def die_then_answer(flag_path):
  if not os.path.exists(flag_path):
    open(flag_path, "w").close()
    os._exit(9)  # pylint: disable=protected-access
  return "answer"


def always_raise(_):
  raise ValueError("broken job")


def grow_memory(megabytes):
  """Allocates and keeps memory in the worker (a leak), returns the worker's peak RSS in MB."""
  import resource  # pylint: disable=import-outside-toplevel
  global _LEAK  # pylint: disable=global-statement
  _LEAK = globals().get("_LEAK", []) + [bytearray(megabytes * 1024 * 1024)]
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_imports(_):
  """What a job process inherited: its main module's file (None without one) and whether the parent's extra
  sys.path entry is there."""
  import sys  # pylint: disable=import-outside-toplevel
  main = sys.modules.get("__main__")
  return getattr(main, "__file__", None), "/kubricgen-test-parent-only" in sys.path
