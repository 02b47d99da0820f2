"""Checksums, paths and archives: every refusal, and nothing written when refused."""
import io
import os
import stat
import tarfile
import zipfile

import pytest

from kubricgen.assets import integrity
from kubricgen.assets.errors import IntegrityError


def test_verify_file_checks_size_and_sha256(tmp_path):
  path = tmp_path / "a.bin"
  path.write_bytes(b"hello")
  sha = integrity.sha256_bytes(b"hello")
  assert integrity.verify_file(path, sha, 5) == path
  with pytest.raises(IntegrityError, match="size mismatch"):
    integrity.verify_file(path, sha, 6)
  path.write_bytes(b"jello")  # same size, other content
  with pytest.raises(IntegrityError, match="sha256 mismatch"):
    integrity.verify_file(path, sha, 5)
  with pytest.raises(IntegrityError, match="missing file"):
    integrity.verify_file(tmp_path / "absent", sha, 5)
  with pytest.raises(IntegrityError, match="not a regular file"):
    integrity.verify_file(tmp_path, sha, 5)


def test_resolve_inside_refuses_links_out_of_the_folder(tmp_path):
  root = tmp_path / "root"
  root.mkdir()
  (tmp_path / "secret").write_text("x")
  os.symlink(tmp_path / "secret", root / "link")
  (root / "ok").write_text("y")
  assert integrity.resolve_inside(root, "ok") == (root / "ok").resolve()
  with pytest.raises(IntegrityError, match="through a link"):
    integrity.resolve_inside(root, "link")
  with pytest.raises(IntegrityError, match="escapes"):
    integrity.resolve_inside(root, "../secret")


def make_zip(path, entries):
  with zipfile.ZipFile(path, "w") as archive:
    for name, data, mode in entries:
      info = zipfile.ZipInfo(name)
      info.external_attr = mode << 16
      archive.writestr(info, data)
  return path


def make_tar(path, entries):
  with tarfile.open(path, "w:gz") as archive:
    for name, data, kind in entries:
      info = tarfile.TarInfo(name)
      if kind == "file":
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
      else:
        info.type = {"symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE}[kind]
        info.linkname = data.decode() if kind != "fifo" else ""
        archive.addfile(info)
  return path


GOOD = [("mesh/a.obj", b"v 0 0 0\n", stat.S_IFREG | 0o644), ("mesh/b.png", b"png", stat.S_IFREG | 0o644)]


def test_good_archives_extract(tmp_path):
  for archive in (make_zip(tmp_path / "g.zip", GOOD),
                  make_tar(tmp_path / "g.tar.gz", [(n, d, "file") for n, d, _ in GOOD])):
    out = integrity.safe_extract(archive, tmp_path / f"out-{archive.name}")
    assert (out / "mesh" / "a.obj").read_bytes() == b"v 0 0 0\n"


BAD_ZIP = [("../evil.obj", "escapes its folder"), ("/abs/evil.obj", "absolute"), ("a/../../evil.obj", "escapes")]
BAD_TAR = [("../evil.obj", b"x", "file", "escapes its folder"), ("/etc/evil", b"x", "file", "absolute"),
           ("link", b"../../outside", "symlink", "link"), ("hard", b"mesh/a.obj", "hardlink", "link"),
           ("pipe", b"", "fifo", "not a regular file")]


@pytest.mark.parametrize("name, words", BAD_ZIP)
def test_zip_entries_that_escape_are_refused_and_nothing_is_written(tmp_path, name, words):
  archive = make_zip(tmp_path / "bad.zip", GOOD + [(name, b"x", stat.S_IFREG | 0o644)])
  with pytest.raises(IntegrityError, match=words):
    integrity.safe_extract(archive, tmp_path / "out")
  assert sorted(os.listdir(tmp_path)) == ["bad.zip"]


def test_zip_symlink_entries_are_refused(tmp_path):
  archive = make_zip(tmp_path / "bad.zip", GOOD + [("link", b"/etc/passwd", stat.S_IFLNK | 0o777)])
  with pytest.raises(IntegrityError, match="is a link"):
    integrity.safe_extract(archive, tmp_path / "out")
  assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name, data, kind, words", BAD_TAR)
def test_tar_entries_that_escape_are_refused_and_nothing_is_written(tmp_path, name, data, kind, words):
  archive = make_tar(tmp_path / "bad.tar.gz", [(n, d, "file") for n, d, _ in GOOD] + [(name, data, kind)])
  with pytest.raises(IntegrityError, match=words):
    integrity.safe_extract(archive, tmp_path / "out")
  assert sorted(os.listdir(tmp_path)) == ["bad.tar.gz"]


def test_not_an_archive(tmp_path):
  (tmp_path / "x.zip").write_bytes(b"plain text")
  with pytest.raises(IntegrityError, match="not a zip or tar"):
    integrity.safe_extract(tmp_path / "x.zip", tmp_path / "out")
