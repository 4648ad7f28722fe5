"""Which file each yearly partition deltas against, under another file name: growth_variants' replays with
the partitions renamed (and the years moved), and git's delta bases counted.

    python -m benchmarks.growth_names --repo DIR/growth-100000-0.05 --variants base@old,base@us
        [--prefix library/] [--shift-years 6] [--keep DIR]

git (pack-objects) chooses a delta base for each object among the 10 objects before it in a list sorted
by the hash of its path's last 16 characters (builtin/pack-objects.c pack_name_hash: each character
shifts the hash two bits right, so the last ones weigh most), then by size, largest first; an object
already stored as a delta in the pack being repacked keeps its delta and takes no part (`git gc`). A
file of a later year can thus take last year's file of its class only if nothing between them in that
order offers a smaller delta — and then last year's file is the delta, against the new one (the newest
stays whole). In `usages/<Y>/<part>.parquet` the year's last digit is the last character that counts
(`2026/201.parquet` is exactly 16): within a decade a later year sorts just before last year's file of
its class, after `indicators/<part>.parquet`, whose hash is higher; across a decade (2029 → 2030) the
order turns. Names:

  asis   the names as published
  old    usages/<Y>/<part>.parquet (releases before parts.USAGE_SUFFIX)
  us     usages/<Y>/<part>.us.parquet (parts.USAGE_SUFFIX): 14 characters, so the year's digits no longer
         count and every year of a class has one hash; ".us" (the 9th and 10th characters from the end)
         sets all usages apart from indicators/ and from one another by class, and its years by size
  us-dash  <part>-us.parquet, the same hashes but for the separator
  tail   usages/<Y>/usages-<part>.parquet: every year of a class one hash, but next to
         indicators/<part>.parquet
  under  usages/<Y>/usages_<part>.parquet: one hash a class, just above indicators/<part>.parquet
  set    set_aside/<Y>/set_aside.parquet: one hash for every year (set_aside/<Y>.parquet's year weighs
         more than anything else in its name, so one year's file sorts among the classes ending in that
         digit); NAME+set: both

A variant is STORAGE@NAME (STORAGE one of growth_variants.VARIANTS). --shift-years N commits the release
of year Y as year Y + N (paths only; 6 takes 2023–2026 across a decade, to 2029–2032); --switch K keeps the
old names for the first K releases (a deployment upgrading: its K-th release renames). Each row ends with
the delta base of every replayed partition in the last pack: whole, its class's file of the next year
(the pairing wanted: the older stored against the newer) or of another year, indicators/ of its class,
another class's file.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from benchmarks.growth_variants import VARIANTS, later_growth, replay

_USAGES = re.compile(r"^library/usages/(\d{4})/(?:usages[-_])?([0-9a-z]+)(?:[.-]us)?\.parquet$")
_SET_ASIDE = re.compile(r"^library/set_aside/(\d{4})(?:/set_aside)?\.parquet$")
_REPORT = re.compile(r"^reports/(\d{4})/")
_INDICATORS = re.compile(r"^library/indicators/([0-9a-z]+)\.parquet$")
USAGE_NAMES = {"old": "{}", "us": "{}.us", "tail": "usages-{}", "under": "usages_{}", "us-dash": "{}-us"}
NAMINGS = ("asis", "set", *USAGE_NAMES, *(f"{n}+set" for n in USAGE_NAMES))


def pack_name_hash(path: str) -> int:
    """git's pack_name_hash (builtin/pack-objects.c, git 2.39): the order pack-objects sorts by."""
    value = 0
    for byte in path.encode("utf-8"):
        if chr(byte).isspace():
            continue
        value = ((value >> 2) + (byte << 24)) & 0xFFFFFFFF
    return value


def renamer(naming: str, shift: int = 0) -> Callable[[str], str]:
    """path as published → path committed under `naming`, its year moved by `shift`."""
    if naming not in NAMINGS:
        raise SystemExit(f"未知的命名方式 {naming}（可用：{', '.join(NAMINGS)}）")

    def rename(path: str) -> str:
        if m := _USAGES.match(path):
            year, part = int(m.group(1)) + shift, m.group(2)
            base = USAGE_NAMES.get(naming.removesuffix("+set"))
            if base is None:  # asis, set: the name as published
                return f"library/usages/{year}/{path.rsplit('/', 1)[1]}"
            return f"library/usages/{year}/{base.format(part)}.parquet"
        if m := _SET_ASIDE.match(path):
            year = int(m.group(1)) + shift
            tail = "/set_aside" if naming.endswith("set") else ""
            return f"library/set_aside/{year}{tail}.parquet"
        if m := _REPORT.match(path):
            return f"reports/{int(m.group(1)) + shift}/{path[len(m.group(0)) :]}"
        return path

    return rename


