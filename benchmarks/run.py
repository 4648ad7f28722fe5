"""The benchmark: the whole pipeline at several sizes, serial and parallel, this code beside the previous
commit's, the peers side by side, git growth over ten releases; the issue's targets, met or not.

    python -m benchmarks.run [--sizes 10000,100000,1000000] [--e2e-sizes …] [--quick] [--only stages,e2e,...]
                             [--compare REV|none] [--repeat N]

Sections (each measurement in a fresh process, benchmarks/workers.py, so its memory is its own):
  stages       pipelines.rebuild.run, its steps one after another as it names them to its StepRunner (list
               → read → … → report → publish, whatever the code at hand calls; the blocking checks included,
               the parse cache left out), per step: wall, CPU, rows/s, peak RSS (VmHWM, reset before each
               step through /proc/self/clear_refs, so a step's peak is its own, resident input included).
               Then `consolidation` alone (normalize + consolidate) in a process that only loaded the
               validated rows.
  e2e          `run_rebuild` — the Dagster job, exactly what `indicators rebuild` runs — on a fresh repo:
               wall (process start and imports apart), peak memory of the whole process tree.
  incremental  the city inbox rebuilt again after one workbook changed (parse cache warm), vs the full run.
  baselines    benchmarks.baselines: calamine vs openpyxl; dedupe vs all-pairs rapidfuzz on 20,000 rows;
               dedupe vs Splink (DuckDB) on the labelled pairs and the 100k corpus; diff vs daff.
  growth       benchmarks.git_growth: ten annual releases of a 100k-row library with 5% churn, as
               `indicators rebuild` commits them (library/ and reports/), the repo measured after each.

Side by side (stages and e2e): every size runs serial (workers=1; e2e: the in-process executor) and with the
product's automatic worker count (workers=None; e2e: executor "auto") — an option passed only when the
code's function takes it —, on this code and on --compare REV (default: the previous commit — HEAD when
pipelines/ or schemas/ have uncommitted changes, else HEAD~1; `none` to skip), a git worktree of REV in
--work with PYTHONPATH at it, removed at the end. Old and new runs alternate (the order flips each of the
--repeat rounds; each figure is the minimum of its rounds), so new/old is a ratio taken on the same
machine at the same time. Memory: the process tree's peak (sum of the processes' PSS, sampled every 0.5 s).

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
from benchmarks.sides import NEW, Code, old_code, remove_worktree, run_worker

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


def dagster_home(path: Path) -> Path:
    """A fresh DAGSTER_HOME with telemetry off (nothing leaves the machine)."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    (path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    return path


# Serial, then the product's automatic worker count; a side whose code takes no `workers` runs serial only.
VARIANTS = (("serial", "1"), ("auto", "auto"))


def measure_sides(
    kind: str,
    rows: int,
    sides: list[Code],
    repeat: int,
    args_for: Callable[[Code, str], tuple[list[str], dict]],
) -> dict[str, dict[str, list[dict]]]:
    """Every variant on every side, `repeat` times, old and new alternated (the order flips each round),
    so a ratio is taken on the same machine under the same load. side → variant → runs."""
    runs: dict[str, dict[str, list[dict]]] = {code.side: {} for code in sides}
    for round_ in range(repeat):
        for variant, _workers in VARIANTS:
            for code in sides if round_ % 2 == 0 else sides[::-1]:
                serial = runs[code.side].get("serial") or [{}]
                if variant != "serial" and serial[0].get("workers_supported") is False:
                    continue  # this code has no parallel run
                log(f"{kind} {rows:,} rows: {code.side} ({code.label}), {variant}, run {round_ + 1}/{repeat}")
                args, env = args_for(code, variant)
                runs[code.side].setdefault(variant, []).append(run_worker(args, env=env, code=code))
    return runs


def best(runs: list[dict]) -> dict:
    """The fastest successful run (by total wall), its steps' times replaced by each step's minimum over
    the runs; the run count kept. A failed run only when all failed."""
    ok = [r for r in runs if "error" not in r and r.get("success", True)]
    if not ok:
        return {**runs[0], "runs": len(runs)}
    top = dict(min(ok, key=lambda r: r["wall_s"]))
    if "stages" in top:
        steps: dict[str, dict] = {}
        for run in ok:
            for s in run["stages"]:
                held = steps.get(s["stage"])
                steps[s["stage"]] = s if held is None or s["wall_s"] < held["wall_s"] else held
        top["stages"] = [steps[s["stage"]] for s in top["stages"]]
    top["runs"] = len(ok)
    top["tree_peak_mib"] = min(r.get("tree_peak_mib", 0) for r in ok)
    return top


