"""Publishing a folder over an older one: readers see the old folder or the new one, never nothing."""
import os
import threading

from kubricgen import atomic


def _folder(path, version):
  path.mkdir()
  (path / "dataset_info.json").write_text(version)
  (path / "shard").write_bytes(version.encode() * 1000)


def test_replace_folder_swaps_in_one_step_while_a_reader_watches(tmp_path):
  final = tmp_path / "si_score" / "1.0.0"
  _folder(tmp_path / "first", "0")
  atomic.replace_folder(tmp_path / "first", final)  # nothing there yet
  assert (final / "dataset_info.json").read_text() == "0"
  missing, stop = [], threading.Event()

  def reader():
    while not stop.is_set():
      if not os.path.isfile(final / "dataset_info.json"):
        missing.append(1)

  thread = threading.Thread(target=reader)
  thread.start()
  try:
    for version in range(1, 300):
      staged = tmp_path / f"staged-{version}"
      _folder(staged, str(version))
      atomic.replace_folder(staged, final)
      assert not staged.exists() and not (tmp_path / f"staged-{version}.old").exists()  # old copy deleted
  finally:
    stop.set()
    thread.join()
  assert (final / "dataset_info.json").read_text() == "299"
  assert (final / "shard").read_bytes() == b"299" * 1000
  assert not missing, f"the folder was absent {len(missing)} times"
  assert sorted(p.name for p in tmp_path.iterdir()) == ["si_score"]
