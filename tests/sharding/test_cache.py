"""The job result cache holds JSON data with a digest, never pickles: damaged entries are deleted and their job
runs again; an entry crafted to run code is refused as data that does not parse; gs:// works the same."""
import json
import logging
import pickle

import pytest

from kubricgen_sharding.cache import JobCache


class RunsCode:
  def __init__(self, marker):
    self.marker = marker

  def __reduce__(self):
    return (open, (self.marker, "w"))


def entry_path(cache, key):
  return cache._path(cache.results, key, ".json")  # pylint: disable=protected-access


def test_results_round_trip_as_json_values(tmp_path):
  cache = JobCache(tmp_path, "fingerprint").prepare()
  assert not cache.has("a") and cache.finished() == set()
  cache.save("a", [("a", {"rss_kb": 10, "time": 1.5})], {"seconds": 2.0})
  assert cache.has("a") and cache.finished() == {"a"}
  assert cache.load("a") == [["a", {"rss_kb": 10, "time": 1.5}]]  # tuples come back as lists, as in JSON
  assert JobCache(tmp_path, "other fingerprint").prepare().load("a") is None


def test_what_is_not_json_is_refused_not_pickled(tmp_path):
  cache = JobCache(tmp_path, "fingerprint").prepare()
  with pytest.raises(TypeError, match="JSON data only"):
    cache.save("a", [RunsCode(str(tmp_path / "ran"))], {})
  assert not cache.has("a")


@pytest.mark.parametrize("damage", ["truncated", "edited examples", "another job's entry", "crafted pickle"])
def test_a_damaged_entry_is_deleted_and_its_job_runs_again(tmp_path, caplog, damage):
  cache = JobCache(tmp_path, "fingerprint").prepare()
  cache.save("a", [1, 2, 3], {})
  cache.save("b", [4], {})
  path = entry_path(cache, "a")
  text = path.read_text()
  if damage == "truncated":
    path.write_text(text[:len(text) // 2])
  elif damage == "edited examples":
    path.write_text(text.replace("[1, 2, 3]", "[1, 2, 4]"))
  elif damage == "another job's entry":
    path.write_text(entry_path(cache, "b").read_text())
  else:
    path.write_bytes(pickle.dumps(RunsCode(str(tmp_path / "ran"))))
  with caplog.at_level(logging.WARNING, logger="kubricgen_sharding.cache"):
    assert cache.load("a") is None
  assert "is damaged" in caplog.text and not path.exists()
  assert not (tmp_path / "ran").exists()
  assert cache.load("b") == [4]
  cache.save("a", [1, 2, 3], {})
  assert json.loads(path.read_text())["examples"] == [1, 2, 3]


def test_the_cache_on_gs_goes_through_kubricgens_storage_client(gcs_emulator):
  from kubricgen import storage
  storage.default_storage().create_bucket("jobs")
  cache = JobCache("gs://jobs/cache", "fingerprint").prepare()
  assert cache.finished() == set() and cache.load("a") is None
  cache.save("a", [1, 2], {"seconds": 1.0})
  cache.save("b", [3], {"seconds": 2.0})
  assert cache.load("a") == [1, 2] and cache.finished() == {"a", "b"}
  entry = cache._path(cache.results, "a", ".json")  # pylint: disable=protected-access
  assert isinstance(entry, storage.GsPath) and entry.exists()
  entry.write_text(entry.read_text().replace("[1, 2]", "[1, 3]"))  # damaged: deleted, the job runs again
  assert cache.load("a") is None and not entry.exists() and cache.load("b") == [3]
