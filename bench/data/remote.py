"""Sources fetched over HTTP(S): gzipped IDX files, or Keras' ``mnist.npz``."""

from __future__ import annotations

import io
import urllib.request
from http.client import HTTPException

import numpy as np

from bench.data.idx import IdxError, read_at_most, sha256_hex
from bench.data.spec import (
    IDX_FILES,
    SLOTS,
    IdxSpec,
    Source,
    SourceRejected,
    SourceUnavailable,
    Split,
)

DOWNLOAD_TIMEOUT_S = 10.0
# The largest file any source downloads is about 30 MB; a body past this limit is refused.
MAX_DOWNLOAD_BYTES = 256 * 1024 * 1024


def fetch_url(
    url: str, timeout: float = DOWNLOAD_TIMEOUT_S, max_bytes: int = MAX_DOWNLOAD_BYTES
) -> bytes:
    """Return the body at ``url``; raise SourceUnavailable when it cannot be fetched, and
    SourceRejected when it is longer than ``max_bytes`` (read no further than that)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = read_at_most(response, max_bytes + 1)
    except (OSError, HTTPException) as error:
        reason = getattr(error, "reason", None) or error
        raise SourceUnavailable(f"cannot download {url} ({reason})") from None
    if len(body) > max_bytes:
        raise SourceRejected(f"{url}: refused a download of more than {max_bytes:,} bytes")
    return bytes(body)


class IdxDownloadSource(Source):
    """The four IDX files, gzipped, under one base URL."""

    def __init__(self, spec: IdxSpec, base_url: str):
        self.spec = spec
        self.base_url = base_url
        self.label = f"download:{base_url}"
        self.hint = f"allow this machine to reach {base_url}"

    def fetch(self) -> Split:
        """Download, gunzip (no further than each file's expected length) and verify each file."""
        arrays = {}
        for slot, name in IDX_FILES.items():
            url = f"{self.base_url}{name}.gz"
            body = io.BytesIO(fetch_url(url))
            try:
                arrays[slot] = self.spec.read(slot, body, url, gzipped=True)
            except IdxError as error:
                raise SourceRejected(str(error)) from None
        return Split(arrays, dict(self.spec.checksums), self.label)


class NpzDownloadSource(Source):
    """One ``.npz`` file (Keras' format) whose SHA-256 is published, holding the four arrays.

    The arrays must also IDX-encode to the published IDX checksums, so the data is the same
    whichever source gave it; both the npz hash and the IDX hashes are recorded.
    """

    def __init__(self, spec: IdxSpec, url: str, sha256: str, label: str):
        self.spec = spec
        self.url = url
        self.sha256 = sha256
        self.file_name = url.rsplit("/", 1)[-1]
        self.label = label
        self.hint = f"allow this machine to reach {url}"

    def fetch(self) -> Split:
        """Download the npz, check its hash, then check every array it holds."""
        body = fetch_url(self.url)
        actual = sha256_hex(body)
        if actual != self.sha256:
            raise SourceRejected(
                f"{self.url}: checksum mismatch: expected SHA-256 {self.sha256}, got {actual}"
            )
        arrays = self._arrays(body)
        for slot in SLOTS:
            try:
                self.spec.check(slot, arrays[slot], f"{self.file_name}[{slot}]")
            except IdxError as error:
                raise SourceRejected(str(error)) from None
        return Split(arrays, {**self.spec.checksums, self.file_name: actual}, self.label)

    def _arrays(self, body: bytes) -> dict[str, np.ndarray]:
        try:
            with np.load(io.BytesIO(body), allow_pickle=False) as npz:
                return {slot: npz[slot] for slot in SLOTS}
        except (OSError, ValueError, KeyError) as error:
            raise SourceRejected(f"{self.url}: not the expected npz ({error})") from None
