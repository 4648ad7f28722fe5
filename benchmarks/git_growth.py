"""How fast the library repo grows: ten annual releases of a 100k-row library with 5% churn.

    python -m benchmarks.git_growth [--rows 100000] [--years 10] [--churn 0.05] [--work DIR]

benchmarks.corpus.generate_series writes ten consecutive years of submissions (each year churned from the
last); each year is rebuilt and published into one repo, in a fresh process per year, by the steps the
Dagster assets wrap (benchmarks.run's stages worker runs pipelines.rebuild.run: load the previous release,
validate against it, consolidate onto it, stage, check, report, publish with commit and tag). Not through
the job itself: its yearly partitions stop at the current year and start in 2018, so ten years do not
fit; the e2e section of benchmarks.run times the job. After every release:
  - `git count-objects -v`: loose objects and their size on disk — the growth of the repo;
  - the objects the release added (`git rev-list --objects <previous tag>..<tag>`), with their size on disk,
    split into library/ files, reports/ files and git's own trees / commit / tag;
  - every library/ file compared with the previous release: changed, new, or unchanged (same blob). A
    partition of an earlier year (usages/<Y>/…, set_aside/<Y>) must come out unchanged, byte for byte.
At the end `git gc` packs the repo and `git count-objects -vH` gives the final size.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import time
from pathlib import Path

LAST_YEAR = 2026  # ten releases: 2017–2026


def git(repo: Path, *args: str, input: str | None = None) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, input=input
    ).stdout


def count_objects(repo: Path) -> dict[str, int]:
    """git count-objects -v (sizes in KiB as git prints them)."""
    out = {}
    for line in git(repo, "count-objects", "-v").splitlines():
        key, value = line.split(":", 1)
        out[key.strip()] = int(value.strip())
    return out


def tree_files(repo: Path, ref: str, prefix: str = "library") -> dict[str, str]:
    """path → blob sha of every file under prefix at ref."""
    out = {}
    for line in git(repo, "ls-tree", "-r", ref, "--", prefix).splitlines():
        meta, path = line.split("\t", 1)
        out[path] = meta.split()[2]
    return out


def added_objects(repo: Path, ref: str, previous: str | None) -> dict[str, int]:
    """Objects reachable from ref and not from previous, their size on disk by kind."""
    spec = [ref] + ([f"^{previous}"] if previous else [])
    listing = git(repo, "rev-list", "--objects", *spec)
    checked = git(
        repo,
        "cat-file",
        "--batch-check=%(objecttype) %(objectsize) %(objectsize:disk) %(rest)",
        input=listing,
    )
    sizes = {"library": 0, "reports": 0, "git": 0, "objects": 0, "library_raw": 0, "reports_raw": 0}
    for line in checked.splitlines():
        parts = line.split(" ", 3)
        kind, raw, disk = parts[0], int(parts[1]), int(parts[2])
        path = parts[3] if len(parts) > 3 else ""
        sizes["objects"] += 1
        top = path.split("/", 1)[0]
        if kind == "blob" and top in ("library", "reports"):
            sizes[top] += disk
            sizes[f"{top}_raw"] += raw
        else:
            sizes["git"] += disk
    return sizes


def compare_library(before: dict[str, str], after: dict[str, str], year: int) -> dict[str, object]:
    """Every library file of this release vs the previous one."""
    changed = sorted(p for p in after if p in before and before[p] != after[p])
    new = sorted(p for p in after if p not in before)
    unchanged = sorted(p for p in after if p in before and before[p] == after[p])
    removed = sorted(p for p in before if p not in after)
    # Partitions of earlier years must not move: usages/<Y>/… and set_aside/<Y>.parquet with Y < year.
    moved_past = [p for p in changed if _part_year(p) is not None and _part_year(p) < year]  # type: ignore[operator]
    return {
        "files": len(after),
        "changed": len(changed),
        "new": len(new),
        "unchanged": len(unchanged),
        "removed": len(removed),
        "changed_paths": changed,
        "moved_past_partitions": moved_past,
        "past_partitions": sum(1 for p in after if (_part_year(p) or year) < year),
    }


def _part_year(path: str) -> int | None:
    parts = path.split("/")
    if len(parts) >= 3 and parts[1] == "usages" and parts[2].isdigit():
        return int(parts[2])
    if len(parts) >= 3 and parts[1] == "set_aside":
        stem = parts[2].split(".")[0]
        return int(stem) if stem.isdigit() else None
    return None


def run_growth(work: Path, *, rows: int = 100_000, years: int = 10, churn: float = 0.05) -> dict[str, object]:
    from benchmarks.corpus import generate_series
    from benchmarks.run import ROWS_PER_WORKBOOK, log

    series_root = work / f"series-{rows}-{churn:g}"
    started = time.perf_counter()
    corpora = generate_series(
        series_root,
        rows,
        LAST_YEAR - years + 1,
        years,
        churn=churn,
        departments=max(1, rows // ROWS_PER_WORKBOOK),
    )
    log(f"growth: {years} years × {rows:,} rows in {series_root} ({time.perf_counter() - started:.0f} s)")
    repo = _empty_repo(work / f"growth-{rows}-{churn:g}")
    releases = _releases(repo, corpora, work / f"growth-stages-{rows}")
    result: dict[str, object] = {
        "rows": rows,
        "years": years,
        "churn": churn,
        "repo": str(repo),
        "releases": releases,
    }
    if releases and "error" not in releases[-1]:
        result["loose"] = count_objects(repo)
        git(repo, "gc", "-q")
        result["packed"] = count_objects(repo)
        result["count_objects_vH"] = git(repo, "count-objects", "-vH").strip()
        _verdict(result)
    return result


def _empty_repo(repo: Path) -> Path:
    shutil.rmtree(repo, ignore_errors=True)
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    git(
        repo, "config", "gc.auto", "0"
    )  # no automatic packing midway: every release's growth is measured alike
    return repo


def _releases(repo: Path, corpora: list, stage_dir: Path) -> list[dict[str, object]]:
    """Each year rebuilt into repo by the stages worker (pipelines.rebuild.run), then measured."""
    from benchmarks.run import log, run_worker

    releases: list[dict[str, object]] = []
    previous_tag: str | None = None
    before_files: dict[str, str] = {}
    before_objects = {"size": 0, "size-pack": 0, "count": 0, "in-pack": 0}
    for corpus in corpora:
        log(f"growth: release {corpus.year} ({corpus.total_rows:,} rows)")
        args = ["stages", "--corpus", str(corpus.directory), "--dir", str(stage_dir)]
        run = run_worker([*args, "--repo", str(repo), "--year", str(corpus.year)])
        tag = run.get("tag", "")
        if not run.get("success") or not tag:
            releases.append({"year": corpus.year, "error": run.get("error") or run.get("errors"), "run": run})
            break
        objects = count_objects(repo)
        files = tree_files(repo, tag)
        releases.append(
            {
                "year": corpus.year,
                "tag": tag,
                "rows": corpus.total_rows,
                "wall_s": run["wall_s"],
                "stages": {x["stage"]: round(x["wall_s"], 2) for x in run["stages"]},
                "process_s": run["process_s"],
                "peak_mib": run["peak_mib"],
                "changes": _changes(repo, previous_tag, tag),
                "indicators": _indicator_total(repo, tag),
                "repo_kib": objects["size"] + objects["size-pack"],
                "added_kib": objects["size"]
                + objects["size-pack"]
                - before_objects["size"]
                - before_objects["size-pack"],
                "added_objects": added_objects(repo, tag, previous_tag),
                "added_count": objects["count"]
                + objects["in-pack"]
                - before_objects["count"]
                - before_objects["in-pack"],
                "library": compare_library(before_files, files, corpus.year),
            }
        )
        previous_tag, before_files, before_objects = tag, files, objects
    return releases


def _changes(repo: Path, ref_a: str | None, ref_b: str) -> dict[str, int]:
    from pipelines.store.query.diff import diff
    from pipelines.store.query.git_read import clear_cache

    clear_cache()
    return diff(repo, ref_a, ref_b).counts()


def _indicator_total(repo: Path, ref: str) -> dict[str, int]:
    from pipelines.store.query.git_read import indicators_at

    status = indicators_at(repo, ref)["status"].value_counts()
    return {k: int(v) for k, v in status.items()}


def _verdict(result: dict[str, object]) -> None:
    releases = [r for r in result["releases"] if "library" in r]  # type: ignore[union-attr]
    moved = [p for r in releases for p in r["library"]["moved_past_partitions"]]
    later = releases[1:]
    # every later release: the repo grew by exactly what rev-list says the release added (changed or new
    # files + git's trees/commit/tag), so nothing unchanged was stored again
    exact = all(r["added_count"] == r["added_objects"]["objects"] for r in later)
    result["unchanged_add_zero"] = not moved and exact
    past = sum(r["library"]["past_partitions"] for r in later)
    result["verdict"] = (
        f"{len(later)} later releases: {past} past-year partitions carried over, {len(moved)} of them changed; "
        f"objects stored per release = exactly those of changed/new files + trees, commit, tag: {'yes' if exact else 'no'}"
    )


def _kib(n: float) -> str:
    return f"{n / 1024:,.0f}" if n >= 0 else "–"


def render_growth(growth: dict) -> str:
    releases = growth.get("releases") or []
    lines = [
        f"## Git growth: {len(releases)} annual releases of a {growth['rows']:,}-row library, churn {growth['churn']:.0%}",
        "",
        "Each release built by the assets' step calls (fresh process per year) into one repo. Sizes on disk (zlib-compressed loose "
        "objects before the final `git gc`); `library files` = changed / new / unchanged vs the previous release.",
        "",
        "| release | rows | wall s | peak MiB | added | modified | retired | active | library files chg/new/same | library KiB | reports KiB | git KiB | repo grew KiB | repo KiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in releases:
        if "error" in r:
            lines.append(f"| {r['year']} | failed: {r['error']} |")
            continue
        c, lib, a = r["changes"], r["library"], r["added_objects"]
        lines.append(
            f"| {r['tag']} | {r['rows']:,} | {r['wall_s']:.0f} | {r['peak_mib']:,.0f} | {c['added']:,} | {c['modified']:,} "
            f"| {c['retired']:,} | {r['indicators'].get('active', 0):,} | {lib['changed']}/{lib['new']}/{lib['unchanged']} "
            f"| {_kib(a['library'])} | {_kib(a['reports'])} | {_kib(a['git'])} | {r['added_kib']:,} | {r['repo_kib']:,} |"
        )
    if "packed" in growth:
        later = [r for r in releases[1:] if "added_kib" in r]
        if later:
            mean = sum(r["added_kib"] for r in later) / len(later)
            lib = sum(r["added_objects"]["library"] for r in later) / len(later) / 1024
            rep = sum(r["added_objects"]["reports"] for r in later) / len(later) / 1024
            lines += [
                "",
                f"Bytes added per release after the first (mean): {mean:,.0f} KiB, of which library/ {lib:,.0f} KiB "
                f"and reports/ {rep:,.0f} KiB.",
            ]
        lines += [
            "",
            f"After `git gc` (`git count-objects -vH`): {growth['packed'].get('size-pack', 0):,} KiB packed "
            f"(loose before gc: {growth['loose'].get('size', 0):,} KiB).",
            "",
            "```",
            growth.get("count_objects_vH", ""),
            "```",
            "",
            f"Unchanged partitions: {growth.get('verdict', '')}.",
        ]
    return "\n".join(lines)


def releases_for_diff(work: Path, rows: int) -> tuple[Path, str, str]:
    """A repo with two consecutive releases of `rows` rows: the growth repo when it exists, else built."""
    for candidate in sorted(work.glob(f"growth-{rows}-*")):
        tags = [t for t in git(candidate, "tag", "--list", "v*").split() if t]
        if len(tags) >= 2:
            return candidate, tags[0], tags[1]
    result = run_growth(work, rows=rows, years=2)
    repo = Path(str(result["repo"]))
    tags = [r["tag"] for r in result["releases"] if "tag" in r]  # type: ignore[union-attr]
    return repo, tags[0], tags[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="指标库仓库十年增长（每年一次发布）")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--churn", type=float, default=0.05)
    parser.add_argument(
        "--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "indicators-bench"
    )
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    print(render_growth(run_growth(args.work, rows=args.rows, years=args.years, churn=args.churn)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
