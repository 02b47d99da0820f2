"""All gs:// access of kubricgen and its sharding layer: manifests, asset files, dataset shards, caches and
`kb.as_path`, and its errors (`StorageError`, `StorageNotFoundError`).

It lives at the top of the package, beside `atomic` and `console`, because gs:// is no one stage's concern: the asset
library, the datasets, the workers and the sharding layer (kubricgen_sharding, which must not import the asset
library) all read and write through it. (StorageError is a ValueError, not an asset error.)

Which library does what, and why:

* google-cloud-storage (this module, the one gs:// stack): every gs:// read, write, listing and delete that kubricgen,
  the sharding layer and the workers make goes through `GcsStorage` here (or `GsPath`, `read_if_exists`, `remove` on
  top of it). It honours `STORAGE_EMULATOR_HOST`, so every gs:// path is tested offline against a real emulator, and its
  retry policy and streaming are the library's own.
* TensorFlow's GCS filesystem, reached through TFDS and etils.epath: only when a user hands TFDS a gs:// data_dir
  (`tfds.load(..., data_dir="gs://...")` reads a published dataset directly). We write nothing through it: its
  endpoint is fixed to storage.googleapis.com, so it cannot be pointed at an emulator or tested offline. etils.epath
  is TFDS's path type; we give TFDS local folders only (datasets are built locally and uploaded from here).
* No gcsfs/fsspec: nothing here needs a third client.

Retries. `STORAGE_EMULATOR_HOST=http://HOST:PORT` points the client at an emulator (anonymous credentials); otherwise
it uses the default Google credentials, or anonymous access for public buckets when none are configured. Every
request goes with google-cloud-storage's own retry policy (`DEFAULT_RETRY`: connection errors, timeouts, 408, 429 and
5xx, with exponential backoff from `backoff_s`), bounded to `retry_s` seconds per call (default 30, or
$KUBRICGEN_GCS_RETRY_S); a call still failing then is reported as one `StorageError` naming the URL and the
endpoint. A missing object fails at once (`StorageNotFoundError`, also a FileNotFoundError). The library's own
default for uploads and deletes retries only calls with a generation precondition (`ConditionalRetryPolicy`,
`DEFAULT_RETRY_IF_GENERATION_SPECIFIED`), because a blind re-upload could replace a newer object; ours are
idempotent by construction (uploads that must not replace carry `ifGenerationMatch=0` and compare md5 on conflict,
the others rewrite the same bytes under a name only their writer uses; a delete of an object already gone counts as
done), so every call is given the bounded `DEFAULT_RETRY`.

Streaming. `download` streams the object to a temporary file beside the target (the library checks the transfer
against the object's md5/crc32c) and renames it into place; `upload_file` streams from disk, in resumable chunks of
`CHUNK_BYTES` above 8 MiB (each chunk retried by the policy; the library's default chunk is 100 MiB, held in
memory); `stream` hands the bytes of one GET to a sink as they arrive (checksum-checked, resumed on retry); `open`
reads in ranged chunks of `READ_CHUNK_BYTES`. Memory stays bounded by the chunk, not the object (measured on a
64 MiB object in tests/assets/test_gcs_streaming.py). `read_bytes` and `upload` hold the whole object and are for
small ones (manifests, markers, cache entries).
"""
from __future__ import annotations

import contextlib
import fnmatch
import io
import logging
import os
import pathlib
import tempfile
import threading

log = logging.getLogger(__name__)
DEFAULT_RETRY_S = 30.0
DEFAULT_BACKOFF_S = 0.25
DEFAULT_TIMEOUT_S = 10.0
CHUNK_BYTES = 8 << 20  # resumable upload chunk (a multiple of 256 KiB); about 2 of them are held at a time
READ_CHUNK_BYTES = 4 << 20  # `open`'s ranged reads; the library holds about 4 copies of one while it is read


