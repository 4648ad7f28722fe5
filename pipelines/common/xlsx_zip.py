"""The zip around an xlsx package, written directly: entries deflated in order, every one dated
1980-01-01 00:00 (the same parts give the same bytes), parts that never change deflated once per process.

Deflate level 1 for the parts written per workbook: on feedback workbooks (≈ 150 KB of XML each) it
takes a third of level 6's CPU (≈ 0.7 ms against ≈ 2.1 ms) for files ≈ 12 % larger; the outbox is not
committed, so the CPU matters more than the bytes.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Sequence
from functools import cache

ZIP_LEVEL = 1  # deflate level of the parts written per workbook
Packed = tuple[int, int, bytes]  # a part deflated: CRC-32, uncompressed size, raw deflate stream
_DOS_DATE = (1 << 5) | 1  # 1980-01-01 (time 00:00:00): a fixed timestamp on every entry


def pack(data: bytes, level: int = ZIP_LEVEL) -> Packed:
    deflate = zlib.compressobj(level, zlib.DEFLATED, -15)
    return zlib.crc32(data), len(data), deflate.compress(data) + deflate.flush()


@cache
def packed_constant(data: bytes) -> Packed:
    """A part that never changes (styles, theme, root rels), deflated once per process, at level 9."""
    return pack(data, 9)


def zip_bytes(parts: Sequence[tuple[str, bytes | Packed]]) -> bytes:
    """A zip of the parts (ASCII names) in order, every entry deflated and dated 1980-01-01."""
    out, central = io.BytesIO(), []
    for name, part in parts:
        crc, size, data = part if isinstance(part, tuple) else pack(part)
        raw = name.encode("ascii")
        offset = out.tell()
        # version needed, flags, method (deflate), time, date, CRC, sizes, name length, extra length
        fields = (20, 0, 8, 0, _DOS_DATE, crc, len(data), size, len(raw), 0)
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", *fields) + raw)
        out.write(data)
        # version made by, the same fields, comment length, disk, internal and external attributes, offset
        central.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, *fields, 0, 0, 0, 0, offset) + raw)
    start = out.tell()
    directory = b"".join(central)
    out.write(directory)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(parts), len(parts), len(directory), start, 0))
    return out.getvalue()
