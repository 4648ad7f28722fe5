"""What parsing in worker processes (pipelines.intake.safe_parse) costs against reading in this process.

    python -m benchmarks.bench_safe_parse [--work DIR] [--workbooks 100] [--repeat 3]

Two inputs: one demo year (pipelines.demo.build, 9 small workbooks) and a benchmarks.corpus of `--workbooks`
workbooks (100 rows each). For each: the first call (starts the forkserver, which imports the reader
once), then the best and median of `--repeat` calls of read_workbooks against a plain loop over
read_workbook. Results are checked equal. Prints one line per input.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from pathlib import Path


def _times(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    runs = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return min(runs), statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default="/tmp/indicators-bench-safe-parse")
    parser.add_argument("--workbooks", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from benchmarks.corpus import generate_corpus
    from pipelines.demo.build import write_demo_year
    from pipelines.demo.catalogue import DEMO_YEARS
    from pipelines.intake.inbox import submission_files
    from pipelines.intake.read import read_workbook
    from pipelines.intake.safe_parse import read_workbooks

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    demo = submission_files([write_demo_year(work / "demo", DEMO_YEARS[0])])
    generate_corpus(work / "corpus", 100 * args.workbooks, 2026, 1, departments=args.workbooks)
    corpus = submission_files([work / "corpus"])
    for label, paths in (("demo year", demo), ("corpus", corpus)):
        start = time.perf_counter()
        first = read_workbooks(paths)
        cold = time.perf_counter() - start
        here = [read_workbook(p) for p in paths]
        for a, b in zip(first, here, strict=True):
            assert (a.file, a.readable, a.findings) == (b.file, b.readable, b.findings)
            assert all(a.sheets[k].frame.equals(b.sheets[k].frame) for k in b.sheets)
        in_process = _times(lambda p=paths: [read_workbook(x) for x in p], args.repeat)
        workers = _times(lambda p=paths: read_workbooks(p), args.repeat)
        print(
            f"{label}: {len(paths)} workbooks; in process best {in_process[0]:.2f} s (median "
            f"{in_process[1]:.2f}); workers best {workers[0]:.2f} s (median {workers[1]:.2f}); "
            f"first call {cold:.2f} s"
        )


if __name__ == "__main__":
    main()