def _slim(run: dict) -> dict:
    keep = ("error", "success", "workers", "executor", "runs", "wall_s", "cpu_s", "process_s", "import_s")
    keep += ("peak_mib", "tree_peak_mib", "tree_processes", "stages")
    return {k: run[k] for k in keep if k in run}


def side_by_side(runs: dict[str, dict[str, list[dict]]], old: Code | None) -> tuple[dict, dict]:
    """(the main figure — this code, automatic workers, else serial —, every side and variant slimmed)."""
    chosen = {side: {v: best(r) for v, r in variants.items()} for side, variants in runs.items()}
    new = chosen["new"]
    main = new.get("auto") if "error" not in new.get("auto", {"error": 1}) else new["serial"]
    variants = {side: {v: _slim(r) for v, r in by.items()} for side, by in chosen.items()}
    compare = {"old": old.label, "rev": old.rev} if old else {}
    return dict(main), {"variants": variants, "compare": compare}


def run_stages(
    work: Path, sizes: list[int], profile: bool, old: Code | None, repeat: int
) -> dict[str, object]:
    out: dict[str, object] = {}
    sides = [old, NEW] if old else [NEW]
    for rows in sizes:
        corpus = corpus_for(work, rows)

        def args_for(
            code: Code, variant: str, rows: int = rows, corpus: Path = corpus
        ) -> tuple[list[str], dict]:
            folder = work / f"stages-{rows}-{code.side}-{variant}"
            args = [
                "stages",
                "--corpus",
                str(corpus),
                "--dir",
                str(folder),
                "--workers",
                dict(VARIANTS)[variant],
            ]
            return args + (["--profile"] if profile and code.side == "new" else []), {}

        runs = measure_sides("stages", rows, sides, repeat, args_for)
        main, extra = side_by_side(runs, old)
        if "error" not in main:
            log(f"consolidation alone {rows:,} rows")
            serial_dir = work / f"stages-{rows}-new-serial"
            main["consolidation"] = run_worker(["consolidation", "--dir", str(serial_dir)])
        out[str(rows)] = {**main, **extra}
    return out


def run_e2e(work: Path, sizes: list[int], old: Code | None, repeat: int) -> dict[str, object]:
    out: dict[str, object] = {}
    sides = [old, NEW] if old else [NEW]
    for rows in sizes:
        corpus = corpus_for(work, rows)

        def args_for(
            code: Code, variant: str, rows: int = rows, corpus: Path = corpus
        ) -> tuple[list[str], dict]:
            repo = work / f"e2e-{rows}-{code.side}-{variant}"
            shutil.rmtree(repo, ignore_errors=True)
            home = dagster_home(work / f"dagster-home-{rows}-{code.side}-{variant}")
            executor = "in_process" if variant == "serial" else "auto"
            args = ["e2e", "--corpus", str(corpus), "--dir", str(repo), "--workers", dict(VARIANTS)[variant]]
            return [*args, "--executor", executor], {"DAGSTER_HOME": str(home)}

        runs = measure_sides("e2e", rows, sides, repeat, args_for)
        main, extra = side_by_side(runs, old)
        out[str(rows)] = {**main, **extra}
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
    args = ["e2e", "--corpus", str(inbox), "--dir", str(repo), "--workers", "auto"]
    full = run_worker(args, env=env)
    params, corpus = load_corpus(inbox)  # type: ignore[misc]
    index = len(corpus.files) // 2
    changed = rewrite_department(inbox, index)
    log(f"incremental {rows:,} rows: {changed.name} replaced, rebuild again")
    again = run_worker(args, env=env)
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
    parser.add_argument(
        "--compare",
        default=None,
        help="与哪个提交并排比较（默认上一个提交；none 不比较）：在工作目录建 git worktree，新旧交替运行",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="每个规模、每种运行方式重复几次，取最小值（默认 1）"
    )
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    parser.add_argument("--no-results", action="store_true", help="不写 RESULTS.md")
    return parser


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
    compared = {"stages", "e2e"} & set(only)
    old = old_code(args.compare, work) if compared else None
    repeat = max(1, args.repeat)
    # Sections not asked for this time keep their figures from the previous run (results.json).
    jobs: dict[str, Callable[[], object]] = {
        "stages": lambda: run_stages(work, sizes, args.profile, old, repeat),
        "e2e": lambda: run_e2e(work, e2e_sizes, old, repeat),
        "incremental": lambda: run_incremental(work, min(e2e_sizes)),
        "growth": lambda: _growth(work, growth_rows, growth_years),
        "baselines": lambda: _baselines(work, quick),
    }
    try:
        _run_sections(results, jobs, only, sizes, e2e_sizes, results_json)
    finally:
        if old is not None:
            remove_worktree(old.root)
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
