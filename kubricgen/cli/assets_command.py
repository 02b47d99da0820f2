"""`kubricgen assets ...`: list, show, preview, import and verify assets.

    kubricgen assets list [--source classes|kubasic|pybullet_data|backgrounds|MANIFEST|gs://...|DIR] [--split S]
    kubricgen assets show ID [--source ...]
    kubricgen assets preview [ID ...] [--source ...] [--out sheet.png] [--size 128] [--samples 16]
    kubricgen assets import DIR|ARCHIVE --out MANIFEST.json [--class_name N] [--units cm] [--up_axis +y] ...
    kubricgen assets verify [--source ...]

Bad input (an unknown id, a manifest that breaks the schema, a checksum mismatch, an archive entry that escapes its
folder, storage that cannot be reached) ends with one line `kubricgen: error: ...` and exit code 1; a bad flag or
flag value with `kubricgen assets ACTION: error: ...` and exit code 2. Nothing is half-written. Flags are snake_case
(the kebab-case spelling is accepted); `--progress/--no_progress` as in every command.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback

from kubricgen.worker.flags import (OneLineArgumentParser, UsageError, add_progress_flags, int_at_least,
                                    positive_float, positive_int, progress_wanted)

PROG = "kubricgen assets"
HELP = "list, show, preview and import assets (kubricgen assets --help)"


def png_path(text: str) -> str:
  if not text.lower().endswith(".png"):
    raise argparse.ArgumentTypeError(f"must name a .png file, got {text}")
  return text


def _parser() -> argparse.ArgumentParser:
  parser = OneLineArgumentParser(prog=PROG, description="Asset sources, class library, backgrounds.")
  commands = parser.add_subparsers(dest="action", metavar="ACTION")
  source_help = ("classes (default), kubasic, pybullet_data, backgrounds, a manifest (.json path or gs:// URL) or a "
                 "folder of meshes")
  listing = commands.add_parser("list", help="list the assets of a source")
  listing.add_argument("--source", default="classes", help=source_help)
  listing.add_argument("--split", choices=("train", "test"), help="only this split of the class library")
  listing.add_argument("--class", dest="class_name", help="only this class")
  listing.add_argument("--json", action="store_true", help="one JSON object per line")
  show = commands.add_parser("show", help="describe one asset (files verified, size, mass)")
  show.add_argument("asset_id")
  show.add_argument("--source", default="classes", help=source_help)
  preview = commands.add_parser("preview", help="render a contact sheet PNG of assets")
  preview.add_argument("asset_ids", nargs="*", help="assets to show (default: all of the source)")
  preview.add_argument("--source", default="classes", help=source_help)
  preview.add_argument("--out", type=png_path, default="assets_preview.png",
                       help="PNG to write (default: %(default)s)")
  preview.add_argument("--size", type=int_at_least(16), default=128,
                       help="thumbnail size in pixels (default: %(default)s)")
  preview.add_argument("--samples", type=positive_int, default=16,
                       help="Cycles samples per pixel (default: %(default)s)")
  preview.add_argument("--split", choices=("train", "test"), help="only this split of the class library")
  add_progress_flags(preview)
  importing = commands.add_parser("import", help="turn a folder (or archive) of meshes into a manifest")
  importing.add_argument("folder", help="folder or .zip/.tar(.gz) of OBJ/GLB/GLTF/STL/PLY files")
  importing.add_argument("--out", required=True, help="manifest to write (.json); files go to a folder beside it")
  importing.add_argument("--class_name", help="class of every asset (default: each asset's id)")
  importing.add_argument("--license", default="unknown", help="license recorded for every asset")
  importing.add_argument("--units", default="m", choices=("m", "cm", "mm", "in"), help="units of the files")
  importing.add_argument("--scale", type=positive_float, default=1.0, help="extra factor on the file's coordinates")
  importing.add_argument("--up_axis", default="+z", choices=("+x", "-x", "+y", "-y", "+z", "-z"),
                         help="the files' up axis (turned to +Z)")
  importing.add_argument("--front_axis", choices=("+x", "-x", "+y", "-y", "+z", "-z"),
                         help="the files' axis that should face -Y (the default camera)")
  importing.add_argument("--density", type=positive_float, default=1000.0, help="kg/m^3 for mass properties")
  importing.add_argument("--vhacd_resolution", type=vhacd_resolution, default=100_000,
                         help="V-HACD voxels (10000..16000000)")
  importing.add_argument("--no_thumbnails", action="store_true", help="skip the thumbnail renders")
  importing.add_argument("--thumbnail_size", type=int_at_least(16), default=128, help="thumbnail size in pixels")
  add_progress_flags(importing)
  verify = commands.add_parser("verify", help="check every file of a source against its checksums")
  verify.add_argument("--source", default="classes", help=source_help)
  return parser


def vhacd_resolution(text: str) -> int:
  value = int_at_least(10_000)(text)
  if value > 16_000_000:
    raise argparse.ArgumentTypeError(f"must be in 10000..16000000, got {value}")
  return value


def open_source(spec: str):
  """A source by name, manifest path or URL, or folder."""
  from kubricgen.assets import ClassLibrary, FolderSource, ManifestSource, ProceduralSource  # noqa: E501  pylint: disable=import-outside-toplevel
  from kubricgen.assets.errors import AssetError  # pylint: disable=import-outside-toplevel
  if spec == "classes":
    return ClassLibrary.default().source
  if spec == "kubasic":
    return ProceduralSource.kubasic()
  if spec in ("pybullet_data", "pybullet"):
    return ManifestSource.pybullet_data()
  if spec.startswith("gs://") or spec.endswith(".json"):
    return ManifestSource.from_manifest(spec)
  if os.path.isdir(spec):
    return FolderSource(spec)
  raise AssetError(f"unknown source {spec!r}: expected classes, kubasic, pybullet_data, backgrounds, a manifest "
                   "(.json or gs://) or a folder")


def _backgrounds(spec: str):
  from kubricgen.assets import BackgroundLibrary  # pylint: disable=import-outside-toplevel
  if spec == "backgrounds":
    return BackgroundLibrary.default()
  return None


def _list(args) -> int:
  from kubricgen.assets import ClassLibrary  # pylint: disable=import-outside-toplevel
  backgrounds = _backgrounds(args.source)
  if backgrounds is not None:
    for background_id in backgrounds.ids:
      print(json.dumps({"id": background_id}) if args.json else background_id)
    return 0
  source = open_source(args.source)
  library = ClassLibrary(source) if hasattr(source, "manifest") else None
  infos = library.instances(args.split, args.class_name) if library else source.infos
  if library is None and (args.split or args.class_name):
    infos = [i for i in infos if args.class_name in (None, i.class_name)]
  for info in infos:
    if args.json:
      print(json.dumps({"id": info.id, "class_name": info.class_name, "imagenet_index": info.imagenet_index,
                        "split": info.split, "kind": info.kind, "source": info.source}))
    else:
      index = "-" if info.imagenet_index is None else str(info.imagenet_index)
      print(f"{info.id:28s} {info.class_name:16s} {index:>5s} {info.split or '':6s} {info.kind}")
  if not args.json:
    classes = len({i.class_name for i in infos})
    print(f"# {len(infos)} assets, {classes} classes ({source.name})", file=sys.stderr)
  return 0


def _show(args) -> int:
  source = open_source(args.source)
  info = source.info(args.asset_id)
  out = {"id": info.id, "class_name": info.class_name, "imagenet_index": info.imagenet_index, "kind": info.kind,
         "license": info.license, "source": info.source}
  if hasattr(source, "entry"):
    entry = source.entry(args.asset_id)
    out["manifest"] = entry.to_json()
    files = source.fetch(args.asset_id) if entry.files or entry.archive else {}
    out["files_verified"] = sorted(files)
  prepared = source.prepare(args.asset_id)
  if prepared is not None:
    out.update(size_m=prepared.size_m, mass_properties=prepared.info.get("mass_properties"),
               render_file=str(prepared.render), collision_file=str(prepared.collision))
  split = source.splits().get(args.asset_id) if hasattr(source, "splits") else None
  if split:
    out["split"] = split
  print(json.dumps(out, indent=2))
  return 0


def _preview(args) -> int:
  from kubricgen.assets import ClassLibrary, prepare, preview, shapes  # pylint: disable=import-outside-toplevel
  from kubricgen.assets.errors import AssetError  # pylint: disable=import-outside-toplevel
  from tqdm.auto import tqdm  # pylint: disable=import-outside-toplevel
  start = time.perf_counter()
  backgrounds = _backgrounds(args.source)
  rows = []
  if backgrounds is not None:
    ids = args.asset_ids or backgrounds.ids
    tiles = [(i, backgrounds.load(i, args.size)) for i in ids]
    rows = [("backgrounds", tiles[k:k + 6]) for k in range(0, len(tiles), 6)]
  else:
    source = open_source(args.source)
    library = ClassLibrary(source) if hasattr(source, "manifest") else None
    infos = library.instances(args.split) if library else source.infos
    if args.asset_ids:
      for asset_id in args.asset_ids:
        source.info(asset_id)  # unknown id: a clear error before rendering anything
      infos = [i for i in infos if i.id in set(args.asset_ids)]
    groups: dict = {}
    for info in infos:
      groups.setdefault(info.class_name, []).append(info)
    bar = tqdm(total=len(infos), desc="preview", unit="asset", disable=not progress_wanted(args.progress),
               leave=False)
    for class_name in sorted(groups):
      tiles = []
      for info in groups[class_name]:
        key = {"source": source.name, "asset": info.id, "code": [shapes.VERSION, prepare.VERSION],
               "entry": source.entry(info.id).to_json() if hasattr(source, "entry") else info.metadata}
        image = preview.cached_thumbnail(key, lambda i=info.id: source.create(i), args.size, args.samples)
        label = info.id + (f" [{info.split}]" if info.split else "")
        tiles.append((label, image))
        bar.update(1)
      index = groups[class_name][0].imagenet_index
      title = class_name + (f"\nImageNet {index}" if index is not None else "")
      rows.append((title, tiles))
    bar.close()
  if not rows:
    raise AssetError("preview: nothing to show")
  sheet = preview.contact_sheet(rows, args.size)
  import io  # pylint: disable=import-outside-toplevel
  from kubricgen import atomic  # pylint: disable=import-outside-toplevel
  buffer = io.BytesIO()
  sheet.save(buffer, format="PNG")
  atomic.write_bytes(args.out, buffer.getvalue())
  count = sum(len(items) for _, items in rows)
  print(f"wrote {args.out}: {count} assets in {len(rows)} rows ({time.perf_counter() - start:.1f} s)",
        file=sys.stderr)
  return 0


def _import(args) -> int:
  from kubricgen.assets import importer  # pylint: disable=import-outside-toplevel
  options = importer.ImportOptions(class_name=args.class_name, license=args.license, units=args.units,
                                   scale=args.scale, up_axis=args.up_axis, front_axis=args.front_axis,
                                   density=args.density,
                                   vhacd_resolution=args.vhacd_resolution, thumbnails=not args.no_thumbnails,
                                   thumbnail_size=args.thumbnail_size)
  start = time.perf_counter()
  report = importer.import_folder(args.folder, args.out, options, progress=progress_wanted(args.progress))
  print(f"{report.manifest}: {len(report.imported)} imported, {len(report.unchanged)} unchanged, "
        f"{len(report.removed)} removed ({time.perf_counter() - start:.1f} s)")
  return 0


def _verify(args) -> int:
  backgrounds = _backgrounds(args.source)
  if backgrounds is not None:
    for background_id in backgrounds.ids:
      backgrounds.path(background_id)
    print(f"{len(backgrounds)} backgrounds verified")
    return 0
  source = open_source(args.source)
  checked = 0
  for asset_id in source.ids:
    if hasattr(source, "fetch"):
      entry = source.entry(asset_id)
      if entry.files or entry.archive:
        checked += len(source.fetch(asset_id))
  print(f"{source.name}: {len(source.ids)} assets, {checked} files verified")
  return 0


def run(argv: list[str], fail) -> int:
  """`kubricgen assets ARGS` (argv excludes 'assets'); registered in kubricgen.cli.main.COMMANDS. `fail` writes
  the one-line error of anything but a flag."""
  from kubricgen.assets.errors import AssetError  # pylint: disable=import-outside-toplevel
  from kubricgen.storage import StorageError  # pylint: disable=import-outside-toplevel
  parser = _parser()
  if not argv or argv[0] in ("-h", "--help"):
    parser.print_help()
    return 0 if argv else 2
  try:
    args = parser.parse_args(argv)
  except UsageError as error:
    return int(error.code)
  except SystemExit as error:  # --help of a subcommand
    return int(error.code or 0)
  actions = {"list": _list, "show": _show, "preview": _preview, "import": _import, "verify": _verify}
  try:
    return actions[args.action](args)
  except (AssetError, StorageError) as error:  # each names its manifest, asset, file or gs:// URL
    return fail(str(error))
  except KeyboardInterrupt:
    return fail("interrupted", 130)
  except BrokenPipeError:  # e.g. `kubricgen assets list | head`
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
  except Exception as error:  # pylint: disable=broad-except
    if os.environ.get("KUBRICGEN_DEBUG"):
      traceback.print_exc()
    return fail(f"assets {args.action} failed: {type(error).__name__}: {error}")
