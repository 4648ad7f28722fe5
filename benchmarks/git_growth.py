"""How fast the library repo grows: ten annual releases of a 100k-row library with 5% churn.

    python -m benchmarks.git_growth [--rows 100000] [--years 10] [--churn 0.05] [--work DIR]

benchmarks.corpus.generate_series writes ten consecutive years of submissions (each year churned from the
last); each year is rebuilt and published into one repo, in a fresh process per year, by the steps the
Dagster assets wrap (benchmarks/workers.py runs pipelines.rebuild.run: load the previous release, validate
against it, consolidate onto it, stage, check, report, publish with commit and tag) — so a release is
exactly what `indicators rebuild` commits: library/ and reports/<Y>/ (review.html, review.xlsx,
merge_review.xlsx, CHANGELOG.md, library.html); the feedback workbooks go to the git-ignored outbox/. Not
through the job itself: its yearly partitions stop at the current year and start in 2018, so ten years do
not fit; the e2e section of benchmarks.run times the job. After every release:
  - `git count-objects -v` and `du` of .git: the loose objects the release added;
  - then `git gc`: the packed size, what a clone receives — its growth is the release's cost in the repo
    (git deltas a file against another of a similar name, chosen by the hash of the path's last 16
    characters, then size; it cannot delta compressed bytes: zip-compressed workbooks, deflated data).
    The pages, reports/<Y>/library.html, are in a pack of their own that the publish writes and gc
    keeps (pipelines/store/page_pack.py), counted in the packed size like any pack;
  - the objects the release added (`git rev-list --objects <previous tag>..<tag>`), with their size on disk,
    split into library/ files, reports/ files and git's own trees / commit / tag;
  - every library/ file compared with the previous release: changed, new, or unchanged (same blob). A
    partition of an earlier year (usages/<Y>/…, set_aside/<Y>) must come out unchanged, byte for byte.
At the end, `git verify-pack` gives what each release's files take in the final pack, by file name.
"""

from __future__ import annotations

import argparse
import json
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


def added_objects(repo: Path, ref: str, previous: str | None) -> dict[str, object]:
    """Objects reachable from ref and not from previous, their size on disk by kind; "blobs": every added
    file's [sha, path, raw size] (what the final pack's sizes are summed over)."""
    spec = [ref] + ([f"^{previous}"] if previous else [])
    listing = git(repo, "rev-list", "--objects", *spec)
    checked = git(
        repo,
        "cat-file",
        "--batch-check=%(objectname) %(objecttype) %(objectsize) %(objectsize:disk) %(rest)",
        input=listing,
    )
    sizes = {"library": 0, "reports": 0, "git": 0, "objects": 0, "library_raw": 0, "reports_raw": 0}
    blobs: list[list[object]] = []
    for line in checked.splitlines():
        parts = line.split(" ", 4)
        sha, kind, raw, disk = parts[0], parts[1], int(parts[2]), int(parts[3])
        path = parts[4] if len(parts) > 4 else ""
        sizes["objects"] += 1
        top = path.split("/", 1)[0]
        if kind == "blob" and top in ("library", "reports"):
            sizes[top] += disk
            sizes[f"{top}_raw"] += raw
            blobs.append([sha, path, raw])
        else:
            sizes["git"] += disk
    return {**sizes, "blobs": blobs}


def du_kib(path: Path) -> int:
    """Disk usage of a folder, KiB (`du -sk`)."""
    return int(subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True).stdout.split()[0])


def packed(repo: Path) -> dict[str, int]:
    """`git gc`, then the packed size and the .git folder's disk usage (KiB)."""
    git(repo, "gc", "-q")
    objects = count_objects(repo)
    return {"pack_kib": objects["size-pack"] + objects["size"], "git_du_kib": du_kib(repo / ".git")}


