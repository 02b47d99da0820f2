"""gs:// access for manifests, asset files, dataset shards and caches (google-cloud-storage), with the client
library's retry policy and clear errors.

`STORAGE_EMULATOR_HOST=http://HOST:PORT` points the client at an emulator (anonymous credentials); otherwise it uses
the default Google credentials, or anonymous access for public buckets when none are configured. Every request goes
with google-cloud-storage's own retry policy (`DEFAULT_RETRY`: connection errors, timeouts, 408, 429 and 5xx, with
exponential backoff from `backoff_s`), bounded to `retry_s` seconds per call (default 30, or
$KUBRICGEN_GCS_RETRY_S); a call still failing then is reported as one `StorageError` naming the URL and the
endpoint. A missing object fails at once. Our calls are idempotent (uploads either carry `ifGenerationMatch=0` or
rewrite the same bytes; deletes of an object already gone count as done), so every one is retried.
"""
from __future__ import annotations

import logging
import os
import pathlib
import threading

from kubricgen.assets import atomic
from kubricgen.assets.errors import StorageError

log = logging.getLogger(__name__)
DEFAULT_RETRY_S = 30.0
DEFAULT_BACKOFF_S = 0.25
DEFAULT_TIMEOUT_S = 10.0


def split_url(url: str) -> tuple[str, str]:
  """'gs://bucket/a/b' -> ('bucket', 'a/b')."""
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
  """A small gs:// client: read, download, upload, list; thread-safe; one per endpoint."""

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
    import requests  # pylint: disable=import-outside-toplevel
    transient = (requests.exceptions.RequestException, exceptions.ServerError, exceptions.TooManyRequests,
                 ConnectionError, TimeoutError)
    try:
      return function()
    except exceptions.NotFound:
      raise StorageError(f"{url}: not found ({action})") from None
    except exceptions.Forbidden as error:
      raise StorageError(f"{url}: access denied ({action}): {error.message}") from None
    except exceptions.RetryError as error:
      cause = type(error.cause).__name__ if error.cause is not None else "timeout"
      raise StorageError(f"{url}: cannot {action}: storage at {self.endpoint} unreachable: still failing after "
                         f"{self.retry_s:g} s of retries ({cause})") from None
    except transient as error:  # one the policy does not retry
      raise StorageError(f"{url}: cannot {action}: storage at {self.endpoint} failed ({type(error).__name__})") \
          from None

  def _blob(self, url: str):
    bucket, name = split_url(url)
    if not name:
      raise StorageError(f"{url}: names a bucket, not an object")
    return self.client().bucket(bucket).blob(name)

  def read_bytes(self, url: str) -> bytes:
    blob = self._blob(url)
    return self._call(url, "read", lambda: blob.download_as_bytes(timeout=self.timeout_s, retry=self.retry))

  def download(self, url: str, path) -> pathlib.Path:
    """Download to `path` atomically (the file appears complete or not at all)."""
    return atomic.write_bytes(path, self.read_bytes(url))

  def upload(self, data: bytes, url: str) -> None:
    blob = self._blob(url)
    self._call(url, "upload", lambda: blob.upload_from_string(data, timeout=self.timeout_s, retry=self.retry))

  def upload_file(self, path, url: str, if_absent: bool = False) -> bool:
    """Upload a local file, streamed from disk (GCS makes the object visible only once it is whole).

    `if_absent`: never replace an existing object (the request carries `ifGenerationMatch=0`); when one exists,
    its md5 is compared with the file's and the upload counts as done if they are equal (a retried writer of the
    same bytes), else StorageError. Returns whether bytes were sent.
    """
    from google.api_core import exceptions  # pylint: disable=import-outside-toplevel
    blob = self._blob(url)
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
  """The bytes of a local file or a gs:// object; None if there is none. StorageError if gs:// fails."""
  if str(path).startswith("gs://"):
    storage = default_storage()
    return storage.read_bytes(path) if storage.exists(path) else None
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