def _key(path: str) -> tuple[str, str, int] | None:
    """(table, part, year) of a partition or indicators file (year 0)."""
    if m := _USAGES.match(path):
        return "usages", m.group(2), int(m.group(1))
    if m := _SET_ASIDE.match(path):
        return "set_aside", "", int(m.group(1))
    if m := _INDICATORS.match(path):
        return "indicators", m.group(1), 0
    return None


def _kind(path: str, base: str | None) -> str:
    own, other = _key(path), _key(base) if base else None
    if other is None:
        return "whole" if base is None else "other file"
    assert own is not None
    if own[:2] != other[:2]:
        return f"{other[0]}/ of its class" if own[1] == other[1] else "another class"
    gap = other[2] - own[2]
    return {1: "next year's", -1: "last year's"}.get(gap, f"{gap:+d} years")


def delta_bases(repo: Path) -> dict[str, Counter[str]]:
    """table → {kind of delta base: count} over every usages/ and set_aside/ blob of repo's pack."""
    run = lambda *a: subprocess.run(["git", "-C", str(repo), *a], capture_output=True, text=True).stdout  # noqa: E731
    names: dict[str, str] = {}
    for line in run("rev-list", "--objects", "--all").splitlines():
        sha, _, path = line.partition(" ")
        names.setdefault(sha, path)
    out: dict[str, Counter[str]] = {}
    for index in (repo / ".git" / "objects" / "pack").glob("*.idx"):
        for line in run("verify-pack", "-v", str(index)).splitlines():
            parts = line.split()
            if len(parts) < 5 or parts[1] != "blob":
                continue
            path = names.get(parts[0], "")
            key = _key(path)
            if key is None or key[0] == "indicators":
                continue
            base = names.get(parts[6], "?") if len(parts) > 6 else None
            out.setdefault(key[0], Counter())[_kind(path, base)] += 1
    return out


def upgraded(naming: str, shift: int, switch: int) -> Callable[[str], str]:
    """renamer(naming) from the `switch`-th release on (0 the first), the old names before it: a
    deployment whose first releases were written before its code named files so. replay lists each
    release's files in path order, so library/manifest.json (one a release) comes before usages/."""
    before, after = renamer("old", shift), renamer(naming, shift)
    seen = {"releases": 0}

    def rename(path: str) -> str:
        if path == "library/manifest.json":
            seen["releases"] += 1
        return (after if seen["releases"] > switch else before)(path)

    return rename


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="以另一种文件名重放增长测试的各版本，并统计 git 的增量基准")
    parser.add_argument("--repo", type=Path, required=True, help="benchmarks.git_growth 生成的仓库")
    parser.add_argument("--variants", default="base@asis", help="存储方式@命名方式，逗号分隔")
    parser.add_argument("--prefix", default="")
    parser.add_argument("--gc", default="gc -q")
    parser.add_argument("--shift-years", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None, help="保留重放的仓库于此目录")
    parser.add_argument("--switch", type=int, default=0, help="此序号（0 起）之前的版本用旧文件名")
    parser.add_argument(
        "--no-page-pack", action="store_true", help="发布后不单独打包 library.html（此前各版本的做法）"
    )
    args = parser.parse_args(argv)
    print("| variant | shift | first release KiB | later releases KiB | mean later MiB | delta bases |")
    print("|---|---:|---:|---|---:|---|")
    for spec in args.variants.split(","):
        variant, _, naming = spec.partition("@")
        with tempfile.TemporaryDirectory() as tmp:
            work = args.keep / spec.replace("@", "-") if args.keep else Path(tmp)
            rename = upgraded(naming or "asis", args.shift_years, args.switch)
            sizes = replay(
                args.repo,
                VARIANTS[variant],
                args.prefix,
                args.gc.split(),
                work,
                rename,
                not args.no_page_pack,
            )
            bases = delta_bases(work / "repo")
        later, mean = later_growth(sizes)
        kinds = "; ".join(
            f"{table}: " + ", ".join(f"{k} {n}" for k, n in counts.most_common())
            for table, counts in sorted(bases.items())
        )
        print(
            f"| {spec} | {args.shift_years} | {sizes[0] // 1024:,} | "
            f"{' / '.join(f'{g // 1024:,}' for g in later)} | {mean:.2f} | {kinds} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