class StorageError(ValueError):
  """Remote storage (gs://) that cannot be reached or does not hold the object, after bounded retries."""


class StorageNotFoundError(StorageError, FileNotFoundError):
  """A gs:// object or bucket that does not exist (also a FileNotFoundError, as pathlib raises for a missing file)."""


def split_url(url: str) -> tuple[str, str]:
  """'gs://bucket/a/b' -> ('bucket', 'a/b'). StorageError if it is not a gs:// URL or names no bucket."""
  if not url.startswith("gs://"):
    raise StorageError(f"{url}: not a gs:// URL")
  bucket, _, name = url[len("gs://"):].partition("/")
  if not bucket:
    raise StorageError(f"{url}: no bucket name")
  return bucket, name


def join(url: str, relative: str) -> str:
  return url.rstrip("/") + "/" + relative


def parent(url: str) -> str:
  bucket, name = split_url(url)
  head = name.rsplit("/", 1)[0] if "/" in name else ""
  return f"gs://{bucket}/{head}".rstrip("/")


class GcsStorage:
  """A small gs:// client: read, download, upload, list; thread-safe; one per endpoint. Every method raises
  StorageError (StorageNotFoundError for a missing object) after the bounded retries."""

  def __init__(self, retry_s: float | None = None, backoff_s: float = DEFAULT_BACKOFF_S,
               timeout_s: float = DEFAULT_TIMEOUT_S):
    """retry_s: how long one call may be retried in all (None: $KUBRICGEN_GCS_RETRY_S or DEFAULT_RETRY_S);
    backoff_s: the first retry's delay (doubling, at most 8 s); timeout_s: one request's timeout."""
    if retry_s is None:
      retry_s = float(os.environ.get("KUBRICGEN_GCS_RETRY_S", DEFAULT_RETRY_S))
    self.retry_s, self.backoff_s, self.timeout_s = retry_s, backoff_s, timeout_s
    self._retry = None
    self.endpoint = os.environ.get("STORAGE_EMULATOR_HOST") or "https://storage.googleapis.com"
    self._client = None
    self._lock = threading.Lock()

  def client(self):
    with self._lock:
      if self._client is None:
        try:
          from google.cloud import storage  # pylint: disable=import-outside-toplevel
        except ImportError:
          raise StorageError("gs:// needs google-cloud-storage: pip install google-cloud-storage") from None
        if os.environ.get("STORAGE_EMULATOR_HOST"):
          from google.auth.credentials import AnonymousCredentials  # pylint: disable=import-outside-toplevel
          self._client = storage.Client(project=os.environ.get("GOOGLE_CLOUD_PROJECT", "kubricgen"),
                                        credentials=AnonymousCredentials())
        else:
          import google.auth.exceptions  # pylint: disable=import-outside-toplevel
          try:
            self._client = storage.Client()
          except google.auth.exceptions.DefaultCredentialsError:
            self._client = storage.Client.create_anonymous_client()
      return self._client

  @property
  def retry(self):
    """google-cloud-storage's DEFAULT_RETRY policy with our first delay and overall bound."""
    if self._retry is None:
      from google.cloud.storage.retry import DEFAULT_RETRY  # pylint: disable=import-outside-toplevel
      self._retry = DEFAULT_RETRY.with_delay(initial=self.backoff_s, maximum=8.0, multiplier=2.0).with_timeout(
          self.retry_s)
    return self._retry

  def _call(self, url: str, action: str, function):
    """Run `function()` (a client call made with `retry=self.retry`); map its failures to one-line StorageErrors."""
    from google.api_core import exceptions  # pylint: disable=import-outside-toplevel
    from google.cloud.storage.exceptions import DataCorruption  # pylint: disable=import-outside-toplevel
    import requests  # pylint: disable=import-outside-toplevel
    transient = (requests.exceptions.RequestException, exceptions.ServerError, exceptions.TooManyRequests,
                 ConnectionError, TimeoutError)
    try:
      return function()
    except exceptions.NotFound:
      raise StorageNotFoundError(f"{url}: not found ({action})") from None
    except exceptions.Forbidden as error:
      raise StorageError(f"{url}: access denied ({action}): {error.message}") from None
    except exceptions.RetryError as error:
      cause = type(error.cause).__name__ if error.cause is not None else "timeout"
      status = getattr(getattr(error.cause, "response", None), "status_code", None)
      cause += f" {status}" if isinstance(status, int) else ""  # e.g. InvalidResponse 503 (a download's)
      raise StorageError(f"{url}: cannot {action}: storage at {self.endpoint} unreachable: still failing after "
                         f"{self.retry_s:g} s of retries ({cause})") from None
    except DataCorruption:
      raise StorageError(f"{url}: cannot {action}: the bytes received do not match the object's checksum") from None
    except transient as error:  # one the policy does not retry
      raise StorageError(f"{url}: cannot {action}: storage at {self.endpoint} failed ({type(error).__name__})") \
          from None

  def _blob(self, url: str):
    bucket, name = split_url(url)
    if not name:
      raise StorageError(f"{url}: names a bucket, not an object")
    return self.client().bucket(bucket).blob(name)

  def read_bytes(self, url: str) -> bytes:
    """The whole object in memory: for small objects (manifests, markers); `download` or `open` stream."""
    blob = self._blob(url)
    return self._call(url, "read", lambda: blob.download_as_bytes(timeout=self.timeout_s, retry=self.retry))

  def open(self, url: str) -> "_Reader":
    """A binary reader that streams the object in ranged reads of READ_CHUNK_BYTES, each retried by the policy.
    The reads are not checked against the object's checksum (only whole transfers are): check what you read, or
    use `stream` or `download`."""
    blob = self._blob(url)
    return _Reader(self, url, blob.open("rb", chunk_size=READ_CHUNK_BYTES, retry=self.retry,
                                        timeout=self.timeout_s))

  def stream(self, url: str, sink) -> None:
    """Write the object into `sink` (anything with `write(bytes)`) as it arrives, in one GET: memory stays at the
    library's 8 KiB pieces, the bytes are checked against the object's md5/crc32c at the end (DataCorruption ->
    StorageError), and a retried attempt resumes where the last one stopped (a Range request), so `sink` sees
    each byte once."""
    blob = self._blob(url)
    self._call(url, "read", lambda: blob.download_to_file(sink, timeout=self.timeout_s, retry=self.retry))

  def download(self, url: str, path) -> pathlib.Path:
    """Stream the object to `path`, atomically (the file appears complete or not at all); the library checks the
    bytes received against the object's md5/crc32c."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = self._blob(url)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(handle)
    try:
      self._call(url, "read", lambda: blob.download_to_filename(temporary, timeout=self.timeout_s,
                                                                 retry=self.retry))
      os.replace(temporary, path)
    except BaseException:
      with contextlib.suppress(FileNotFoundError):
        os.remove(temporary)
      raise
    return path

  def upload(self, data: bytes, url: str) -> None:
    """Upload bytes held in memory (small objects; `upload_file` streams from disk)."""
    blob = self._blob(url)
    self._call(url, "upload", lambda: blob.upload_from_string(data, timeout=self.timeout_s, retry=self.retry))

  def upload_file(self, path, url: str, if_absent: bool = False) -> bool:
    """Upload a local file, streamed from disk (in resumable chunks of CHUNK_BYTES above 8 MiB; GCS makes the
    object visible only once it is whole).

    `if_absent`: never replace an existing object (the request carries `ifGenerationMatch=0`); when one exists,
    its md5 is compared with the file's and the upload counts as done if they are equal (a retried writer of the
    same bytes), else StorageError. Returns whether bytes were sent.
    """
    from google.api_core import exceptions  # pylint: disable=import-outside-toplevel
    blob = self._blob(url)
    blob.chunk_size = CHUNK_BYTES
    if if_absent and self._same_or_refuse(url, path):  # checked first (saves the upload; emulators ignore the
      return False                                     # precondition), enforced by the precondition on real GCS
    kwargs = {"if_generation_match": 0} if if_absent else {}
    try:
      self._call(url, "upload", lambda: blob.upload_from_filename(os.fspath(path), timeout=self.timeout_s * 6,
                                                                  retry=self.retry, **kwargs))
      return True
    except exceptions.PreconditionFailed:
      if self._same_or_refuse(url, path):
        return False
      raise StorageError(f"{url}: vanished while being replaced") from None

  def _same_or_refuse(self, url: str, path) -> bool:
    """False if no object is at `url`; True if one is, with the local file's bytes (md5); else StorageError."""
    import base64  # pylint: disable=import-outside-toplevel
    import hashlib  # pylint: disable=import-outside-toplevel
    blob = self._blob(url)
    existing = self._call(url, "stat", lambda: self.client().bucket(blob.bucket.name).get_blob(
        blob.name, timeout=self.timeout_s, retry=self.retry))
    if existing is None:
      return False
    digest = hashlib.md5()
    with open(path, "rb") as handle:
      for chunk in iter(lambda: handle.read(1 << 20), b""):
        digest.update(chunk)
    if existing.md5_hash == base64.b64encode(digest.digest()).decode():
      return True
    raise StorageError(f"{url}: already exists with other bytes; objects are never overwritten")

  def exists(self, url: str) -> bool:
    blob = self._blob(url)
    return bool(self._call(url, "stat", lambda: blob.exists(timeout=self.timeout_s, retry=self.retry)))

  def delete(self, url: str) -> None:
    """Delete one object; one that is already gone counts as deleted (a retried delete whose first attempt took
    effect but lost its answer finds nothing: the result wanted)."""
    from google.api_core import exceptions  # pylint: disable=import-outside-toplevel
    blob = self._blob(url)

    def delete():
      try:
        blob.delete(timeout=self.timeout_s, retry=self.retry)
      except exceptions.NotFound:
        pass
    self._call(url, "delete", delete)

  def delete_prefix(self, prefix_url: str) -> int:
    """Delete every object under a prefix; returns how many."""
    urls = self.list(prefix_url)
    for url in urls:
      self.delete(url)
    return len(urls)

  def list(self, prefix_url: str) -> list[str]:
    """gs:// URLs of the objects under a prefix (recursively)."""
    bucket, prefix = split_url(prefix_url)
    prefix = prefix.rstrip("/") + "/" if prefix else ""
    client = self.client()
    names = self._call(prefix_url, "list", lambda: [b.name for b in client.list_blobs(
        bucket, prefix=prefix, timeout=self.timeout_s, retry=self.retry)])
    return [f"gs://{bucket}/{name}" for name in sorted(names)]

  def list_children(self, prefix_url: str) -> tuple[list[str], list[str]]:
    """(objects, folders) directly under a prefix, as gs:// URLs without a trailing '/', each sorted; a folder is
    a prefix that some deeper object's name has (GCS has no folders)."""
    bucket, prefix = split_url(prefix_url)
    prefix = prefix.rstrip("/") + "/" if prefix else ""
    client = self.client()

    def children():
      pages = client.list_blobs(bucket, prefix=prefix, delimiter="/", timeout=self.timeout_s, retry=self.retry)
      names = [b.name for b in pages if not b.name.endswith("/")]  # read first: the prefixes come with the pages
      return names, [p.rstrip("/") for p in pages.prefixes]
    names, folders = self._call(prefix_url, "list", children)
    return [f"gs://{bucket}/{n}" for n in sorted(names)], [f"gs://{bucket}/{f}" for f in sorted(folders)]

  def has_objects_under(self, prefix_url: str) -> bool:
    """Whether any object's name starts with the prefix followed by '/' (one listed, not all)."""
    bucket, prefix = split_url(prefix_url)
    prefix = prefix.rstrip("/") + "/" if prefix else ""
    client = self.client()
    return bool(self._call(prefix_url, "list", lambda: list(client.list_blobs(
        bucket, prefix=prefix, max_results=1, timeout=self.timeout_s, retry=self.retry))))

  def list_hashes(self, prefix_url: str) -> dict[str, str]:
    """{gs:// URL: content hash} of the objects under a prefix: the object's md5 (base64, as GCS reports it), or
    its crc32c for composite objects that have no md5. Changes whenever an object's bytes change."""
    bucket, prefix = split_url(prefix_url)
    prefix = prefix.rstrip("/") + "/" if prefix else ""
    client = self.client()
    blobs = self._call(prefix_url, "list", lambda: [(b.name, b.md5_hash or f"crc32c:{b.crc32c}") for b in
                                                    client.list_blobs(bucket, prefix=prefix, timeout=self.timeout_s,
                                                                      retry=self.retry)])
    return {f"gs://{bucket}/{name}": digest for name, digest in sorted(blobs)}

  def create_bucket(self, name: str) -> None:
    client = self.client()
    self._call(f"gs://{name}", "create bucket", lambda: client.create_bucket(name, timeout=self.timeout_s,
                                                                             retry=self.retry))


