"""The benchmark's tables (benchmarks/results.py) and its worker's plumbing (benchmarks/workers.py), on
figures made up here: steps named by the runs themselves, a step one side lacks shown as —, and a target
never met without a measurement."""

from __future__ import annotations

from benchmarks.results import render, step_names, target_rows
from benchmarks.workers import accepted


def run(steps: dict[str, float], **extra: object) -> dict:
    stages = [
        {"stage": k, "wall_s": v, "cpu_s": v, "rows_per_s": 1.0, "peak_mib": 100.0} for k, v in steps.items()
    ]
    counts = dict.fromkeys(("read", "library", "noncore", "excluded", "rejected"), 1)
    return {
        "stages": stages,
        "wall_s": sum(steps.values()),
        "success": True,
        "tree_peak_mib": 500.0,
        "rows": 100,
        "workbooks": 1,
        "peak_mib_process": 100.0,
        "accounting": counts,
        "indicators": 1,
        "candidates": 0,
        **extra,
    }


def results(stages: dict, e2e: dict | None = None, growth: dict | None = None) -> dict:
    machine = {"cores": 2, "cpu": "x", "memory_gib": 8, "python": "3.11", "git": "git", "code": "abc"}
    return {"machine": machine, "stages": stages, "e2e": e2e or {}, "growth": growth or {}, "runs": []}


def test_steps_come_from_the_runs_and_a_missing_step_is_a_dash() -> None:
    old = run({"read": 4.0, "validate": 2.0, "feedback": 2.0, "report": 1.0})
    new = run({"workbooks": 3.0, "report": 1.0})  # read/validate/feedback merged into one step
    assert step_names([new, old]) == ["read", "validate", "feedback", "workbooks", "report"]
    variants = {
        "old": {"serial": old},
        "new": {"serial": new, "auto": run({"workbooks": 1.5, "report": 1.0})},
    }
    size = {**new, "variants": variants, "compare": {"old": "abc1234", "rev": "abc1234"}}
    text = render(results({"10000": size}))
    rows = {line.split(" | ")[1]: line for line in text.splitlines() if line.startswith("| 10k | ")}
    assert "| 10k | workbooks | — | 3.00 | — | — | 1.50 | — | 0.50 |" in rows["workbooks"]
    assert "| 10k | read | 4.00 | — | — |" in rows["read"]
    assert "| 10k | report | 1.00 | 1.00 | 1.00 | — | 1.00 | — | 1.00 |" in rows["report"]


def test_targets_met_only_with_a_measurement() -> None:
    measured = {label: (figure, ok) for label, figure, ok in target_rows(results({}))}
    assert all(figure is None and ok is None for figure, ok in measured.values())
    assert len(measured) == 6
    text = render(results({}))
    assert "| yes |" not in text and text.count("not measured") == 6
    # 10k end to end in 5 s (imports apart): met; the report at 20 % of the steps: not met.
    city = {"wall_s": 5.0, "process_s": 9.0, "success": True, "peak_mib": 300.0}
    stages = {"10000": run({"read": 4.0, "report": 1.0})}
    rows = {label: (figure, ok) for label, figure, ok in target_rows(results(stages, {"10000": city}))}
    assert rows["city 10k rows < 6 s (imports apart)"][1] is True
    assert rows["report < 15 % of end to end at every size"] == ("10k 20% (of all steps)", False)


def test_growth_target_needs_the_ten_release_100k_run() -> None:
    small = {"rows": 20_000, "years": 4, "packed_mib_per_release": 0.5}
    label = "repo grows ≤ 3 MiB per 100k-row release (ten-release growth run)"
    rows = {lab: (figure, ok) for lab, figure, ok in target_rows(results({}, growth=small))}
    assert rows[label][0] is not None and rows[label][1] is None  # a figure, but not the target's run
    full = {"rows": 100_000, "years": 10, "packed_mib_per_release": 3.5}
    rows = {lab: (figure, ok) for lab, figure, ok in target_rows(results({}, growth=full))}
    assert rows[label][1] is False


def test_options_passed_only_when_the_function_takes_them() -> None:
    def old(year: int, inbox: str, *, finance_dept: str | None = None) -> None: ...

    def new(
        year: int, inbox: str, *, finance_dept: str | None = None, workers: int | None = None
    ) -> None: ...

    def open_ended(year: int, **options: object) -> None: ...

    asked = {"finance_dept": "1", "workers": None}
    assert accepted(old, **asked) == {"finance_dept": "1"}
    assert accepted(new, **asked) == asked
    assert accepted(open_ended, **asked) == asked
