"""The benchmark's figures as Markdown (benchmarks/RESULTS.md, also printed) and the issue's targets."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

# pipelines.rebuild.run's steps, as it names them to the timer
STAGES = (
    "list",
    "read",
    "load_previous",
    "validate",
    "feedback",
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
    lines = _header(results)
    stages = results.get("stages") or {}
    if stages:
        lines += _stage_rows(stages) + _consolidation(stages)  # type: ignore[arg-type]
    e2e = results.get("e2e") or {}
    if e2e:
        lines += _end_to_end(e2e)  # type: ignore[arg-type]
    inc = results.get("incremental")
    if inc and "wall_s" in inc.get("full", {}) and "wall_s" in inc.get("incremental", {}):  # type: ignore[attr-defined]
        lines += _incremental(inc)  # type: ignore[arg-type]
    base = results.get("baselines")
    if base:
        from benchmarks.baselines_report import render_baselines

        lines += ["", render_baselines(base)]
    growth = results.get("growth")
    if growth:
        from benchmarks.git_growth import render_growth

        lines += ["", render_growth(growth)]
    lines += ["", _targets(results)]
    return "\n".join(lines) + "\n"


def _header(results: dict[str, object]) -> list[str]:
    """Machine, the runs behind the figures, the corpus."""
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
    return lines


def _stage_rows(stages: dict[str, dict]) -> list[str]:
    """Per size: every step of pipelines.rebuild.run, then the row accounting."""
    lines: list[str] = []
    add = lines.append
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
    return lines


def _consolidation(stages: dict[str, dict]) -> list[str]:
    """Consolidation alone per size, its 1M/100k ratio, and how each step scales."""
    lines: list[str] = []
    add = lines.append
    add("")
    add("### Consolidation alone (normalize + consolidate, fresh process holding only the validated rows)")
    add("")
    add("| rows | accepted rows | indicators | wall s | CPU s | rows/s | peak RSS MiB | of which input MiB |")
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
    return lines


def _end_to_end(e2e: dict[str, dict]) -> list[str]:
    """The Dagster job in-process, per size."""
    lines: list[str] = []
    add = lines.append
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
    return lines


def _incremental(inc: dict[str, dict]) -> list[str]:
    """A full rebuild, then one changed workbook."""
    lines: list[str] = []
    add = lines.append
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
    return lines


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