class _Reader(io.BufferedIOBase):
  """google-cloud-storage's BlobReader (ranged, retried reads) whose failures are StorageErrors."""

  def __init__(self, storage: GcsStorage, url: str, reader):
    super().__init__()
    self._storage, self._url, self._reader = storage, url, reader

  def readable(self) -> bool:
    return True

  def seekable(self) -> bool:
    return True

  def read(self, size: int | None = -1) -> bytes:
    return self._storage._call(self._url, "read", lambda: self._reader.read(-1 if size is None else size))

  def read1(self, size: int = -1) -> bytes:
    return self.read(size)

  def readinto(self, buffer) -> int:
    data = self.read(len(buffer))
    buffer[:len(data)] = data
    return len(data)

  def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
    return self._storage._call(self._url, "read", lambda: self._reader.seek(offset, whence))

  def tell(self) -> int:
    return self._reader.tell()

  def close(self) -> None:
    if not self.closed:
      self._reader.close()
    super().close()


class _Writer(io.BufferedWriter):
  """Writes to a local temporary file, uploaded (streamed, `upload_file`) when closed without an error, so the
  object appears whole or not at all."""

  def __init__(self, storage: GcsStorage, url: str):
    handle, self._temporary = tempfile.mkstemp(prefix="kubricgen-upload-")
    super().__init__(io.FileIO(handle, "w"))
    self._storage, self._url, self._abandoned = storage, url, False

  def __exit__(self, kind, *rest):
    self._abandoned = self._abandoned or kind is not None
    return super().__exit__(kind, *rest)

  def close(self) -> None:
    if self.closed:
      return
    try:
      super().close()
      if not self._abandoned:
        self._storage.upload_file(self._temporary, self._url)
    finally:
      with contextlib.suppress(FileNotFoundError):
        os.remove(self._temporary)


