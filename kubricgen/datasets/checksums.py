"""`files.sha256`: the sha256 of every file a published dataset version holds, in `sha256sum` format ("<hex>  <name>"
per line, sorted by name), so `sha256sum -c files.sha256` checks a local copy. Builds write it
(si_score.build), `kubricgen verify` checks it; the trainer's data source (robustness/data/source.py) reads the same
format without importing kubricgen.
"""
from __future__ import annotations

import os

from kubricgen.assets.integrity import sha256_file

CHECKSUMS = "files.sha256"


def write(version_dir: str, known: dict[str, str] | None = None) -> None:
  """Write `files.sha256` into local `version_dir`. `known` ({file name: sha256}) gives digests already computed
  where the files were written (the shards' markers; on gs:// the shards are not in `version_dir`); every other file
  in `version_dir` is read and hashed here."""
  digests = dict(known or {})
  for name in os.listdir(version_dir):
    if name != CHECKSUMS and name not in digests and os.path.isfile(os.path.join(version_dir, name)):
      digests[name] = sha256_file(os.path.join(version_dir, name))
  with open(os.path.join(version_dir, CHECKSUMS), "w", encoding="utf-8") as handle:
    handle.writelines(f"{digest}  {name}\n" for name, digest in sorted(digests.items()))


def mismatches(version_dir: str) -> list[tuple[str, str, str]]:
  """(name, found sha256 prefix or "missing", listed sha256) of each file whose bytes differ from `files.sha256`
  (an unparsable line of the list is reported as itself); [] when all match or there is no list."""
  path = os.path.join(version_dir, CHECKSUMS)
  if not os.path.isfile(path):
    return []
  out = []
  with open(path, encoding="utf-8", errors="replace") as handle:
    for line in handle:
      listed, _, name = line.rstrip("\n").partition("  ")
      if not name:
        out.append((CHECKSUMS, "unparsable line", line.strip()[:40]))
        continue
      file = os.path.join(version_dir, name)
      if not os.path.isfile(file):
        out.append((name, "missing", listed))
        continue
      found = sha256_file(file)
      if found != listed:
        out.append((name, f"{found[:16]}…", listed))
  return out