def pack_costs(repo: Path, releases: list[dict[str, object]]) -> None:
    """What each release's added files take in the final pack (`git verify-pack -v`: size in pack, a
    delta's own size when git stored the file as a delta), summed by file: library/ as one, each report
    by its name. Sets release["pack"] = {name: KiB}."""
    in_pack: dict[str, int] = {}
    for index in sorted((repo / ".git" / "objects" / "pack").glob("*.idx")):
        for line in git(repo, "verify-pack", "-v", str(index)).splitlines():
            parts = line.split()
            if len(parts) >= 5 and len(parts[0]) == 40 and parts[1] in ("blob", "tree", "commit", "tag"):
                in_pack[parts[0]] = int(parts[3])
    for release in releases:
        added = release.get("added_objects") or {}
        costs: dict[str, float] = {}
        for sha, path, _raw in added.get("blobs", []):  # type: ignore[union-attr]
            name = "library/" if str(path).startswith("library/") else str(path).rsplit("/", 1)[-1]
            costs[name] = costs.get(name, 0) + in_pack.get(str(sha), 0) / 1024
        release["pack"] = {k: round(v, 1) for k, v in sorted(costs.items())}


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


def run_growth(
    work: Path, *, rows: int = 100_000, years: int = 10, churn: float = 0.05, code: Path | None = None
) -> dict[str, object]:
    """The releases built by this checkout, or by the product at `code` (another checkout: the before of
    a before/after; its repo is growth-…-<folder name>)."""
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
    suffix = f"-{code.name}" if code else ""
    repo = _empty_repo(work / f"growth-{rows}-{churn:g}{suffix}")
    releases = _releases(repo, corpora, work / f"growth-stages-{rows}{suffix}", code)
    result: dict[str, object] = {
        "rows": rows,
        "years": years,
        "churn": churn,
        "repo": str(repo),
        "releases": releases,
    }
    if releases and "error" not in releases[-1]:
        result["loose"] = {"size": sum(r["added_kib"] for r in releases)}  # type: ignore[misc]
        result["packed"] = count_objects(repo)  # gc ran after the last release
        result["count_objects_vH"] = git(repo, "count-objects", "-vH").strip()
        result["git_du_kib"] = du_kib(repo / ".git")
        pack_costs(repo, releases)
        later = [r["pack_grew_kib"] for r in releases[1:]]
        if later:
            result["packed_mib_per_release"] = sum(later) / len(later) / 1024  # type: ignore[arg-type]
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


def _releases(repo: Path, corpora: list, stage_dir: Path, code: Path | None) -> list[dict[str, object]]:
    """Each year rebuilt into repo by the stages worker (pipelines.rebuild.run), then measured."""
    from benchmarks.run import log
    from benchmarks.sides import NEW, Code, run_worker

    product = Code("old", code, "", code.name) if code else NEW

    releases: list[dict[str, object]] = []
    previous_tag: str | None = None
    before_files: dict[str, str] = {}
    before_objects = {"size": 0, "size-pack": 0, "count": 0, "in-pack": 0}
    pack_before = 0
    for corpus in corpora:
        log(f"growth: release {corpus.year} ({corpus.total_rows:,} rows)")
        args = ["stages", "--corpus", str(corpus.directory), "--dir", str(stage_dir), "--workers", "auto"]
        run = run_worker([*args, "--repo", str(repo), "--year", str(corpus.year)], code=product)
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
                "git_du_loose_kib": du_kib(repo / ".git"),
                "reports_files": _report_files(repo, tag, corpus.year),
            }
        )
        after_gc = packed(repo)  # gc: what the release costs in the packed repo (and a clone)
        releases[-1] |= {**after_gc, "pack_grew_kib": after_gc["pack_kib"] - pack_before}
        pack_before = after_gc["pack_kib"]
        objects = count_objects(repo)
        previous_tag, before_files, before_objects = tag, files, objects
        _so_far(repo, releases)
    return releases


