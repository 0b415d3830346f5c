"""Fetching a data file from public mirrors, checked against its published checksum before it is kept."""
from __future__ import annotations

import hashlib
import http.client
import os

__all__ = ["download_file", "DatasetNotFoundError", "checksum"]


class DatasetNotFoundError(FileNotFoundError):
    """Data files that are neither on disk nor downloadable; the message says which files to put where."""


def checksum(data: bytes, algorithm: str = "md5") -> str:
    """Hex digest of ``data`` (``"md5"``, ``"sha256"``, ...)."""
    return hashlib.new(algorithm, data).hexdigest()


def _fetch(url: str, timeout: float = 60.0) -> bytes:
    """The bytes at ``url`` (the one place that touches the network; tests replace it)."""
    import urllib.request
    req = urllib.request.Request(url, headers={"User-Agent": "minigen"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read()


def download_file(filename: str, folder, mirrors, md5: str) -> str:
    """Download ``filename`` into ``folder`` from the first mirror (a base URL ending in ``/``) that
    serves bytes with the expected MD5; the file appears atomically, never half-written or unverified.

    Returns the file's path.  Raises OSError listing every mirror's failure (offline, HTTP error,
    checksum mismatch) when none succeeds.
    """
    from minigen.serialization import atomic_write
    os.makedirs(folder, exist_ok=True)
    failures = []
    for base in mirrors:
        url = base + filename
        try:
            data = _fetch(url)
        except (OSError, http.client.HTTPException) as e:   # offline, HTTP errors, timeouts, cut transfers
            failures.append(f"{url}: {getattr(e, 'reason', None) or e}")
            continue
        got = checksum(data, "md5")
        if got != md5:
            failures.append(f"{url}: MD5 mismatch: got {got}, expected {md5} ({len(data)} bytes; "
                            "a corrupt or altered download, not kept)")
            continue
        path = os.path.join(folder, filename)
        with atomic_write(path) as f:
            f.write(data)
        return path
    raise OSError(f"could not download {filename}:\n  " + "\n  ".join(failures))
