"""`kubricgen verify DATASET_DIR`: read a built dataset record by record in every file format and check every byte
(kubricgen.datasets.verify)."""
from __future__ import annotations

import os

HELP = "check a built dataset record by record in every file format: CRCs, counts, content hashes, unique ids"


def run(argv: list[str], fail) -> int:
  from kubricgen.worker.flags import OneLineArgumentParser  # pylint: disable=import-outside-toplevel
  parser = OneLineArgumentParser(prog="kubricgen verify", description=HELP)
  parser.add_argument("dataset", help="a dataset version folder (DATA_DIR/si_score/location/1.0.0) or a config "
                      "folder holding one version")
  flags = parser.parse_args(argv)
  path = flags.dataset
  if os.path.isdir(path) and not os.path.isfile(os.path.join(path, "dataset_info.json")):
    versions = sorted(v for v in os.listdir(path) if os.path.isfile(os.path.join(path, v, "dataset_info.json")))
    if len(versions) == 1:
      path = os.path.join(path, versions[0])
  from kubricgen.datasets import verify  # pylint: disable=import-outside-toplevel
  try:
    report = verify.verify(path)
  except (FileNotFoundError, ValueError) as error:
    return fail(str(error))
  counts = ", ".join(f"{split}: {n}" for split, n in report.splits.items())
  if not report.ok:
    for problem in report.problems[1:]:
      print(f"  also: {problem}")
    more = f" (and {len(report.problems) - 1} more problem(s), above)" if len(report.problems) > 1 else ""
    return fail(f"{report.problems[0]}{more}")
  print(f"{path}: OK ({counts}; {report.records} records in {' and '.join(report.formats)}: every record reads, "
        "every content hash matches, ids unique)")
  return 0