def _so_far(repo: Path, releases: list[dict[str, object]]) -> None:
    """The releases measured so far, beside the repo (a long run can be read before it ends), and one line."""
    from benchmarks.run import log

    last = releases[-1]
    added = last["added_objects"]
    log(
        f"growth: {last['tag']} packed +{last['pack_grew_kib']:,} KiB (loose: library/ "
        f"{added['library'] // 1024:,} KiB, reports/ {added['reports'] // 1024:,} KiB)"  # type: ignore[index]
    )
    text = json.dumps(releases, ensure_ascii=False, indent=1, default=str)
    (repo.parent / f"{repo.name}.releases.json").write_text(text + "\n", encoding="utf-8")


def _report_files(repo: Path, tag: str, year: int) -> dict[str, int]:
    """reports/<Y>/ as the release committed it: file name → bytes."""
    out = {}
    for line in git(repo, "ls-tree", "-r", "-l", tag, "--", f"reports/{year}").splitlines():
        meta, path = line.split("\t", 1)
        out[path.rsplit("/", 1)[-1]] = int(meta.split()[3])
    return out


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
        "Each release built by pipelines.rebuild.run (fresh process per year) into one repo and committed as "
        "`indicators rebuild` commits it (library/ and reports/<Y>/). `loose` = the zlib-compressed objects the "
        "release added; `packed` = the growth of the repo after `git gc` (what a clone receives); `library "
        "files` = changed / new / unchanged vs the previous release.",
        "",
        "| release | rows | wall s | added | retired | active | library files chg/new/same | library KiB | reports KiB "
        "| loose grew KiB | packed grew KiB | packed KiB | .git du KiB |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in releases:
        if "error" in r:
            lines.append(f"| {r['year']} | failed: {r['error']} |")
            continue
        c, lib, a = r["changes"], r["library"], r["added_objects"]
        lines.append(
            f"| {r['tag']} | {r['rows']:,} | {r['wall_s']:.0f} | {c['added']:,} | {c['retired']:,} "
            f"| {r['indicators'].get('active', 0):,} | {lib['changed']}/{lib['new']}/{lib['unchanged']} "
            f"| {_kib(a['library'])} | {_kib(a['reports'])} | {r['added_kib']:,} | {r.get('pack_grew_kib', '–'):,} "
            f"| {r.get('pack_kib', '–'):,} | {r.get('git_du_kib', '–'):,} |"
        )
    if "packed" in growth:
        lines += _pack_table(releases)
        per = growth.get("packed_mib_per_release")
        lines += [
            "",
            f"Packed growth per release after the first (mean): **{per:.2f} MiB**."
            if per is not None
            else "",
            "",
            f"After the last `git gc` (`git count-objects -vH`), .git on disk {growth.get('git_du_kib', 0):,} KiB:",
            "",
            "```",
            growth.get("count_objects_vH", ""),
            "```",
            "",
            f"Unchanged partitions: {growth.get('verdict', '')}.",
        ]
    return "\n".join(lines)


def _pack_table(releases: list[dict]) -> list[str]:
    """Each release's files in the final pack (KiB): library/ as one, every report by name."""
    names = sorted({n for r in releases for n in r.get("pack") or {}}, key=lambda n: (n != "library/", n))
    if not names:
        return []
    lines = [
        "",
        "What each release's files take in the final pack (KiB; a file git stored as a delta against the "
        "previous year's counts its delta):",
        "",
        "| release | " + " | ".join(names) + " | all |",
        "|---|" + "---:|" * (len(names) + 1),
    ]
    for r in releases:
        pack = r.get("pack") or {}
        cells = [f"{pack[n]:,.0f}" if n in pack else "–" for n in names]
        lines.append(
            f"| {r.get('tag', r['year'])} | " + " | ".join(cells) + f" | {sum(pack.values()):,.0f} |"
        )
    return lines


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
    parser.add_argument("--code", type=Path, default=None, help="另一份代码（如旧提交的 worktree）的根目录")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    result = run_growth(args.work, rows=args.rows, years=args.years, churn=args.churn, code=args.code)
    (
        args.work / f"growth-{args.rows}-{args.years}{'-' + args.code.name if args.code else ''}.json"
    ).write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8")
    print(render_growth(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
