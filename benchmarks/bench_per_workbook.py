"""CPU per workbook of reading and validating, one worker's way (pipelines.fanout.batches), in this process.

    python -m benchmarks.bench_per_workbook --corpus /tmp/ib/corpus-100000 [--limit N] [--feedback]
        [--save DIR] [--profile FILE]
    python -m benchmarks.bench_per_workbook --corpus DIR --step N|auto [--limit N] [--parse-cache]

--step runs the whole step instead (rebuild.read_validate_feedback's parts: plan, the batches on N worker
processes, the merge; feedback written; --parse-cache: the parse cache written too, as a rebuild writes
it) and splits its time: wall and CPU of this process (the parent: receiving the results, the merge) and
the CPU the batches took in the processes that ran them (the workers' own, summed: ≈ 2× the wall on 2
busy cores); with 1 worker the batches run here, each workbook parsed in a parse worker whose CPU is not
counted.

The corpus is cut into the fan-out's batches (plan_batches); each batch's workbooks are read
(read_workbook, in this process, no parse cache) and then validated as a pool worker does (finish_batch,
no feedback unless --feedback), under a pool worker's collector settings (gc_policy: imports frozen, a
large young generation; the default thresholds' full collections cost ≈ 1 ms/workbook more). Prints the
CPU seconds (time.process_time) per workbook of the reading and of the validation (with --feedback, the
writing of the feedback workbooks also on its own), and the CPU of pickling the batches' results (a worker)
and unpickling them (the parent). --step also says how long the workers spent outside any batch (starting,
sending results and waiting for the next batch, idle at the tail). For an old/new comparison run it with
PYTHONPATH set to each checkout and the current directory in it (Python 3.11's forkserver imports its
preloaded modules from the current directory: started from another checkout, the workers run that
checkout's code), alternating, and take the min of several runs. --save DIR keeps the merged rows,
findings, statuses and departments (frames.pkl) and, with --feedback, the sha256 of every feedback
workbook (outbox.sha); --compare OLD NEW says whether two saved runs are the same (frames equal, dtypes
too; findings and statuses equal; outbox bytes).
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

FINANCE = "100001"  # benchmarks.corpus: department 0 is the finance bureau


def _settings(work: Path, year: int, feedback: bool, cache: bool = False):  # type: ignore[no-untyped-def]
    from pipelines import rebuild

    deployment = rebuild.Deployment.open(work / "repo", FINANCE)
    deployment.root.mkdir(parents=True, exist_ok=True)
    previous = rebuild.load_previous(deployment, year)
    outbox = work / "outbox" if feedback else None
    if outbox is not None:
        outbox.mkdir()
    known = previous.known_indicators()
    return rebuild.batch_settings(deployment, year, known, outbox=outbox, parse_cache=cache)


def _save(out: Path, results: list, settings) -> None:  # type: ignore[no-untyped-def, type-arg]
    from pipelines.fanout.merge import merge_batches

    validation = merge_batches(results, settings)
    out.mkdir(parents=True, exist_ok=True)
    kept = {
        "rows": validation.rows,
        "findings": validation.findings,
        "files": validation.files,
        "departments": validation.departments,
    }
    with open(out / "frames.pkl", "wb") as fh:
        pickle.dump(kept, fh, protocol=pickle.HIGHEST_PROTOCOL)
    if settings.outbox is not None:
        lines = [
            f"{hashlib.sha256(f.read_bytes()).hexdigest()}  {f.relative_to(settings.outbox)}\n"
            for f in sorted(settings.outbox.rglob("*"))
            if f.is_file()
        ]
        (out / "outbox.sha").write_text("".join(lines), encoding="utf-8")


class _FeedbackClock:
    """The CPU seconds spent in the batches' write_feedback_workbooks (wrapped where finish_batch calls it)."""

    def __init__(self) -> None:
        from pipelines.fanout import batches

        self.seconds = 0.0
        self._module, self._write = batches, batches.write_feedback_workbooks

        def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
            started = time.process_time()
            try:
                return self._write(*args, **kwargs)
            finally:
                self.seconds += time.process_time() - started

        batches.write_feedback_workbooks = timed  # type: ignore[assignment]

    def close(self) -> None:
        self._module.write_feedback_workbooks = self._write  # type: ignore[assignment]


