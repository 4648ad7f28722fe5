"""The pages in git (issue 15): after `git gc`, every year's reports/<Y>/library.html is stored as a delta
of the next year's page, across a decade's turn too (store/page_pack.py).

Real repos of six releases, 2016–2021, published by commit_release and packed by `git gc -q` after each, as
benchmarks/git_growth runs a deployment. A page here is what the real one is to git: a list that changes a
little each year, then one incompressible (deflated, base64) history document per year, the same bytes in
every later page. Left to gc, 2020's page is stored against 2019's, then 2021's against 2019's again
(2019's path hashes first: "019/library.html"), paying 2020's document twice.
"""

from __future__ import annotations

import base64
import logging
import random
import re
import subprocess
from pathlib import Path

import pytest

from pipelines.store import page_pack
from pipelines.store.page_pack import (
    KEEP_NOTE,
    kept_packs,
    pack_members,
    page_blobs,
    store_pages,
)
from pipelines.store.repo import commit_release, open_repo
from tests.git_env import git, isolate_git

YEARS = range(2016, 2022)
DOC_BYTES = 24_000  # one year's history document, deflated (before base64)


@pytest.fixture(autouse=True)
def isolated_git(tmp_path, monkeypatch):
    isolate_git(tmp_path / "home", monkeypatch)


def page(year: int) -> bytes:
    """A page of `year`: the list (150 more rows changed each year), then every year's document so far."""
    words = random.Random(7)
    rows = [f'["ZB-{k:06d}","{words.randbytes(6).hex()}",{k < 150 * (year - YEARS[0])}]' for k in range(3000)]
    docs = [
        f'<script type="application/octet-stream" id="lib-year-{y}">'
        f"{base64.b64encode(random.Random(y).randbytes(DOC_BYTES)).decode()}</script>\n"
        for y in range(YEARS[0], year + 1)
    ]
    return (
        f"<!DOCTYPE html><title>{year}</title><script>[" + ",".join(rows) + "]</script>\n"
    ).encode() + "".join(docs).encode()


def pack_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in (root / ".git" / "objects" / "pack").glob("*.pack"))


def loose(root: Path, sha: str) -> bool:
    return (root / ".git" / "objects" / sha[:2] / sha[2:]).exists()


def publish_years(root: Path, years: range) -> list[int]:
    """Each year's page committed by commit_release, then `git gc -q`; the pack's growth per release."""
    sizes = [pack_bytes(root)] if (root / ".git").exists() else [0]
    for year in years:
        target = root / "reports" / str(year) / "library.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(page(year))
        assert commit_release(open_repo(root), year, {"added": 1}).committed
        sha = git(root, "rev-parse", f"HEAD:reports/{year}/library.html").strip()
        assert loose(root, sha) == (page_pack.store_pages is not store_pages)  # packed, not kept twice
        git(root, "gc", "-q")
        sizes.append(pack_bytes(root))
    return [b - a for a, b in zip(sizes, sizes[1:], strict=False)]


def delta_bases(root: Path) -> dict[int, int | None]:
    """year → the year of the page its page is stored against in the pack (None: whole)."""
    years = {}
    for line in git(root, "rev-list", "--objects", "--all").splitlines():
        if m := re.fullmatch(r"([0-9a-f]{40}) reports/(\d{4})/library\.html", line):
            years[m.group(1)] = int(m.group(2))
    out: dict[int, int | None] = {}
    for index in (root / ".git" / "objects" / "pack").glob("*.idx"):
        for line in git(root, "verify-pack", "-v", str(index)).splitlines():
            parts = line.split()
            if parts and parts[0] in years:
                out[years[parts[0]]] = years.get(parts[6], -1) if len(parts) > 6 else None
    return out


def paired_with_next(last: int) -> dict[int, int | None]:
    return {y: (y + 1 if y < last else None) for y in YEARS if y <= last}


def test_each_page_is_stored_against_next_years(tmp_path: Path) -> None:
    growth = publish_years(tmp_path, YEARS)
    assert delta_bases(tmp_path) == paired_with_next(YEARS[-1])
    # a later release costs its own document (≈ DOC_BYTES) and last year's small delta, no earlier year's
    assert all(g < 1.4 * DOC_BYTES for g in growth[2:]), growth
    (keep,) = kept_packs(tmp_path / ".git" / "objects" / "pack")
    assert pack_members(tmp_path, keep) == page_blobs(tmp_path)
    assert store_pages(tmp_path) is None  # every page of HEAD already so


def test_left_to_gc_a_new_decade_pays_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the test above guards against: without the pages' pack, 2021's page is stored against
    2019's (so 2020's document is stored twice) and the growth of 2021 is two documents."""
    monkeypatch.setattr(page_pack, "store_pages", lambda root: None)
    growth = publish_years(tmp_path, YEARS)
    bases = delta_bases(tmp_path)
    assert bases[2020] == 2019 and bases[2021] == 2019, bases
    assert growth[-1] > 1.8 * DOC_BYTES, growth


def test_a_repo_published_before_is_paired_at_its_next_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages packed by gc alone (releases before page_pack), then one release with it: its first pack
    computes every delta afresh, so the earlier years' pages are paired too, 2020's stored once."""
    with monkeypatch.context() as m:
        m.setattr(page_pack, "store_pages", lambda root: None)
        publish_years(tmp_path, range(2016, 2021))
    assert delta_bases(tmp_path)[2020] == 2019
    (growth,) = publish_years(tmp_path, range(2021, 2022))
    assert delta_bases(tmp_path) == paired_with_next(2021)
    assert growth < 1.4 * DOC_BYTES  # its own document; gc alone: 2020's again (> 1.8, test above)


def test_the_pack_replaces_its_own_only(tmp_path: Path) -> None:
    """Each release's pack replaces the last one this module wrote; another pack kept by someone else
    stays, and so does the release when the packing fails."""
    publish_years(tmp_path, range(2016, 2018))
    pack_dir = tmp_path / ".git" / "objects" / "pack"
    other = (
        subprocess.run(
            ["git", "-C", str(tmp_path), "pack-objects", "-q", str(pack_dir / "pack")],
            input=git(tmp_path, "rev-parse", "HEAD").encode(),
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    (pack_dir / f"pack-{other}.keep").write_text("someone else's\n", encoding="utf-8")
    first = kept_packs(pack_dir)
    publish_years(tmp_path, range(2018, 2020))
    now = kept_packs(pack_dir)
    assert len(first) == len(now) == 1 and first != now
    assert not first[0].with_suffix(".pack").exists() and not first[0].with_suffix(".idx").exists()
    assert (pack_dir / f"pack-{other}.keep").exists() and (pack_dir / f"pack-{other}.pack").exists()
    assert now[0].read_text(encoding="utf-8") == KEEP_NOTE


def test_a_failed_packing_leaves_the_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    def fails(root: Path) -> None:
        raise subprocess.CalledProcessError(128, ["git", "pack-objects"], b"", b"fatal: out of space")

    monkeypatch.setattr(page_pack, "store_pages", fails)
    with caplog.at_level(logging.WARNING):
        publish_years(tmp_path, range(2016, 2017))
    assert git(tmp_path, "tag", "--list").split() == ["v2016"]
    assert "out of space" in caplog.text
