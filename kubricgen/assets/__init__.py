"""Assets: where scene objects and backgrounds come from, checked and cached, with nothing downloaded at run time
unless a manifest says gs://.

    from kubricgen.assets import ClassLibrary, BackgroundLibrary, AssetSource
    lib = ClassLibrary.default()                 # bundled classes, ImageNet indices, train/test instance split
    obj = lib.create("teapot_porcelain")         # a normalised kb object (largest half-extent 1), asset_id set
    kubasic = ProceduralSource.kubasic()          # Kubric's KuBasic shapes
    ducks = ManifestSource.pybullet_data()        # meshes shipped in pybullet_data, checksummed
    mine = ManifestSource.from_manifest("gs://bucket/assets/manifest.json")
    gso = AssetSource.from_manifest("gs://bucket/GSO/GSO.json")  # Kubric's manifests too (kb.AssetSource)

Modules: `manifest` (format and validation), `integrity` (checksums, safe paths and archives), `fetch` (local and
gs:// files, through kubricgen.storage, the gs:// module every stage shares), `prepare` (normalised meshes, collision,
mass; cached), `shapes` (procedural generators), `sources` (AssetSource and its kinds), `kubric_manifest` (Kubric's
own manifests: KuBasic, GSO, ShapeNet), `classes` (class library), `backgrounds`, `importer` (user folders ->
manifest), `preview` (thumbnails and contact sheets).
"""
from kubricgen.assets.backgrounds import BackgroundLibrary
from kubricgen.assets.classes import ClassInfo, ClassLibrary
from kubricgen.assets.errors import (AssetError, AssetFileNotFoundError, IntegrityError, ManifestError,
                                     UnknownAssetError)
from kubricgen.storage import StorageError  # what a gs:// manifest or file raises; kubricgen/storage.py owns it
from kubricgen.assets.sources import AssetInfo, AssetSource, FolderSource, ManifestSource, ProceduralSource
from kubricgen.assets.kubric_manifest import KubricSource
from kubricgen.assets import utils  # Kubric's kb.assets.utils (get_clevr_lights)

__all__ = ["AssetError", "AssetFileNotFoundError", "AssetInfo", "AssetSource", "BackgroundLibrary", "ClassInfo",
           "ClassLibrary", "FolderSource", "IntegrityError", "KubricSource", "ManifestError", "ManifestSource",
           "ProceduralSource", "StorageError", "UnknownAssetError"]
