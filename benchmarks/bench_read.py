"""Read benchmark: read_workbook (python-calamine) against an openpyxl read_only reader of the same rows.

    python -m benchmarks.bench_read --rows 100000 [--corpus DIR] [--seed 1] [--year 2026]

Generates (or reuses) a corpus with benchmarks.corpus, then reads every workbook once with each reader, each
in a fresh subprocess so peak RSS (ru_maxrss) is the reader's own. Both readers produce the same frames:
the openpyxl variant feeds its values (read_only, data_only: cached values, no merged-cell info in that
mode) into the same grid → rows code, so the difference is the xlsx engine. Prints rows/s, wall time,
peak RSS side by side and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.corpus import generate_corpus

READERS = ("calamine", "openpyxl")


def read_with_calamine(path: Path) -> int:
    from pipelines.intake.read import read_workbook

    book = read_workbook(path)
    return sum(len(s.frame) for s in book.sheets.values())


def read_with_openpyxl(path: Path) -> int:
    """The same extraction with openpyxl in read_only mode (values only)."""
    import openpyxl

    from pipelines.intake.cells import as_grid
    from pipelines.intake.department_info import info_from_grid
    from pipelines.intake.rows import sheet_rows_from_grid
    from pipelines.intake.sheets import match_sheets

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        matched, _ = match_sheets(wb.sheetnames)
        rows = 0
        for kind, name in matched.items():
            grid = as_grid(list(wb[name].iter_rows(values_only=True)))
            if kind == "info":
                info_from_grid(grid)
                continue
            sheet = sheet_rows_from_grid(path.name, kind, name, grid)
            rows += 0 if sheet is None else len(sheet.frame)
        return rows
    finally:
        wb.close()


def _worker(reader: str, directory: Path) -> dict[str, object]:
    read = read_with_calamine if reader == "calamine" else read_with_openpyxl
    paths = sorted(directory.glob("*.xlsx"))
    # Warm the caches every reader shares (reference CSVs, opencc dictionaries) outside the timing.
    from schemas.text import clean_text
    from schemas.vocab import reference

    reference()
    clean_text("預熱")
    start, cpu_start = time.perf_counter(), time.process_time()
    rows = sum(read(p) for p in paths)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "reader": reader,
        "files": len(paths),
        "rows": rows,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_rss_mb": peak_kb / 1024,
    }


def run_reader(reader: str, directory: Path) -> dict[str, object]:
    """Run one reader in a fresh interpreter and return its figures."""
    cmd = [sys.executable, "-m", "benchmarks.bench_read", "--worker", reader, "--corpus", str(directory)]
    out = subprocess.run(
        cmd, check=True, capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="读取性能基准：calamine 与 openpyxl（只读模式）对比")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--corpus",
        type=Path,
        default=None,
        help="语料目录（默认 /tmp/indicators-bench/corpus-<rows>-<seed>）",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--worker", choices=READERS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    directory = (
        args.corpus
        or Path(os.environ.get("TMPDIR", "/tmp")) / "indicators-bench" / f"corpus-{args.rows}-{args.seed}"
    )
    if args.worker:
        print(json.dumps(_worker(args.worker, directory)))
        return 0

    start = time.perf_counter()
    corpus = generate_corpus(directory, args.rows, args.year, args.seed)
    print(
        f"corpus: {len(corpus.files)} workbooks, {corpus.total_rows} rows in {directory} ({time.perf_counter() - start:.1f} s)"
    )
    results = {reader: run_reader(reader, directory) for reader in READERS}
    header = f"{'reader':<10} {'files':>6} {'rows':>8} {'wall s':>8} {'CPU s':>8} {'rows/s':>9} {'peak RSS MB':>12}"
    print(header)
    print("-" * len(header))
    for r in results.values():
        rate = r["rows"] / r["seconds"] if r["seconds"] else float("inf")
        print(
            f"{r['reader']:<10} {r['files']:>6} {r['rows']:>8} {r['seconds']:>8.2f} {r['cpu_seconds']:>8.2f}"
            f" {rate:>9.0f} {r['peak_rss_mb']:>12.0f}"
        )
    cal, opx = results["calamine"], results["openpyxl"]
    print(
        f"openpyxl / calamine: wall x{opx['seconds'] / cal['seconds']:.1f},"
        f" CPU x{opx['cpu_seconds'] / cal['cpu_seconds']:.1f},"
        f" peak RSS x{opx['peak_rss_mb'] / cal['peak_rss_mb']:.2f}"
    )
    print("(rows/s is from wall time; on a shared machine the CPU time is the steadier figure)")
    if cal["rows"] != opx["rows"]:
        print(f"note: row counts differ ({cal['rows']} vs {opx['rows']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
