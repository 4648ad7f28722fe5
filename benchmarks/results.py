"""The benchmark's figures as Markdown (benchmarks/RESULTS.md, also printed) and the issue's targets."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

NOTES_MARK = "<!-- notes -->"
MISSING = "—"  # a step or a run one side does not have
# The targets of issue 15 (2-core machine).
CITY_ROWS, CITY_SECONDS = 10_000, 6.0
PROVINCE_ROWS, PROVINCE_SECONDS, PROVINCE_MIB = 300_000, 60.0, 3 * 1024.0
MILLION_ROWS, MILLION_SECONDS, MILLION_MIB = 1_000_000, 300.0, 4 * 1024.0
REPORT_SHARE = 0.15
GROWTH_MIB_PER_100K = 3.0
STAGE_RATIO = 11.0  # 1M / 100k, every step


def step_names(runs: list[dict]) -> list[str]:
    """The steps in the order the runs named them (each run's StepRunner calls); a step only a later run
    has goes right after the step it follows in that run."""
    names: list[str] = []
    for run in runs:
        before = -1
        for s in run.get("stages") or []:
            if s["stage"] not in names:
                names.insert(before + 1, s["stage"])
            before = names.index(s["stage"])
    return names


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
    e2e = results.get("e2e") or {}
    if stages or e2e:
        lines += side_by_side(stages, e2e)  # type: ignore[arg-type]
    if stages:
        lines += _stage_rows(stages) + _consolidation(stages)  # type: ignore[arg-type]
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
    add(
        "## Pipeline stages (this code, its automatic worker count where it has one; one fresh process per size)"
    )
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
    for stage in [*step_names([stages[str(n)] for n in sizes]), "consolidation"]:
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


def _ratio(new: float | None, old: float | None) -> str:
    return f"{new / old:.2f}" if new and old else MISSING


def _secs(value: float | None) -> str:
    return MISSING if value is None else f"{value:,.2f}"


def _step_time(run: dict | None, step: str) -> float | None:
    if not run or "stages" not in run:
        return None
    return next((s["wall_s"] for s in run["stages"] if s["stage"] == step), None)


def _mib(value: float | None) -> str:
    return MISSING if value is None else f"{value:,.0f}"


def _memory(run: dict) -> float | None:
    """The whole process tree's peak (a pool's workers included), else the process's own."""
    return run.get("tree_peak_mib") or run.get("peak_mib")


def _compare_note(figures: dict[str, dict]) -> str:
    sample = next((r for r in figures.values() if r.get("variants")), {})
    old = (sample.get("compare") or {}).get("old")
    new = sample.get("variants", {}).get("new", {})
    runs = max((v.get("runs", 1) for v in new.values()), default=1)
    workers = (new.get("auto") or {}).get("workers", MISSING)
    against = f"old = {old}" if old else "no old code (--compare none)"
    return (
        f"{against}; new = this code. serial = workers 1 (e2e: in-process executor); auto = the code's own "
        f"worker count ({workers}). Each figure the minimum of {runs} run(s), old and new alternated. "
        f"{MISSING} = the step or run does not exist on that side."
    )


