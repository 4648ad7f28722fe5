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
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.results import render, write_results
from benchmarks.workers import consolidation_worker, e2e_worker, stages_worker

ROOT = Path(__file__).resolve().parents[1]
YEAR = 2026
ROWS_PER_WORKBOOK = 100
SECTIONS = ("stages", "e2e", "incremental", "growth", "baselines")


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


def _parser() -> argparse.ArgumentParser:
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
    return parser


def _worker(args: argparse.Namespace) -> int:
    """One measurement in this fresh process; its figures are the last stdout line (JSON)."""
    if args.worker == "stages":
        out = stages_worker(args.corpus, args.dir, args.year, args.profile, args.repo)
    elif args.worker == "consolidation":
        out = consolidation_worker(args.dir, YEAR)
    else:
        out = e2e_worker(args.corpus, args.dir, args.year)
    print(json.dumps(out, ensure_ascii=False, default=str))
    return 0


def _run_sections(
    results: dict[str, object],
    jobs: dict[str, Callable[[], object]],
    only: list[str],
    sizes: list[int],
    e2e_sizes: list[int],
    results_json: Path,
) -> None:
    """Run the sections asked for; each records how and under what load it ran (results["runs"])."""
    runs = results.setdefault("runs", [])
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


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.worker:
        return _worker(args)
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
    # Sections not asked for this time keep their figures from the previous run (results.json).
    jobs: dict[str, Callable[[], object]] = {
        "stages": lambda: run_stages(work, sizes, args.profile),
        "e2e": lambda: run_e2e(work, e2e_sizes),
        "incremental": lambda: run_incremental(work, min(e2e_sizes)),
        "growth": lambda: _growth(work, growth_rows, growth_years),
        "baselines": lambda: _baselines(work, quick),
    }
    _run_sections(results, jobs, only, sizes, e2e_sizes, results_json)
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
