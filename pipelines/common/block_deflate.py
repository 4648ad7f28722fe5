"""One zip entry's deflate spread over threads, as pigz does: the input cut into blocks of BLOCK bytes, each
block deflated on its own (primed with the 32 KiB of input before it, so matches still reach back across
the cut) and ended with a sync flush, the last one with a final flush; the outputs joined in order are one
valid raw deflate stream.

Why: merge_review.xlsx at 1M rows is ≈ 300 MB of XML. Its writer renders the XML on one thread and deflated
it on a second (write_package), but deflating at level 6 is the larger part, so the second thread set the
pace (1M: 12.4 s CPU in 11.2 s). zlib lets go of the interpreter lock while it deflates, so blocks deflate
on both cores.

The blocks of an entry longer than BLOCK are deflated by zlib-ng at level 5 (FAST_LEVEL), not zlib at 6: on
merge_review.xlsx's XML (100k rows: 123 MiB of shared strings and pairs) zlib-ng 5 took 0.48 s CPU for 8.61 MiB
where zlib 6 took 1.13 s for 8.69 MiB — smaller and 2.35 times faster (zlib 5: 0.70 s, 9.20 MiB; zlib-ng 6:
0.78 s, 8.45 MiB).

The bytes depend on the input, BLOCK and the zlib-ng version (pinned in pyproject.toml) only — not on the
number of threads, nor on how the input arrives (the same file however it is run). An entry shorter than
BLOCK is one block deflated by zlib as before: the same bytes as zipfile's own compressor gives it.
"""

from __future__ import annotations

import os
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from zlib_ng import zlib_ng

BLOCK = 1 << 20  # input bytes per block: a sync flush and a fresh start every MiB cost ≈ 0.1 % of the size
WINDOW = 1 << 15  # deflate's window: what a block may refer back to
PENDING = 8  # blocks deflating or done but not yet written (bounds the memory held)
FAST_LEVEL = 5  # zlib-ng's level for the blocks of a long entry (see above)


def threads() -> int:
    """Threads deflating one entry: the cores there are (at most 4; at least 1)."""
    return max(1, min(4, os.cpu_count() or 1))


def _deflate(data: bytes, window: bytes, level: int, final: bool, fast: bool = False) -> bytes:
    """One block as raw deflate, primed with `window`; by zlib-ng at FAST_LEVEL where `fast` (a block of a
    long entry), else by zlib at `level`. A final block ends the stream, any other ends on a byte boundary
    (sync flush), so the blocks join."""
    library: Any = zlib_ng if fast else zlib
    level = FAST_LEVEL if fast else level
    if window:
        compressor = library.compressobj(level, library.DEFLATED, -15, zdict=window)
    else:
        compressor = library.compressobj(level, library.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(library.Z_FINISH if final else library.Z_SYNC_FLUSH)


class BlockDeflate:
    """A compressor with zlib's compressobj interface (compress, flush) whose blocks deflate on `pool`."""

    def __init__(self, pool: ThreadPoolExecutor, level: int = zlib.Z_DEFAULT_COMPRESSION, block: int = BLOCK):
        self.pool, self.level, self.block = pool, level, block
        self.buffer = bytearray()  # input not yet a whole block
        self.window = b""  # the input's last WINDOW bytes before the buffer
        self.pending: deque[Future[bytes]] = deque()
        # A block left compress(): the entry is longer than a block (decided by its length alone), so every
        # block of it, the last included, goes to zlib-ng.
        self.long = False

    def compress(self, data: bytes) -> bytes:
        self.buffer += data
        while len(self.buffer) >= self.block:
            part = bytes(self.buffer[: self.block])
            del self.buffer[: self.block]
            self._submit(part, final=False)
        return self._ready(keep=PENDING)

    def flush(self, mode: int = zlib.Z_FINISH) -> bytes:
        if mode != zlib.Z_FINISH:
            raise ValueError("BlockDeflate only finishes")
        self._submit(bytes(self.buffer), final=True)
        self.buffer = bytearray()
        return self._ready(keep=0)

    def _submit(self, part: bytes, final: bool) -> None:
        self.long = self.long or not final
        self.pending.append(self.pool.submit(_deflate, part, self.window, self.level, final, self.long))
        self.window = (self.window + part[-WINDOW:])[-WINDOW:]

    def _ready(self, keep: int) -> bytes:
        """The deflated blocks done at the front, in order; waits while more than `keep` are pending."""
        out = []
        while self.pending and (len(self.pending) > keep or self.pending[0].done()):
            out.append(self.pending.popleft().result())
        return b"".join(out)


def attach(entry: Any, pool: ThreadPoolExecutor) -> bool:
    """Give a zipfile entry being written (ZipFile.open(info, "w"), deflated) a BlockDeflate; False where
    zipfile keeps its compressor elsewhere (another Python): the entry then deflates as zipfile does."""
    if not isinstance(getattr(entry, "_compressor", None), type(zlib.compressobj())):
        return False
    entry._compressor = BlockDeflate(pool, block=BLOCK)
    return True