def side_by_side(stages: dict[str, dict], e2e: dict[str, dict]) -> list[str]:
    """Serial vs parallel, old vs new, per step (stages) and end to end (the Dagster job)."""
    lines = ["", "## Side by side: serial vs parallel, old vs new (wall seconds)", ""]
    with_variants = {size: r for size, r in stages.items() if r.get("variants")}
    e2e_variants = {size: r for size, r in e2e.items() if r.get("variants")}
    if not with_variants and not e2e_variants:
        return []
    lines += [_compare_note({**e2e_variants, **with_variants}), ""]  # the stages name the worker count
    if with_variants:
        lines += [
            "| rows | step | serial old | serial new | new/old | auto old | auto new | new/old | new auto/serial |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for size, result in with_variants.items():
            lines += _stage_pairs(size, result["variants"])
    if e2e_variants:
        lines += [
            "",
            "End to end (`run_rebuild`, the Dagster job; process start and imports apart; memory: the process "
            "tree's peak, MiB):",
            "",
            "| rows | run | old s | new s | new/old | old MiB | new MiB | new/old |",
            "|---:|---|---:|---:|---:|---:|---:|---:|",
        ]
        for size, result in e2e_variants.items():
            for variant in ("serial", "auto"):
                old = result["variants"].get("old", {}).get(variant) or {}
                new = result["variants"].get("new", {}).get(variant) or {}
                label = f"{variant} ({new.get('workers', old.get('workers', MISSING))})"
                lines.append(
                    f"| {_n(size)} | {label} | {_secs(old.get('wall_s'))} | {_secs(new.get('wall_s'))} "
                    f"| {_ratio(new.get('wall_s'), old.get('wall_s'))} | {_mib(_memory(old))} "
                    f"| {_mib(_memory(new))} | {_ratio(_memory(new), _memory(old))} |"
                )
    return lines


def _stage_pairs(size: str, variants: dict[str, dict]) -> list[str]:
    old, new = variants.get("old", {}), variants.get("new", {})
    runs = [old.get("serial"), new.get("serial"), old.get("auto"), new.get("auto")]
    w = [(r or {}).get("workers", MISSING) for r in runs]
    lines = [f"| {_n(size)} | workers | {w[0]} | {w[1]} | | {w[2]} | {w[3]} | | |"]
    for step in step_names([r for r in (runs[1], runs[3], runs[0], runs[2]) if r]):  # this code's order first
        t = [_step_time(r, step) for r in runs]
        lines.append(
            f"| {_n(size)} | {step} | {_secs(t[0])} | {_secs(t[1])} | {_ratio(t[1], t[0])} | {_secs(t[2])} "
            f"| {_secs(t[3])} | {_ratio(t[3], t[2])} | {_ratio(t[3], t[1])} |"
        )
    total = [r.get("wall_s") if r and "stages" in r else None for r in runs]
    mem = [_memory(r) if r and "stages" in r else None for r in runs]
    lines.append(
        f"| {_n(size)} | **all steps** | {_secs(total[0])} | {_secs(total[1])} | {_ratio(total[1], total[0])} "
        f"| {_secs(total[2])} | {_secs(total[3])} | {_ratio(total[3], total[2])} | {_ratio(total[3], total[1])} |"
    )
    lines.append(
        f"| {_n(size)} | peak MiB (process tree) | {_mib(mem[0])} | {_mib(mem[1])} | {_ratio(mem[1], mem[0])} "
        f"| {_mib(mem[2])} | {_mib(mem[3])} | {_ratio(mem[3], mem[2])} | {_ratio(mem[3], mem[1])} |"
    )
    return lines


def _targets(results: dict[str, object]) -> str:
    """Issue 15's targets: the figure measured and met yes / no; "–" and "not measured" without one."""
    lines = ["## Targets (issue 15, 2-core machine)", "", "| target | measured | met |", "|---|---|---|"]
    for target, measured, ok in target_rows(results):
        met = "–" if ok is None or measured is None else "yes" if ok else "**no**"
        lines.append(f"| {target} | {measured or 'not measured'} | {met} |")
    return "\n".join(lines)


Row = tuple[str, str | None, bool | None]


def target_rows(results: dict[str, object]) -> list[Row]:
    e2e: dict = results.get("e2e") or {}  # type: ignore[assignment]
    stages: dict = results.get("stages") or {}  # type: ignore[assignment]
    return [
        _end_to_end_target(
            "province 300k rows end to end < 60 s and < 3 GiB peak",
            e2e.get(str(PROVINCE_ROWS)),
            PROVINCE_SECONDS,
            PROVINCE_MIB,
        ),
        _city_target(e2e.get(str(CITY_ROWS))),
        _end_to_end_target(
            "1M rows end to end < 5 min and < 4 GiB peak",
            e2e.get(str(MILLION_ROWS)),
            MILLION_SECONDS,
            MILLION_MIB,
        ),
        _report_share(stages),
        _growth_target(results.get("growth") or {}),  # type: ignore[arg-type]
        _stage_ratio_target(stages),
    ]


def _ok_run(run: dict | None) -> bool:
    return bool(run) and "wall_s" in run and bool(run.get("success"))  # type: ignore[union-attr]


def _end_to_end_target(label: str, run: dict | None, seconds: float, mib: float) -> Row:
    """Whole process (start and imports included) and its tree's peak memory, automatic workers."""
    if not _ok_run(run):
        return label, None, None
    assert run is not None
    took, memory = run["process_s"], _memory(run) or 0.0
    measured = f"{took:.1f} s (process; {run['wall_s']:.1f} s without imports), {memory:,.0f} MiB"
    return label, measured, took < seconds and memory < mib


def _city_target(run: dict | None) -> Row:
    label = "city 10k rows < 6 s (imports apart)"
    if not _ok_run(run):
        return label, None, None
    assert run is not None
    return (
        label,
        f"{run['wall_s']:.1f} s ({run['process_s']:.1f} s with the process start)",
        run["wall_s"] < CITY_SECONDS,
    )


def _report_share(stages: dict[str, dict]) -> Row:
    """The report step's share of all steps (pipelines.rebuild.run timed step by step), every size."""
    label = "report < 15 % of end to end at every size"
    shares = {}
    for size, run in stages.items():
        report = sum(s["wall_s"] for s in run.get("stages") or [] if s["stage"].startswith("report"))
        if run.get("stages") and report:
            shares[size] = report / run["wall_s"]
    if not shares:
        return label, None, None
    measured = ", ".join(f"{_n(size)} {share:.0%}" for size, share in shares.items()) + " (of all steps)"
    return label, measured, all(share < REPORT_SHARE for share in shares.values())


def _growth_target(growth: dict) -> Row:
    """Mean packed growth per release after the first, on the ten-release 100k run only."""
    label = "repo grows ≤ 3 MiB per 100k-row release (ten-release growth run)"
    per = growth.get("packed_mib_per_release")
    if per is None:
        return label, None, None
    full = growth.get("rows") == 100_000 and growth.get("years") == 10
    measured = (
        f"{per:.2f} MiB per release (git gc after each; {growth['rows']:,} rows × {growth['years']} releases)"
    )
    return label, measured, (per <= GROWTH_MIB_PER_100K) if full else None


def _stage_ratio_target(stages: dict[str, dict]) -> Row:
    label = "cost linear: 1M/100k ≤ 11 for every stage"
    big, small = stages.get(str(MILLION_ROWS)), stages.get("100000")
    if not big or not small or "stages" not in big or "stages" not in small:
        return label, None, None
    ratios = {}
    for step in step_names([big, small]):
        a, b = _step_time(small, step), _step_time(big, step)
        if a and b:
            ratios[step] = b / a
    worst = max(ratios, key=ratios.__getitem__)
    over = [f"{step} {r:.1f}" for step, r in ratios.items() if r > STAGE_RATIO]
    measured = f"worst {worst} {ratios[worst]:.1f}" + (f"; over 11: {', '.join(over)}" if over else "")
    return label, measured, not over


def write_results(path: Path, text: str) -> None:
    notes = ""
    if path.exists():
        old = path.read_text(encoding="utf-8")
        if NOTES_MARK in old:
            notes = old[old.index(NOTES_MARK) :]
    path.write_text(text + ("\n" + notes if notes else "\n" + NOTES_MARK + "\n"), encoding="utf-8")
