"""Errors raised by the asset library: each names the manifest, asset or file at fault in one line.

gs:// failures are not asset errors: they are `kubricgen.storage.StorageError` (a ValueError) and
`StorageNotFoundError` (also a FileNotFoundError), raised by kubricgen's one gs:// module for every stage."""
from __future__ import annotations


class AssetError(ValueError):
  """Base class: anything wrong with an asset, a manifest or its files."""


class ManifestError(AssetError):
  """A manifest that does not follow the schema (missing field, wrong type, duplicate id, unsafe path)."""


class IntegrityError(AssetError):
  """A file that is missing, has the wrong size or sha256, or an archive entry that escapes its folder."""


class AssetFileNotFoundError(IntegrityError, FileNotFoundError):
  """A manifest, archive or asset file that is not where the manifest says (also a FileNotFoundError, as in
  Kubric)."""


class ManifestNotFoundError(ManifestError, AssetFileNotFoundError):
  """A manifest file that does not exist (a ManifestError, an AssetFileNotFoundError and a FileNotFoundError)."""


class UnknownAssetError(AssetError, KeyError):
  """An asset id that the source does not hold."""

  def __str__(self) -> str:  # KeyError would quote the message
    return str(self.args[0]) if self.args else ""
