"""The report stage alone, on saved inputs: each report file timed (CPU, wall, peak) and its sha256.

    .venv/bin/python -m benchmarks.bench_report save --corpus DIR --work DIR [--year 2026]
    .venv/bin/python -m benchmarks.bench_report time --inputs DIR/report_inputs.pkl --out DIR
        [--profile DIR] [--whole [--merge-review beside|review|last]]

`save` runs the rebuild's steps (serial) on a corpus up to the report, pickles the ReportInputs the report
step gets into DIR/report_inputs.pkl and stops before publishing (the repo in DIR/repo keeps the state the
report saw: the library page reads its tags). `time` loads them and writes each file of
write_annual_report one by one (or, with --whole, write_annual_report itself), under the rebuild's
collector settings; prints one line per file and the sha256 of every file written, so old and new code
can be compared on the same inputs (run it from an old worktree with PYTHONPATH at that worktree).
With --whole, --merge-review beside|review|last overrides the thread gate (background.thread_available): the
peak of merge_review.xlsx written in the thread beside the other files, beside the review files only (joined
before the library page), or after them.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import json
import os
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.sides import TreeSampler, tree_kib
from benchmarks.workers import FINANCE, _product_gc, peak_mib, reset_peak

INPUTS = "report_inputs.pkl"


class _Saved(Exception):
    """Raised once the report's inputs are saved: the rebuild stops before publishing."""


def save(corpus: Path, work: Path, year: int) -> Path:
    import pipelines.rebuild as rebuild

    work.mkdir(parents=True, exist_ok=True)
    target = work / INPUTS
    real = rebuild.write_annual_report

    def keep(out_dir: Path, inputs: Any) -> list[Path]:
        # saved first: a report that fails (code being edited) does not lose a 1M-row run's inputs
        with open(target, "wb") as fh:
            pickle.dump(inputs, fh, protocol=pickle.HIGHEST_PROTOCOL)
        start, wall = time.process_time(), time.perf_counter()
        real(out_dir, inputs)
        cpu, wall = time.process_time() - start, time.perf_counter() - wall
        print(f"report as run: {cpu:.2f} s CPU, {wall:.2f} s wall", file=sys.stderr)
        raise _Saved

    rebuild.write_annual_report = keep
    with _product_gc(), contextlib.suppress(_Saved):
        rebuild.run(year, corpus, work / "repo", finance_dept=FINANCE, parse_cache=False, workers=1)
    return target


def _writers() -> list[tuple[str, Callable[[Path, Any, Any], Any]]]:
    """Each file of write_annual_report, as build.py composes it (names that exist on old commits)."""
    from pipelines.report import build
    from pipelines.report.library_page import all_events, write_library_page

    def page(out: Path, inputs: Any, _tables: Any) -> Any:
        events = all_events(inputs.repo_root, inputs.year, inputs.changes)
        return write_library_page(out, inputs.tables, events, inputs.year, inputs.actuals)

    return [
        ("review.html", lambda out, inputs, tables: build.write_review_html(out, inputs, tables)),
        ("review.xlsx", lambda out, inputs, tables: build.write_review_xlsx(out, inputs, tables)),
        ("CHANGELOG.md", lambda out, inputs, _tables: build.write_changelog(out, inputs)),
        ("merge_review.xlsx", lambda out, inputs, _tables: build.write_merge_review_file(out, inputs)),
        ("library.html", page),
    ]


def _timed(name: str, fn: Callable[[], Any], rows: list[dict[str, Any]], width: int = 18) -> Any:
    """fn's result; its CPU, wall and peak appended to rows and printed (bench_stage times its steps so too)."""
    gc.collect()
    reset_peak()
    kids = _children_cpu()
    cpu, wall = time.process_time(), time.perf_counter()
    result = fn()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    kids = _children_cpu() - kids  # forked children's CPU (the library page's at 1M rows), once reaped
    row = {"step": name, "cpu_s": round(cpu, 3), "wall_s": round(wall, 3), "peak_mib": peak_mib()}
    rows.append(row | {"children_cpu_s": round(kids, 3)})
    print(
        f"  {name:<{width}} cpu {cpu:7.2f} s  wall {wall:7.2f} s  peak {peak_mib():7.0f} MiB"
        f"  children's cpu {kids:6.2f} s",
        file=sys.stderr,
    )
    return result


def _children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system


def time_report(
    inputs_path: Path, out: Path, profile: Path | None, whole: bool, merge_review: str = ""
) -> dict[str, Any]:
    from pipelines.report import build

    if merge_review:  # the gate decided here, whatever the process holds
        # beside: beside every other file; review: beside the review files (the partial gate's call passes
        # a limit), joined before the library page; last: after them all
        build.thread_available = lambda *a: (
            merge_review == "beside" or (merge_review == "review" and len(a) > 1)
        )

    with open(inputs_path, "rb") as fh:
        inputs = pickle.load(fh)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    profiler = None
    if profile is not None:
        import cProfile

        profiler = cProfile.Profile(time.process_time)  # CPU: the machine is shared
        profiler.enable()
    with _product_gc():
        if whole:
            sampler = TreeSampler(os.getpid(), interval=0.1)
            sampler.start()
            base = tree_kib(os.getpid())[0] / 1024
            _timed("write_annual_report", lambda: build.write_annual_report(out, inputs), rows)
            sampler.stop()
            rows[-1] |= {"tree_base_mib": base, "tree_peak_mib": sampler.peak_kib / 1024}
            print(
                f"  process tree PSS {base:.0f} MiB before, {sampler.peak_kib / 1024:.0f} at the peak",
                file=sys.stderr,
            )
        else:
            tables = _timed("review_tables", lambda: build.review_tables(inputs), rows)
            for name, writer in _writers():
                _timed(name, lambda w=writer: w(out, inputs, tables), rows)  # type: ignore[misc]
    if profiler is not None and profile is not None:
        profiler.disable()
        profiler.dump_stats(str(profile))
    total = sum(r["cpu_s"] for r in rows)
    print(f"  {'total':<18} cpu {total:7.2f} s", file=sys.stderr)
    sums = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir()) if p.is_file()}
    return {"steps": rows, "cpu_s": total, "sha256": sums}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("save")
    s.add_argument("--corpus", type=Path, required=True)
    s.add_argument("--work", type=Path, required=True)
    s.add_argument("--year", type=int, default=2026)
    t = sub.add_parser("time")
    t.add_argument("--inputs", type=Path, required=True)
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--profile", type=Path, default=None, help="a cProfile dump of the whole run")
    t.add_argument("--whole", action="store_true", help="time write_annual_report as one call")
    t.add_argument("--merge-review", choices=("beside", "review", "last"), default="", help="with --whole")
    args = parser.parse_args(argv)
    if args.command == "save":
        print(save(args.corpus, args.work, args.year))
    else:
        print(json.dumps(time_report(args.inputs, args.out, args.profile, args.whole, args.merge_review)))


if __name__ == "__main__":
    main()
