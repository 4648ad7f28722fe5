"""How the deployment's git stores the pages: every reports/<Y>/library.html in one pack of their own,
each year's page a delta of the next year's, kept (.keep) out of `git gc`'s repacking.

Why (git 2.39, builtin/pack-objects.c): a blob's delta base is chosen among the 10 objects before it in a
list sorted by pack_name_hash of its path — the last 16 characters, "019/library.html", where the year's
last digit still weighs: years ending 0–3, 4–7 and 8–9 are three hashes, 8–9 first — then by size,
largest first; and `git gc` (repack -A without -f) reuses every delta already packed, so a page stored
as a delta takes no part and only whole pages can be bases. After a decade's 9 a new page sorts after
that year's page, which stays whole, and is stored as a delta of it, paying again for every year in
between (100k rows, 2020–2024: 344, 670, 983, 1,312, 1,630 KiB) until that delta is over half the page
and the page is stored whole (2025: 3,158 KiB). No config helps (pack.window, pack.depth: the order and
the reused deltas stay).

Given to pack-objects under one name, the pages sort by size alone: the new page, the largest (it
holds every year's history document), comes first and stays whole, and last year's page, whole until
now, becomes its delta (≈ 80–100 KiB at 100k rows); the older pages keep the deltas they have. gc leaves
a pack with a .keep file as it is and leaves its objects out of the pack it writes (repack passes
--honor-pack-keep unless it writes bitmaps, which a repo with a work tree does not by default). The
first such pack computes every page's delta afresh (a repo published before: its pages then cost what
they would have), later ones reuse them; each release's pack replaces the last one.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
from pathlib import Path

PAGE_NAME = "library.html"  # reports/<Y>/library.html (library_page.page takes it from here)
# A .keep of ours begins so (another pack someone keeps is left alone); what follows may change.
KEEP_MARK = "indicators: reports/<Y>/library.html"
KEEP_NOTE = f"{KEEP_MARK}, each a delta of the next year's page (pipelines/store/page_pack.py)\n"
# Kept packs' files; .idx first when removing: without it git no longer sees the pack.
PACK_FILES = (".idx", ".pack", ".rev", ".bitmap", ".keep")
log = logging.getLogger(__name__)


def _git(root: Path, *args: str, stdin: bytes | None = None) -> str:
    proc = subprocess.run(["git", "-C", str(root), *args], input=stdin, capture_output=True, check=True)
    return proc.stdout.decode("utf-8", "replace")


def page_blobs(root: Path) -> set[str]:
    """The blob of every reports/<Y>/library.html in HEAD."""
    out = _git(root, "ls-tree", "-r", "HEAD", "--", "reports")
    return {line.split()[2] for line in out.splitlines() if line.split("\t", 1)[-1].endswith("/" + PAGE_NAME)}


def kept_packs(pack_dir: Path) -> list[Path]:
    """The .keep files of the page packs this module wrote (not a pack someone else keeps)."""
    return sorted(
        p for p in pack_dir.glob("pack-*.keep") if p.read_text("utf-8", "replace").startswith(KEEP_MARK)
    )


def pack_members(root: Path, keep: Path) -> set[str]:
    """The objects of a kept pack (none when its index is gone)."""
    index = keep.with_suffix(".idx")
    if not index.exists():
        return set()
    return {line.split()[1] for line in _git(root, "show-index", stdin=index.read_bytes()).splitlines()}


def store_pages(root: Path) -> Path | None:
    """Write the pages' pack (module doc) after a release commit; its .keep path, or None when the pack
    there already holds every page of HEAD. Objects are added before any copy is removed: a pack
    replaced holds nothing the new one lacks, a loose page goes once it is packed."""
    git_dir = Path(_git(root, "rev-parse", "--absolute-git-dir").strip())
    pack_dir = git_dir / "objects" / "pack"
    ours = kept_packs(pack_dir)
    held = set().union(*(pack_members(root, k) for k in ours))
    pages = page_blobs(root)
    if not pages or (len(ours) == 1 and pages <= held):
        return None
    listing = "".join(f"{sha} {PAGE_NAME}\n" for sha in sorted(pages | held)).encode("ascii")
    reuse = [] if ours else ["--no-reuse-delta"]
    pack_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=git_dir, prefix="indicators-pages-") as tmp:
        name = _git(root, "pack-objects", "-q", "--delta-base-offset", *reuse, f"{tmp}/pack", stdin=listing)
        stem = f"pack-{name.strip()}"
        keep = pack_dir / f"{stem}.keep"
        keep.write_text(KEEP_NOTE, encoding="utf-8")  # first: gc never takes a pack it sees kept
        for suffix in (".pack", ".rev", ".idx"):  # .idx last: git sees the pack once it is whole
            if (Path(tmp) / f"{stem}{suffix}").exists():
                os.replace(Path(tmp) / f"{stem}{suffix}", pack_dir / f"{stem}{suffix}")
    for old in ours:
        if old != keep:
            for suffix in PACK_FILES:
                old.with_suffix(suffix).unlink(missing_ok=True)
    _git(root, "prune-packed", "-q")  # the new page's loose copy (≈ 3.5 MB at 100k rows), as gc would
    return keep


def store_pages_quietly(root: Path) -> Path | None:
    """store_pages for a publish that has already committed: a failure costs repo size, not the
    release, so it is logged (whatever it is) and the release stands."""
    try:
        return store_pages(root)
    except Exception as exc:
        detail = getattr(exc, "stderr", b"") or b""
        log.warning(
            "library.html 的 git 打包未完成（发布不受影响）：%s %s", exc, detail.decode("utf-8", "replace")
        )
        return None