class _TextWriter(io.TextIOWrapper):
  def __exit__(self, kind, *rest):
    if kind is not None:
      self.buffer._abandoned = True  # pylint: disable=protected-access
    return super().__exit__(kind, *rest)


class GsPath:
  """A pathlib-like gs:// path on this module's client: what `kb.as_path` gives for gs:// URLs.

  Supports `/`, joinpath, name, stem, suffix, suffixes, parent, parts, with_name, with_suffix; exists, is_file,
  is_dir, iterdir, glob, rglob; read_bytes, read_text, write_bytes, write_text, open ('r', 'rb' streamed; 'w', 'wb'
  uploaded whole on close), unlink, rmtree; mkdir is a no-op (GCS has no folders: one exists while an object is
  under it). It is not os.PathLike: `open()` and other local-file functions refuse it. Missing objects raise
  StorageNotFoundError (a FileNotFoundError), other failures StorageError.
  """

  def __init__(self, url, storage: GcsStorage | None = None):
    text = str(url)
    bucket, name = split_url(text)
    self.bucket = bucket
    self._names = tuple(part for part in name.split("/") if part)
    self._storage = storage

  @property
  def storage(self) -> GcsStorage:
    return self._storage or default_storage()

  def _new(self, names) -> "GsPath":
    return GsPath("gs://" + "/".join((self.bucket, *names)), self._storage)

  def __str__(self) -> str:
    return "gs://" + "/".join((self.bucket, *self._names))

  def __repr__(self) -> str:
    return f"GsPath({str(self)!r})"

  def __eq__(self, other) -> bool:
    return isinstance(other, GsPath) and str(self) == str(other)

  def __lt__(self, other: "GsPath") -> bool:
    return str(self) < str(other)

  def __hash__(self) -> int:
    return hash(str(self))

  def __truediv__(self, other) -> "GsPath":
    return self.joinpath(other)

  def joinpath(self, *others) -> "GsPath":
    names = list(self._names)
    for index, other in enumerate(others):
      text = str(other)
      if text.startswith("gs://"):  # an absolute URL replaces what came before, as an absolute path does
        return GsPath(text, self._storage).joinpath(*others[index + 1:])
      names += [part for part in text.split("/") if part]
    return self._new(names)

  @property
  def parts(self) -> tuple[str, ...]:
    return (f"gs://{self.bucket}/", *self._names)

  @property
  def name(self) -> str:
    return self._names[-1] if self._names else ""

  @property
  def suffix(self) -> str:
    return pathlib.PurePosixPath(self.name).suffix

  @property
  def suffixes(self) -> list[str]:
    return pathlib.PurePosixPath(self.name).suffixes

  @property
  def stem(self) -> str:
    return pathlib.PurePosixPath(self.name).stem

  @property
  def parent(self) -> "GsPath":
    return self._new(self._names[:-1])

  def with_name(self, name: str) -> "GsPath":
    if not self._names:
      raise ValueError(f"{self}: a bucket has no name to replace")
    return self._new((*self._names[:-1], name))

  def with_suffix(self, suffix: str) -> "GsPath":
    return self.with_name(pathlib.PurePosixPath(self.name).with_suffix(suffix).name)

  def expanduser(self) -> "GsPath":
    return self

  def resolve(self, strict: bool = False) -> "GsPath":
    del strict
    return self

  absolute = resolve

  def is_file(self) -> bool:
    return bool(self._names) and self.storage.exists(str(self))

  def is_dir(self) -> bool:
    return self.storage.has_objects_under(str(self))

  def exists(self) -> bool:
    return self.is_file() or self.is_dir()

  def iterdir(self):
    """The objects and folders directly under this one (sorted); StorageNotFoundError if there are none."""
    objects, folders = self.storage.list_children(str(self))
    if not objects and not folders:
      raise StorageNotFoundError(f"{self}: no objects under it (list)")
    yield from (GsPath(url, self._storage) for url in sorted(objects + folders))

  def glob(self, pattern: str):
    """Objects and folders under this one whose relative path matches `pattern` (fnmatch per '/'-part; '**' is
    any number of parts), sorted."""
    wanted = [part for part in pattern.split("/") if part]
    if not wanted:
      raise ValueError(f"{self}: empty glob pattern")
    found = set()
    for url in self.storage.list(str(self)):
      names = url[len(str(self)) + 1:].split("/")
      found.update(tuple(names[:end]) for end in range(1, len(names) + 1))
    return iter(sorted(self._new((*self._names, *names)) for names in found if _matches(wanted, list(names))))

  def rglob(self, pattern: str):
    return self.glob("**/" + pattern)

  def read_bytes(self) -> bytes:
    return self.storage.read_bytes(str(self))

  def read_text(self, encoding: str | None = None, errors: str | None = None) -> str:
    return self.read_bytes().decode(encoding or "utf-8", errors or "strict")

  def write_bytes(self, data: bytes) -> int:
    self.storage.upload(bytes(data), str(self))
    return len(data)

  def write_text(self, data: str, encoding: str | None = None, errors: str | None = None,
                 newline: str | None = None) -> int:
    del newline  # GCS stores the text's own line ends
    self.write_bytes(data.encode(encoding or "utf-8", errors or "strict"))
    return len(data)

  def open(self, mode: str = "r", encoding: str | None = None, errors: str | None = None, newline: str | None = None):
    """'r'/'rb': a streamed reader; 'w'/'wb': a writer whose object appears (uploaded from a local temporary
    file) when it is closed without an error. ValueError for other modes (GCS objects cannot be appended to)."""
    kind = mode.replace("t", "")
    if kind not in ("r", "rb", "w", "wb"):
      raise ValueError(f"{self}: mode {mode!r} not supported on gs:// (r, rb, w, wb)")
    if kind.startswith("r"):
      reader = self.storage.open(str(self))
      return reader if kind == "rb" else io.TextIOWrapper(reader, encoding or "utf-8", errors, newline)
    writer = _Writer(self.storage, str(self))
    return writer if kind == "wb" else _TextWriter(writer, encoding or "utf-8", errors, newline)

  def mkdir(self, mode: int = 0o777, parents: bool = False, exist_ok: bool = False) -> None:
    """Nothing to create: a gs:// folder exists while an object is under it."""
    del mode, parents, exist_ok

  def unlink(self, missing_ok: bool = False) -> None:
    """Delete the object; StorageNotFoundError if there is none, unless `missing_ok`."""
    if not missing_ok and not self.is_file():
      raise StorageNotFoundError(f"{self}: not found (delete)")
    self.storage.delete(str(self))

  def rmtree(self) -> None:
    """Delete every object under this folder (as etils.epath's rmtree)."""
    self.storage.delete_prefix(str(self))