def _profiler(profile: str | None):  # type: ignore[no-untyped-def]
    if not profile:
        return None
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    return profiler


def _timed(batches, settings):  # type: ignore[no-untyped-def]
    """Each batch read (in this process) then validated and answered as a pool worker does: the CPU of
    the reading, of the rest, the results, and the CPU of the feedback writing alone."""
    from pipelines.fanout.batches import finish_batch
    from pipelines.intake.safe_parse import parse_here

    read_cpu = validate_cpu = 0.0
    results = []
    clock = _FeedbackClock()
    try:
        for batch in batches:
            started = time.process_time()
            workbooks = [parse_here(p, settings.parse) for p in batch.paths]
            read = time.process_time()
            names = [p.name for p in batch.paths]
            results.append(finish_batch(batch.index, workbooks, settings, names, [], read - started))
            read_cpu += read - started
            validate_cpu += time.process_time() - read
    finally:
        clock.close()
    return read_cpu, validate_cpu, results, clock.seconds


def _pickling(results: list) -> tuple[float, float]:  # type: ignore[type-arg]
    """CPU seconds to pickle the batches' results as a worker sends them, and to unpickle them as the
    parent receives them (min of 3)."""
    send = receive = float("inf")
    for _ in range(3):
        started = time.process_time()
        blobs = [pickle.dumps(r, protocol=pickle.HIGHEST_PROTOCOL) for r in results]
        pickled = time.process_time()
        for blob in blobs:
            pickle.loads(blob)
        send, receive = min(send, pickled - started), min(receive, time.process_time() - pickled)
    return send, receive


