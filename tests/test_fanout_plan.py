"""The batch plan (pipelines.fanout.plan_batches): consecutive batches in name order, cut by count and bytes,
the files of the last two batches cut again with half the bounds so the last batches to run are short."""

from __future__ import annotations

from pathlib import Path

from pipelines.fanout import plan_batches


def _files(folder: Path, sizes: list[int]) -> list[Path]:
    """Files named so that name order is not creation order; only their sizes matter to the plan."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, size in enumerate(sizes):
        path = folder / f"{(i * 7) % len(sizes):03d}.xlsx"
        with open(path, "wb") as fh:
            fh.truncate(size)
        paths.append(path)
    return paths


def _shape(paths: list[Path], **bounds: int) -> list[int]:
    batches = plan_batches(paths, **bounds)
    assert [b.index for b in batches] == list(range(len(batches)))
    names = [p.name for b in batches for p in b.paths]
    assert names == sorted(p.name for p in paths)  # every file once, in name order
    return [len(b) for b in batches]


def test_the_last_two_batches_are_cut_again_in_halves(tmp_path: Path) -> None:
    paths = _files(tmp_path, [1] * 11)
    # By count 4: 4, 4, 3; the last two (7 files) again by 2.
    assert _shape(paths, max_files=4, max_bytes=1 << 20) == [4, 2, 2, 2, 1]
    assert _shape(paths[:8], max_files=4, max_bytes=1 << 20) == [2, 2, 2, 2]
    assert _shape(paths[:4], max_files=4, max_bytes=1 << 20) == [4]  # one batch: nothing to balance
    assert _shape(paths[:5], max_files=1, max_bytes=1 << 20) == [1, 1, 1, 1, 1]


def test_bytes_close_a_batch_and_halve_in_the_tail(tmp_path: Path) -> None:
    paths = _files(tmp_path, [300] * 10)
    # 1,000 bytes: 3 files a batch (4, 3, 3 … would pass it); the tail (3 + 1 files) by 500 bytes: 1 each.
    assert _shape(paths, max_files=100, max_bytes=1000) == [3, 3, 1, 1, 1, 1]
    big = _files(tmp_path / "big", [5000, 10, 10, 5000, 10])  # in name order: 5000, 5000, 10, 10, 10
    # A file above the bound is a batch of its own, in the tail too (a batch's first file always fits).
    assert _shape(big, max_files=100, max_bytes=1000) == [1, 1, 3]
