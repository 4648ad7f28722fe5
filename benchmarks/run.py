"""The benchmark: the whole pipeline at several sizes, the peers side by side, git growth over ten years.

    python -m benchmarks.run [--sizes 10000,100000,1000000] [--quick] [--only stages,e2e,...]

Sections (each size and each peer in a fresh subprocess, so peak RSS is its own):
  stages       pipelines.rebuild.run, its steps one after another (list → read → load_previous → validate →
               normalize → consolidate → changes → stage → check → report → publish; the blocking checks
               included, the parse cache left out), per step: wall, CPU, rows/s, peak RSS (VmHWM, reset before
               each stage through /proc/self/clear_refs, so a stage's peak is its own, resident input
               included). Then `consolidation` alone (normalize + consolidate) in a process that only
               loaded the validated rows: the figure behind `consolidation 1M/100k = R`.
  e2e          `run_rebuild` — the Dagster job in-process, exactly what `indicators rebuild` runs — on a
               fresh repo: wall (process start and imports apart), peak RSS of the whole process.
  incremental  the city inbox rebuilt again after one workbook changed (parse cache warm), vs the full run.
  baselines    benchmarks.baselines: calamine vs openpyxl; dedupe vs all-pairs rapidfuzz on 20,000 rows;
               dedupe vs Splink (DuckDB) on the labelled pairs and the 100k corpus; diff vs daff.
  growth       benchmarks.git_growth: ten annual releases of a 100k-row library with 5% churn.

Corpora: benchmarks.corpus, one workbook per ~100 rows (a city of 10k rows ≈ 100 departments), cached in
--work (default /tmp/indicators-bench). Results: <work>/results.json and benchmarks/RESULTS.md (the
figures; text below the `<!-- notes -->` line of an existing RESULTS.md is kept).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FINANCE = "100001"  # benchmarks.corpus: department 0 is the finance bureau
YEAR = 2026
ROWS_PER_WORKBOOK = 100
SECTIONS = ("stages", "e2e", "incremental", "growth", "baselines")
# pipelines.rebuild.run's steps, as it names them to the timer
STAGES = (
    "list",
    "read",
    "load_previous",
    "validate",
    "normalize",
    "consolidate",
    "changes",
    "stage",
    "check",
    "report",
    "publish",
)
NOTES_MARK = "<!-- notes -->"
# Targets of the issue (2-core machine).
CITY_ROWS, CITY_SECONDS = 10_000, 30.0
PROVINCE_ROWS, PROVINCE_SECONDS, PROVINCE_MIB = 300_000, 300.0, 4096.0
CONSOLIDATION_RATIO, MILLION_SECONDS, MILLION_MIB = 12.0, 60.0, 2048.0


# --------------------------------------------------------------------------------------------------
# Measuring inside a worker
# --------------------------------------------------------------------------------------------------


def peak_mib() -> float:
    """Peak resident set of this process since the last reset (VmHWM), MiB."""
    with open("/proc/self/status", encoding="ascii") as fh:
        return int(re.search(r"VmHWM:\s+(\d+)", fh.read()).group(1)) / 1024  # type: ignore[union-attr]


def rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        return int(re.search(r"VmRSS:\s+(\d+)", fh.read()).group(1)) / 1024  # type: ignore[union-attr]


def reset_peak() -> None:
    """Start a new peak-RSS window (Linux ≥ 4.0: writing 5 to clear_refs resets VmHWM)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        pass  # the peak then covers the process so far: an upper bound


class StageTimer:
    """Times named stages: wall, CPU, peak RSS of the stage; optional cProfile dump per stage."""

    def __init__(self, rows: int, profile_dir: Path | None = None) -> None:
        self.rows, self.profile_dir, self.stages = rows, profile_dir, []

    def __call__(self, name: str, fn: Callable[[], object]) -> object:
        import gc

        gc.collect()
        reset_peak()
        wall, cpu = time.perf_counter(), time.process_time()
        if self.profile_dir is not None:
            import cProfile

            profiler = cProfile.Profile()
            result = profiler.runcall(fn)
            self.profile_dir.mkdir(parents=True, exist_ok=True)
            profiler.dump_stats(str(self.profile_dir / f"{name}.prof"))
        else:
            result = fn()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        self.stages.append(
            {
                "stage": name,
                "wall_s": wall,
                "cpu_s": cpu,
                "rows_per_s": self.rows / wall if wall else None,
                "peak_mib": peak_mib(),
                "rss_end_mib": rss_mib(),
            }
        )
        print(f"  {name:<12} {wall:8.2f} s  peak {self.stages[-1]['peak_mib']:7.0f} MiB", file=sys.stderr)
        return result


