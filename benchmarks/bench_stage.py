"""The normalize, stage and check steps alone, on saved inputs: CPU, wall, peak and the sha256 of every
file the stage step writes.

    .venv/bin/python -m benchmarks.bench_stage save --corpus DIR --work DIR [--year 2026] [--workers N|auto]
    .venv/bin/python -m benchmarks.bench_stage from-report --inputs DIR/report_inputs.pkl --work DIR
    .venv/bin/python -m benchmarks.bench_stage time --work DIR --out DIR [--steps normalize,stage,check]
        [--repeat 3] [--profile DIR]

`save` runs the rebuild's steps on a corpus up to the stage step, pickles what normalize and stage get
(DIR/normalize.pkl: the validated rows and the rules; DIR/stage.pkl: the consolidated tables, the year, the
row accounting, the base commit) and stops there. `from-report` takes the same inputs from a
benchmarks.bench_report save (its ReportInputs hold the tables and the validation). `time` loads them and
runs each step `repeat` times under the rebuild's collector settings (one line per run: CPU, wall, peak),
then prints a JSON line with the minimum CPU per step and the sha256 of every staged file and of the
normalized frame (pickled), so old and new code can be compared on the same inputs (run it from an old
worktree with PYTHONPATH at that worktree).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import bench_report
from benchmarks.workers import FINANCE, _product_gc, _workers_arg

NORMALIZE, STAGE = "normalize.pkl", "stage.pkl"


class _Saved(Exception):
    """Raised once the stage step's inputs are saved: the rebuild stops there."""


def _dump(path: Path, value: Any) -> None:
    with open(path, "wb") as fh:
        pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)


def save(corpus: Path, work: Path, year: int, workers: int | None) -> None:
    import pipelines.rebuild as rebuild

    work.mkdir(parents=True, exist_ok=True)
    real_normalize = rebuild.normalize

    def keep_normalize(validation: Any, rules: Any) -> Any:
        _dump(work / NORMALIZE, {"rows": validation.rows, "rules": rules})
        return real_normalize(validation, rules)

    def keep_stage(deployment: Any, result: Any, validation: Any, y: int) -> Any:
        inputs = {
            "tables": result.tables,
            "year": y,
            "accounting": validation.counts(),
            "base_sha": result.base_sha,
        }
        _dump(work / STAGE, inputs)
        raise _Saved

    rebuild.normalize, rebuild.stage = keep_normalize, keep_stage
    with _product_gc(), contextlib.suppress(_Saved):
        rebuild.run(year, corpus, work / "repo", finance_dept=FINANCE, parse_cache=False, workers=workers)


def from_report(inputs_path: Path, work: Path) -> None:
    """normalize.pkl and stage.pkl from a bench_report save (a fresh repo's: base_sha empty)."""
    from pipelines.normalize.canonical import load_rules

    with open(inputs_path, "rb") as fh:
        inputs = pickle.load(fh)
    work.mkdir(parents=True, exist_ok=True)
    validation = inputs.validation
    _dump(work / NORMALIZE, {"rows": validation.rows, "rules": load_rules(None)})
    stage = {"tables": inputs.tables, "year": inputs.year, "accounting": validation.counts(), "base_sha": ""}
    _dump(work / STAGE, stage)


def _timed(name: str, fn: Callable[[], Any], rows: list[dict[str, Any]]) -> Any:
    return bench_report._timed(name, fn, rows, width=10)


def _profiled(fn: Callable[[], Any], profile: Path | None, name: str) -> Callable[[], Any]:
    if profile is None:
        return fn

    def run() -> Any:
        import cProfile

        profiler = cProfile.Profile()
        try:
            return profiler.runcall(fn)
        finally:
            profile.mkdir(parents=True, exist_ok=True)
            profiler.dump_stats(str(profile / f"{name}.prof"))

    return run


def _files_sha(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _normalize_step(work: Path, out: dict[str, Any], profile: Path | None, repeat: int) -> None:
    from pipelines.consolidate.build import normalize_accepted

    with open(work / NORMALIZE, "rb") as fh:
        inputs = pickle.load(fh)
    frame = None
    for _ in range(repeat):
        del frame
        frame = _timed(
            "normalize",
            _profiled(lambda: normalize_accepted(inputs["rows"], inputs["rules"]), profile, "normalize"),
            out["runs"],
        )
    out["normalized_sha256"] = hashlib.sha256(pickle.dumps(frame, protocol=5)).hexdigest()
    del frame


def _stage_steps(work: Path, target: Path, out: dict[str, Any], profile: Path | None, repeat: int) -> None:
    import pipelines.rebuild as rebuild
    from pipelines.store import publish, release, verify

    with open(work / STAGE, "rb") as fh:
        inputs = pickle.load(fh)
    repo = target / "repo"
    repo.mkdir(parents=True, exist_ok=True)
    steps, library = out["steps"], repo / publish.STAGING_DIR
    for _ in range(repeat):
        if "stage" in steps:
            staged = _timed(
                "stage",
                _profiled(
                    lambda: rebuild._given_back(
                        release.stage_release(
                            repo,
                            inputs["tables"],
                            year=inputs["year"],
                            accounting=inputs["accounting"],
                            base_sha=inputs["base_sha"],
                        )
                    ),
                    profile,
                    "stage",
                ),
                out["runs"],
            )
            out["staged_sha256"] = _files_sha(staged.library_dir)
        if "check" in steps:
            checks = _timed(
                "check",
                _profiled(lambda: rebuild._given_back(verify.blocking_checks(library)), profile, "check"),
                out["runs"],
            )
            out["checks_failed"] = [c.name for c in checks if not c.passed]


def time_steps(
    work: Path, target: Path, steps: list[str], repeat: int, profile: Path | None
) -> dict[str, Any]:
    out: dict[str, Any] = {"steps": steps, "runs": []}
    with _product_gc():
        if "normalize" in steps:
            _normalize_step(work, out, profile, repeat)
        if "stage" in steps or "check" in steps:
            _stage_steps(work, target, out, profile, repeat)
    out["min_cpu_s"] = {
        s: min(r["cpu_s"] for r in out["runs"] if r["step"] == s)
        for s in steps
        if any(r["step"] == s for r in out["runs"])
    }
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("save", "from-report", "time"))
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--inputs", type=Path)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--workers", type=_workers_arg, default=None)
    parser.add_argument("--steps", default="normalize,stage,check")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args(argv)
    if args.mode == "save":
        save(args.corpus, args.work, args.year, args.workers)
    elif args.mode == "from-report":
        from_report(args.inputs, args.work)
    else:
        result = time_steps(args.work, args.out, args.steps.split(","), args.repeat, args.profile)
        print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
