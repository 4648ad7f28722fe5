"""One sha256 for the whole product: files (streamed), bytes and text.

Manifests, the parse cache, provenance columns and `pull` all compare these digests, so they must be
computed one way.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

CHUNK_BYTES = 1 << 20


def sha256_file(path: Path | str) -> str:
    """Hex digest of a file's bytes, read in 1 MiB blocks so a large workbook is never held twice."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