def _warm() -> None:
    """Load what every stage shares (reference tables, OpenCC dictionaries) outside any timing."""
    from schemas.text import clean_text
    from schemas.vocab import reference

    reference()
    clean_text("預熱")


def stages_worker(
    corpus_dir: Path, work_dir: Path, year: int, profile: bool, repo: Path | None = None
) -> dict[str, object]:
    """Every step of the rebuild, timed one by one: pipelines.rebuild.run, the composition the Dagster
    assets wrap, blocking checks included; the parse cache is left out (every run parses). On a fresh
    repo in work_dir, or on `repo` (growing it by a release: the previous release is loaded, its ids
    matched, the change set taken against it)."""
    import pickle

    from benchmarks.corpus import load_corpus
    from pipelines import rebuild

    _warm()
    found = load_corpus(corpus_dir)
    rows = found[1].total_rows if found else 0
    fresh = repo is None
    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True)
    repo = work_dir / "repo" if repo is None else repo
    timer = StageTimer(rows, work_dir / "profile" if profile else None)
    done = rebuild.run(year, corpus_dir, repo, finance_dept=FINANCE, parse_cache=False, step=timer)
    validation, result, commit = done.validation, done.consolidation, done.commit
    if fresh:  # the input of the isolated consolidation run
        with open(work_dir / "validated.pkl", "wb") as fh:
            kept = (validation.rows, validation.departments, validation.files)
            pickle.dump(kept, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return {
        "rows": rows,
        "workbooks": len(done.files),
        "accounting": validation.counts(),
        "indicators": len(result.tables.indicators),
        "candidates": len(result.candidates),
        "changes": done.changes.counts(),
        "committed": bool(commit and commit.committed),
        "tag": (commit.tag if commit else "") or "",
        "success": bool(commit and commit.committed),
        "stages": timer.stages,
        "wall_s": sum(s["wall_s"] for s in timer.stages),
        "peak_mib": _process_peak(),
        "peak_mib_process": _process_peak(),
    }


def _process_peak() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def consolidation_worker(work_dir: Path, year: int) -> dict[str, object]:
    """The normalize and consolidate steps alone, from the validated rows of a stages run (no release
    before it)."""
    import pickle

    from pipelines import rebuild
    from pipelines.common.config import Settings
    from pipelines.normalize.canonical import load_rules
    from pipelines.store.release import PreviousRelease
    from pipelines.validate.runner import ValidationResult

    _warm()
    with open(work_dir / "validated.pkl", "rb") as fh:
        rows, departments, files = pickle.load(fh)
    validation = ValidationResult(rows, [], files, departments)
    deployment = rebuild.Deployment(work_dir, Settings(), FINANCE)
    previous = rebuild.Previous(PreviousRelease(None, "", None, ""))
    rules = load_rules(None)
    loaded = rss_mib()
    timer = StageTimer(len(rows))

    def run() -> object:
        normalized = rebuild.normalize(validation, rules)
        return rebuild.consolidate(validation, normalized, previous, deployment, year, rules)

    result = timer("consolidation", run)
    return {
        "rows": len(rows),
        "accepted": int((rows["outcome"] == "library").sum()),
        "indicators": len(result.tables.indicators),  # type: ignore[attr-defined]
        "input_mib": loaded,
        **timer.stages[0],
    }


def e2e_worker(corpus_dir: Path, repo: Path, year: int) -> dict[str, object]:
    """`indicators rebuild`: the Dagster job in-process (pipelines.defs.run.run_rebuild)."""
    started = time.perf_counter()
    from pipelines.defs.run import run_rebuild

    imported = time.perf_counter() - started
    reset_peak()
    wall, cpu = time.perf_counter(), time.process_time()
    outcome = run_rebuild(year, corpus_dir, repo, finance_dept=FINANCE)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stats = _parse_stats(repo)
    return {
        "success": outcome.success,
        "errors": outcome.errors,
        "failed_checks": [name for name, _ in outcome.failed_checks],
        "accounting": outcome.accounting,
        "changes": outcome.changes_zh,
        "published": {k: str(v) for k, v in outcome.published.items() if k in ("committed", "tag")},
        "import_s": imported,
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_mib": _process_peak(),
        **stats,
    }


def _parse_stats(repo: Path) -> dict[str, int]:
    """How many workbooks the last run parsed vs took from the parse cache (Dagster's asset metadata)."""
    try:
        import dagster as dg

        instance = dg.DagsterInstance.get()
        event = instance.get_latest_materialization_event(dg.AssetKey("parsed_workbooks"))
        meta = event.asset_materialization.metadata  # type: ignore[union-attr]
        return {"parsed": len(meta["parsed"].value), "from_cache": len(meta["from_cache"].value)}
    except Exception:
        return {}


# --------------------------------------------------------------------------------------------------
# The parent: corpora, subprocesses, tables
# --------------------------------------------------------------------------------------------------


def corpus_for(work: Path, rows: int, seed: int = 1) -> Path:
    from benchmarks.corpus import generate_corpus

    directory = work / f"corpus-{rows}"
    started = time.perf_counter()
    corpus = generate_corpus(directory, rows, YEAR, seed, departments=max(1, rows // ROWS_PER_WORKBOOK))
    took = time.perf_counter() - started
    if took > 1:
        log(f"corpus {rows:,} rows: {len(corpus.files)} workbooks in {directory} ({took:.0f} s)")
    return directory


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_worker(args: list[str], env: dict[str, str] | None = None, timeout: float | None = None) -> dict:
    """python -m benchmarks.run --worker …, in a fresh interpreter; its last stdout line is JSON."""
    cmd = [sys.executable, "-m", "benchmarks.run", "--worker", *args]
    started = time.perf_counter()
    proc = subprocess.run(
        cmd,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=None,  # progress goes straight through
        text=True,
        env={**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)},
        timeout=timeout,
    )
    if proc.returncode != 0:
        return {"error": f"exit {proc.returncode}", "cmd": shlex.join(cmd)}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_s"] = time.perf_counter() - started
    return out


def dagster_home(path: Path) -> Path:
    """A fresh DAGSTER_HOME with telemetry off (nothing leaves the machine)."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    (path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    return path


def run_stages(work: Path, sizes: list[int], profile: bool) -> dict[str, object]:
    out: dict[str, object] = {}
    for rows in sizes:
        corpus = corpus_for(work, rows)
        log(f"stages {rows:,} rows")
        stage_dir = work / f"stages-{rows}"
        args = ["stages", "--corpus", str(corpus), "--dir", str(stage_dir)] + (
            ["--profile"] if profile else []
        )
        result = run_worker(args)
        if "error" not in result:
            log(f"consolidation alone {rows:,} rows")
            result["consolidation"] = run_worker(["consolidation", "--dir", str(stage_dir)])
        out[str(rows)] = result
    return out


def run_e2e(work: Path, sizes: list[int]) -> dict[str, object]:
    out: dict[str, object] = {}
    for rows in sizes:
        corpus = corpus_for(work, rows)
        log(f"e2e (Dagster) {rows:,} rows")
        repo = work / f"e2e-{rows}"
        shutil.rmtree(repo, ignore_errors=True)
        home = dagster_home(work / f"dagster-home-{rows}")
        out[str(rows)] = run_worker(
            ["e2e", "--corpus", str(corpus), "--dir", str(repo)], env={"DAGSTER_HOME": str(home)}
        )
    return out


def run_incremental(work: Path, rows: int) -> dict[str, object]:
    """Full rebuild of a city, then one department replaces its workbook and the city is rebuilt again."""
    from benchmarks.corpus import load_corpus, rewrite_department

    source = corpus_for(work, rows)
    inbox = work / f"incremental-inbox-{rows}"
    shutil.rmtree(inbox, ignore_errors=True)
    shutil.copytree(source, inbox)
    repo = work / f"incremental-{rows}"
    shutil.rmtree(repo, ignore_errors=True)
    home = dagster_home(work / f"dagster-home-incremental-{rows}")
    env = {"DAGSTER_HOME": str(home)}
    log(f"incremental {rows:,} rows: full rebuild")
    full = run_worker(["e2e", "--corpus", str(inbox), "--dir", str(repo)], env=env)
    params, corpus = load_corpus(inbox)  # type: ignore[misc]
    index = len(corpus.files) // 2
    changed = rewrite_department(inbox, index)
    log(f"incremental {rows:,} rows: {changed.name} replaced, rebuild again")
    again = run_worker(["e2e", "--corpus", str(inbox), "--dir", str(repo)], env=env)
    return {"rows": rows, "changed_file": changed.name, "full": full, "incremental": again}


def machine() -> dict[str, object]:
    mem_kib = 0
    with open("/proc/meminfo", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    cpu = ""
    with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git": subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip(),
        "code": code_version(),
    }


def code_version() -> str:
    """The product's commit, and whether its files had uncommitted changes when the figures were taken."""

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True).stdout.strip()

    dirty = [line[3:] for line in git("status", "--porcelain", "--", "pipelines", "schemas").splitlines()]
    return git("rev-parse", "--short", "HEAD") + (
        f" + uncommitted changes in {len(dirty)} product files" if dirty else ""
    )


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------


def _n(rows: int | str) -> str:
    rows = int(rows)
    if rows >= 1_000_000 and rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    if rows >= 1000 and rows % 1000 == 0:
        return f"{rows // 1000}k"
    return str(rows)


def _load(values: list[float]) -> str:
    return "/".join(f"{v:.1f}" for v in values)


def _f(value: object, digits: int = 1) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def consolidation_ratio(stages: dict[str, dict]) -> tuple[float | None, str, str]:
    """time(largest) / time(size ten times smaller): 1M/100k when both ran."""
    sizes = sorted(
        int(s) for s, r in stages.items() if "consolidation" in r and "wall_s" in r["consolidation"]
    )
    pairs = [(b, a) for b in sizes for a in sizes if b == 10 * a]
    if not pairs:
        return None, "", ""
    big, small = max(pairs)
    ratio = stages[str(big)]["consolidation"]["wall_s"] / stages[str(small)]["consolidation"]["wall_s"]
    return ratio, _n(big), _n(small)


def render(results: dict[str, object]) -> str:
    """The figures as Markdown (RESULTS.md) — also printed."""
    lines: list[str] = []
    add = lines.append
    m = results["machine"]
    add("# Benchmark results")
    add("")
    add(
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB RAM, Python {m['python']}, {m['git']}. "
        "The 2 cores are shared with other sessions: the load average is given per section, and CPU time is "
        "the steadier figure."
    )
    add("")
    add("| section | sizes | command | code | minutes | load average (1/5/15 min) before → after |")
    add("|---|---|---|---|---:|---|")
    for run in results.get("runs") or []:
        sizes = ", ".join(_n(x) for x in run.get("sizes") or [])
        add(
            f"| {run['section']} | {sizes} | `{run['command']}` | {run.get('code', '')} | {run['minutes']} "
            f"| {_load(run['load_start'])} → {_load(run['load_end'])} |"
        )
    add("")
    add(
        "Corpus: benchmarks.corpus, one department workbook per ~100 rows (10k rows = 100 workbooks), "
        "~1% deliberately bad rows, 6% reworded duplicates, a long tail of project-specific names."
    )
    stages = results.get("stages") or {}
    if stages:
        add("")
        add("## Pipeline stages (step functions, one fresh process per size)")
        add("")
        add("Peak RSS is the stage's own window (VmHWM reset before it), resident input included.")
        add("")
        add("| rows | workbooks | stage | wall s | CPU s | rows/s | peak RSS MiB |")
        add("|---:|---:|---|---:|---:|---:|---:|")
        for size, r in stages.items():
            if "error" in r:
                add(f"| {_n(size)} | | **failed** ({r['error']}) | | | | |")
                continue
            for s in r["stages"]:
                add(
                    f"| {_n(size)} | {r['workbooks']:,} | {s['stage']} | {_f(s['wall_s'], 2)} | {_f(s['cpu_s'], 2)} "
                    f"| {_f(s['rows_per_s'], 0)} | {_f(s['peak_mib'], 0)} |"
                )
            total = sum(s["wall_s"] for s in r["stages"])
            add(
                f"| {_n(size)} | | **all stages** | **{_f(total, 1)}** | {_f(sum(s['cpu_s'] for s in r['stages']), 1)} "
                f"| {_f(r['rows'] / total, 0)} | {_f(r['peak_mib_process'], 0)} (process) |"
            )
        add("")
        add("Row accounting and library size per run:")
        add("")
        add("| rows | read | library | noncore | excluded | rejected | indicators | merge candidates |")
        add("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for size, r in stages.items():
            if "error" not in r:
                a = r["accounting"]
                add(
                    f"| {_n(size)} | {a['read']:,} | {a['library']:,} | {a['noncore']:,} | {a['excluded']:,} "
                    f"| {a['rejected']:,} | {r['indicators']:,} | {r['candidates']:,} |"
                )
        add("")
        add(
            "### Consolidation alone (normalize + consolidate, fresh process holding only the validated rows)"
        )
        add("")
        add(
            "| rows | accepted rows | indicators | wall s | CPU s | rows/s | peak RSS MiB | of which input MiB |"
        )
        add("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for size, r in stages.items():
            c = r.get("consolidation") or {}
            if "wall_s" in c:
                add(
                    f"| {_n(size)} | {c['accepted']:,} | {c['indicators']:,} | {_f(c['wall_s'], 2)} | {_f(c['cpu_s'], 2)} "
                    f"| {_f(c['rows_per_s'], 0)} | {_f(c['peak_mib'], 0)} | {_f(c['input_mib'], 0)} |"
                )
        ratio, big, small = consolidation_ratio(stages)
        if ratio is not None:
            add("")
            add("```")
            add(f"consolidation {big}/{small} = {ratio:.2f}")
            add("```")
        add("")
        add(_scaling_table(stages))
    e2e = results.get("e2e") or {}
    if e2e:
        add("")
        add("## End to end: `run_rebuild` (the Dagster job in-process, as `indicators rebuild`), fresh repo")
        add("")
        add("| rows | wall s | CPU s | + process start/imports s | peak RSS MiB | outcome |")
        add("|---:|---:|---:|---:|---:|---|")
        for size, r in e2e.items():
            if "wall_s" not in r:
                add(f"| {_n(size)} | | | | | failed: {r.get('error')} |")
                continue
            ok = "ok" if r["success"] else f"FAILED {r['errors'] or r['failed_checks']}"
            add(
                f"| {_n(size)} | {_f(r['wall_s'], 1)} | {_f(r['cpu_s'], 1)} | {_f(r['process_s'] - r['wall_s'], 1)} "
                f"| {_f(r['peak_mib'], 0)} | {ok}; {r['changes']} |"
            )
    inc = results.get("incremental")
    if inc and "wall_s" in inc.get("full", {}) and "wall_s" in inc.get("incremental", {}):
        full, again = inc["full"], inc["incremental"]
        add("")
        add(f"## Incremental rebuild ({_n(inc['rows'])} rows, one workbook replaced: {inc['changed_file']})")
        add("")
        add("| run | wall s | CPU s | parsed | from cache | outcome |")
        add("|---|---:|---:|---:|---:|---|")
        for label, r in (("full rebuild (cold cache)", full), ("after one changed workbook", again)):
            add(
                f"| {label} | {_f(r['wall_s'], 1)} | {_f(r['cpu_s'], 1)} | {r.get('parsed', '–')} | {r.get('from_cache', '–')} "
                f"| {r['published'].get('tag', '')} {r['changes']} |"
            )
        add("")
        add(f"incremental / full = {again['wall_s'] / full['wall_s']:.2f}")
    base = results.get("baselines")
    if base:
        from benchmarks.baselines import render_baselines

        add("")
        add(render_baselines(base))
    growth = results.get("growth")
    if growth:
        from benchmarks.git_growth import render_growth

        add("")
        add(render_growth(growth))
    add("")
    add(_targets(results))
    return "\n".join(lines) + "\n"


def _scaling_table(stages: dict[str, dict]) -> str:
    """Per stage: time ratio between consecutive sizes against the row ratio (>1.2× the row ratio: super-linear)."""
    sizes = sorted(int(s) for s, r in stages.items() if "stages" in r)
    if len(sizes) < 2:
        return ""
    lines = ["### Scaling (time ratio between sizes; linear = the row ratio)", ""]
    head = "| stage | " + " | ".join(f"{_n(b)}/{_n(a)} (rows ×{b / a:g})" for a, b in pairwise(sizes)) + " |"
    lines += [head, "|---|" + "---:|" * (len(sizes) - 1)]
    for stage in [*STAGES, "consolidation"]:
        cells = []
        for a, b in pairwise(sizes):
            ta, tb = _stage_time(stages[str(a)], stage), _stage_time(stages[str(b)], stage)
            if ta and tb:
                ratio = tb / ta
                flag = " ⚠" if ratio > 1.2 * (b / a) else ""
                cells.append(f"{ratio:.1f}{flag}")
            else:
                cells.append("–")
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    lines += ["", "⚠ = grows faster than the rows (more than 1.2 × the row ratio)."]
    return "\n".join(lines)


def _stage_time(result: dict, stage: str) -> float | None:
    if stage == "consolidation":
        return (result.get("consolidation") or {}).get("wall_s")
    return next((s["wall_s"] for s in result.get("stages", []) if s["stage"] == stage), None)


def _targets(results: dict[str, object]) -> str:
    """The issue's targets, each marked met / missed / not measured."""
    lines = ["## Targets (2-core machine)", "", "| target | measured | met |", "|---|---|---|"]

    def row(target: str, measured: str | None, ok: bool | None) -> None:
        """measured None: the section was not run (met: –)."""
        met = "–" if ok is None or measured is None else "yes" if ok else "**no**"
        lines.append(f"| {target} | {measured or 'not run'} | {met} |")

    e2e = results.get("e2e") or {}
    city = e2e.get(str(CITY_ROWS), {})
    ran = "wall_s" in city
    row(
        "city 10k rows, ~100 workbooks: full rebuild < 30 s, Dagster included",
        f"{city['process_s']:.1f} s (process)" if ran else None,
        ran and city["process_s"] < CITY_SECONDS and city["success"],
    )
    prov = e2e.get(str(PROVINCE_ROWS), {})
    ran = "wall_s" in prov
    row(
        "province 300k rows: < 5 min, peak < 4 GiB",
        f"{prov['process_s']:.0f} s, {prov['peak_mib']:,.0f} MiB" if ran else None,
        ran and prov["process_s"] < PROVINCE_SECONDS and prov["peak_mib"] < PROVINCE_MIB and prov["success"],
    )
    stages = results.get("stages") or {}
    ratio, big, small = consolidation_ratio(stages)
    row(
        "consolidation time 1M / 100k ≤ 12",
        f"{big}/{small} = {ratio:.2f}" if ratio is not None else None,
        None if ratio is None or (big, small) != ("1M", "100k") else ratio <= CONSOLIDATION_RATIO,
    )
    million = (stages.get("1000000") or {}).get("consolidation") or {}
    ran = "wall_s" in million
    row(
        "1M rows consolidated < 60 s and < 2 GiB",
        f"{million['wall_s']:.1f} s, {million['peak_mib']:,.0f} MiB" if ran else None,
        ran and million["wall_s"] < MILLION_SECONDS and million["peak_mib"] < MILLION_MIB,
    )
    growth = results.get("growth") or {}
    if growth.get("releases"):
        ok = growth.get("unchanged_add_zero")
        row(
            "10 releases × 100k rows, 5% churn: growth ≤ changed partitions; unchanged partition adds 0 bytes",
            growth.get("verdict", ""),
            ok,
        )
    return "\n".join(lines)


def write_results(path: Path, text: str) -> None:
    notes = ""
    if path.exists():
        old = path.read_text(encoding="utf-8")
        if NOTES_MARK in old:
            notes = old[old.index(NOTES_MARK) :]
    path.write_text(text + ("\n" + notes if notes else "\n" + NOTES_MARK + "\n"), encoding="utf-8")


# --------------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------------


def _sizes(text: str) -> list[int]:
    return [int(float(s)) for s in text.split(",") if s.strip()]


def _section_sizes(section: str, sizes: list[int], e2e_sizes: list[int]) -> list[int]:
    return sizes if section == "stages" else e2e_sizes if section == "e2e" else []


def _growth(work: Path, rows: int, years: int) -> object:
    from benchmarks.git_growth import run_growth

    return run_growth(work, rows=rows, years=years)


def _baselines(work: Path, quick: bool) -> object:
    from benchmarks.baselines import run_baselines

    return run_baselines(work, quick=quick, corpus_for=lambda rows: corpus_for(work, rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="指标库基准测试：各规模流水线、同类工具对比、十年 git 增长")
    parser.add_argument(
        "--sizes", type=_sizes, default=None, help="分阶段计时的行数（默认 10000,100000,1000000）"
    )
    parser.add_argument(
        "--e2e-sizes", type=_sizes, default=None, help="Dagster 端到端的行数（默认 10000,100000,300000）"
    )
    parser.add_argument("--quick", action="store_true", help="小规模快速运行（检查基准本身）")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"只运行其中几部分：{','.join(SECTIONS)}")
    parser.add_argument(
        "--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "indicators-bench"
    )
    parser.add_argument(
        "--profile", action="store_true", help="每个阶段写 cProfile 结果（<work>/stages-N/profile/）"
    )
    parser.add_argument("--growth-rows", type=int, default=None, help="git 增长测试的行数（默认 100000）")
    parser.add_argument("--growth-years", type=int, default=None, help="git 增长测试的年度数（默认 10）")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    parser.add_argument("--no-results", action="store_true", help="不写 RESULTS.md")
    # worker mode (one measurement in this fresh process)
    parser.add_argument("--worker", choices=("stages", "consolidation", "e2e"), help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--year", type=int, default=YEAR, help=argparse.SUPPRESS)
    parser.add_argument("--repo", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        if args.worker == "stages":
            out = stages_worker(args.corpus, args.dir, args.year, args.profile, args.repo)
        elif args.worker == "consolidation":
            out = consolidation_worker(args.dir, YEAR)
        else:
            out = e2e_worker(args.corpus, args.dir, args.year)
        print(json.dumps(out, ensure_ascii=False, default=str))
        return 0

    quick = args.quick
    sizes = args.sizes or ([2_000, 20_000] if quick else [10_000, 100_000, 1_000_000])
    e2e_sizes = args.e2e_sizes or ([2_000] if quick else [10_000, 100_000, 300_000])
    growth_rows = args.growth_rows or (10_000 if quick else 100_000)
    growth_years = args.growth_years or (3 if quick else 10)
    only = [s for s in args.only.split(",") if s]
    unknown = sorted(set(only) - set(SECTIONS))
    if unknown:
        parser.error(f"未知的部分：{unknown}")
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    results_json = work / "results.json"
    results: dict[str, object] = json.loads(results_json.read_text()) if results_json.exists() else {}
    started = time.perf_counter()
    results.update(
        command="python -m benchmarks.run " + shlex.join(argv if argv is not None else sys.argv[1:]),
        machine=machine(),
        load_start=loadavg(),
    )
    # Sections not asked for this time keep their figures from the previous run (results.json); each
    # section records how and under what load it ran.
    runs = results.setdefault("runs", [])
    jobs: dict[str, Callable[[], object]] = {
        "stages": lambda: run_stages(work, sizes, args.profile),
        "e2e": lambda: run_e2e(work, e2e_sizes),
        "incremental": lambda: run_incremental(work, min(e2e_sizes)),
        "growth": lambda: _growth(work, growth_rows, growth_years),
        "baselines": lambda: _baselines(work, quick),
    }
    for section in SECTIONS:
        if section not in only:
            continue
        load, began = loadavg(), time.perf_counter()
        figures = jobs[section]()
        if section in ("stages", "e2e") and isinstance(results.get(section), dict):
            results[section] = {**results[section], **figures}  # type: ignore[dict-item]  # per size
            results[section] = dict(sorted(results[section].items(), key=lambda kv: int(kv[0])))  # type: ignore[union-attr]
        else:
            results[section] = figures
        done = set(_section_sizes(section, sizes, e2e_sizes))
        # an earlier run of this section whose sizes were all run again is no longer behind any figure
        runs[:] = [r for r in runs if not (r["section"] == section and set(r.get("sizes") or []) <= done)]
        runs.append(
            {
                "section": section,
                "sizes": _section_sizes(section, sizes, e2e_sizes),
                "command": results["command"],
                "code": results["machine"]["code"],  # type: ignore[index]
                "load_start": load,
                "load_end": loadavg(),
                "minutes": round((time.perf_counter() - began) / 60, 1),
            }
        )
        results_json.write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str) + "\n")
    results["load_end"] = loadavg()
    results["total_s"] = time.perf_counter() - started
    results_json.write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str) + "\n")
    text = render(results)
    print(text)
    if not args.no_results:
        write_results(args.results, text)
        log(f"wrote {args.results} and {results_json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