def _matches(pattern: list[str], names: list[str]) -> bool:
  if not pattern:
    return not names
  if pattern[0] == "**":
    return any(_matches(pattern[1:], names[skip:]) for skip in range(len(names) + 1))
  return bool(names) and fnmatch.fnmatchcase(names[0], pattern[0]) and _matches(pattern[1:], names[1:])


def as_path(path):
  """A pathlib.Path for a local path, a GsPath for a gs:// URL (both returned as they are)."""
  if isinstance(path, (GsPath, pathlib.Path)):
    return path
  text = os.fspath(path) if isinstance(path, os.PathLike) else str(path)
  return GsPath(text) if text.startswith("gs://") else pathlib.Path(text)


_default: GcsStorage | None = None
_default_endpoint: str | None = None


def default_storage() -> GcsStorage:
  """A shared client for the current endpoint ($STORAGE_EMULATOR_HOST changes give a new one)."""
  global _default, _default_endpoint  # pylint: disable=global-statement
  endpoint = os.environ.get("STORAGE_EMULATOR_HOST")
  if _default is None or endpoint != _default_endpoint:
    _default, _default_endpoint = GcsStorage(), endpoint
  return _default


def read_if_exists(path: str) -> bytes | None:
  """The bytes of a local file or a small gs:// object; None if there is none. StorageError if gs:// fails."""
  if str(path).startswith("gs://"):
    try:
      return default_storage().read_bytes(path)
    except StorageNotFoundError:
      return None
  try:
    with open(path, "rb") as handle:
      return handle.read()
  except FileNotFoundError:
    return None


def remove(path: str) -> None:
  """Delete a local file or a gs:// object; one that is already gone counts as deleted."""
  if str(path).startswith("gs://"):
    default_storage().delete(path)
  elif os.path.lexists(path):
    os.unlink(path)