def run(corpus: Path, limit: int, year: int, feedback: bool, save: Path | None, profile: str | None) -> None:
    from pipelines.common.gc_policy import rebuild_gc
    from pipelines.fanout.batches import finish_batch, plan_batches
    from pipelines.intake.safe_parse import parse_here
    from schemas.text import clean_text
    from schemas.vocab import reference

    reference()
    clean_text("預熱")
    work = Path(tempfile.mkdtemp(prefix="bench_per_workbook_"))
    try:
        settings = _settings(work, year, feedback)
        paths = sorted(corpus.glob("*.xlsx"))[: limit or None]
        batches = plan_batches(paths)
        # Imports and lazy caches warmed outside the timing, on one workbook.
        warm = [parse_here(paths[0], settings.parse)]
        finish_batch(0, warm, replace(settings, outbox=None), [], [], 0.0)
        # The collector as in a pool worker (gc_policy.tune_process): its thresholds decide what is
        # measured (the default's frequent full collections are not the workers').
        with rebuild_gc():
            profiler = _profiler(profile)
            read_cpu, validate_cpu, results, feedback_cpu = _timed(batches, settings)
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(str(profile))
            send, receive = _pickling(results)
        n = len(paths)
        what = "validate+feedback" if feedback else "validate"
        print(
            f"{n} workbooks, {len(batches)} batches: read {read_cpu / n * 1000:.2f} ms/workbook, "
            f"{what} {validate_cpu / n * 1000:.2f} ms/workbook, "
            f"total {(read_cpu + validate_cpu) / n * 1000:.2f} ms/workbook CPU"
            + (f" (feedback {feedback_cpu / n * 1000:.2f} ms/workbook)" if feedback else "")
            + f"; results pickled {send / n * 1000:.2f} (worker) + unpickled {receive / n * 1000:.2f}"
            " (parent) ms/workbook"
        )
        if save is not None:
            _save(save, results, settings)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def step(corpus: Path, limit: int, year: int, workers: int | None, cache: bool = False) -> None:
    """The per-workbook step on `workers` processes (None: the product's automatic count), timed; `cache`:
    with a parse cache (empty at the start, as a fresh rebuild's), written as the rebuild writes it."""
    from pipelines.common.gc_policy import rebuild_gc
    from pipelines.fanout import auto_workers, merge_batches, plan_batches, run_batches
    from pipelines.fanout.merge import batch_seconds

    work = Path(tempfile.mkdtemp(prefix="bench_per_workbook_"))
    try:
        settings = _settings(work, year, True, cache)
        paths = sorted(corpus.glob("*.xlsx"))[: limit or None]
        with rebuild_gc():
            wall, cpu = time.perf_counter(), time.process_time()
            batches = plan_batches(paths)
            count = workers or auto_workers(sum(p.stat().st_size for p in paths), len(batches))
            results = run_batches(batches, settings, count)
            ran, ran_cpu = time.perf_counter(), time.process_time()
            merge_batches(results, settings)
            done, done_cpu = time.perf_counter(), time.process_time()
        seconds = batch_seconds(results)
        batch_cpu = seconds.get("cpu", 0.0)
        inside = sum(seconds.get(k, 0.0) for k in ("read", "validate", "feedback"))
        n = len(paths)
        print(
            f"{n} workbooks, {len(batches)} batches, {count} worker(s): wall {done - wall:.2f} s "
            f"(batches {ran - wall:.2f}, merge {done - ran:.2f}); parent CPU {done_cpu - cpu:.2f} s "
            f"(merge {done_cpu - ran_cpu:.2f}); the batches' own CPU {batch_cpu:.2f} s = "
            f"{batch_cpu / n * 1000:.2f} ms/workbook; workers outside a batch "
            f"{count * (ran - wall) - inside:.2f} of {count} x {ran - wall:.2f} s (start, results, tail)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def compare(old: Path, new: Path) -> bool:
    """Whether two --save directories hold the same results, printed item by item."""
    with open(old / "frames.pkl", "rb") as fh:
        a = pickle.load(fh)
    with open(new / "frames.pkl", "rb") as fh:
        b = pickle.load(fh)
    same = True
    for key in ("rows", "departments"):
        equal = bool(a[key].equals(b[key]) and a[key].dtypes.to_dict() == b[key].dtypes.to_dict())
        print(f"{key} {a[key].shape}: {'equal' if equal else 'DIFFERENT'}")
        same &= equal
    for key in ("findings", "files"):
        equal = a[key] == b[key]
        print(f"{key} ({len(a[key])}): {'equal' if equal else 'DIFFERENT'}")
        same &= equal
    shas = [d / "outbox.sha" for d in (old, new)]
    if all(s.exists() for s in shas):
        equal = shas[0].read_bytes() == shas[1].read_bytes()
        count = len(shas[0].read_text(encoding="utf-8").splitlines())
        print(f"outbox ({count} files): {'same bytes' if equal else 'DIFFERENT'}")
        same &= equal
    print("same" if same else "DIFFERENT")
    return same


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--compare", type=Path, nargs=2, metavar=("OLD", "NEW"))
    parser.add_argument("--limit", type=int, default=0, help="the first N workbooks only")
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--feedback", action="store_true", help="write the feedback workbooks too")
    parser.add_argument("--save", type=Path, help="keep the results here (frames.pkl, outbox.sha)")
    parser.add_argument("--profile", help="write a cProfile of the timed part here")
    parser.add_argument(
        "--parse-cache", action="store_true", help="with --step: write the parse cache, as a rebuild does"
    )
    parser.add_argument(
        "--step", help="the whole step on N worker processes (or auto), parent and workers apart"
    )
    args = parser.parse_args(argv)
    if args.compare:
        return 0 if compare(*args.compare) else 1
    if args.corpus is None:
        parser.error("--corpus is required")
    if args.step:
        workers = None if args.step == "auto" else int(args.step)
        step(args.corpus, args.limit, args.year, workers, args.parse_cache)
        return 0
    run(args.corpus, args.limit, args.year, args.feedback, args.save, args.profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
