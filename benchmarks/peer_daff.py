"""`indicators diff` against daff's keyed table diff of the same two releases (see benchmarks.baselines):
both must report the same changes. Peers are imported only by the benchmarks, never by the product."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.baselines import _timed


def daff_worker(repo: Path, ref_a: str, ref_b: str, out_dir: Path) -> dict:
    """indicators diff vs daff on the same two releases; both must report the same changes."""
    from pipelines.store.query.diff import DIFF_FIELDS, diff
    from pipelines.store.query.git_read import clear_cache

    clear_cache()
    changes, product_s = _timed(lambda: diff(repo, ref_a, ref_b))
    columns = list(dict.fromkeys(DIFF_FIELDS))
    sizes = _write_csv(repo, (ref_a, ref_b), columns, out_dir)
    table, daff_s = _timed(
        lambda: _run_daff(out_dir / f"indicators-{ref_a}.csv", out_dir / f"indicators-{ref_b}.csv")
    )
    daff_added, daff_removed, daff_cells = _daff_changes(table)
    product_added, product_cells = _library_changes(changes)
    # daff reports every changed cell; the library's change set reports tracked fields and status
    # events (merged_into travels with a merge's status change).
    tracked = {f for f in columns if f not in ("indicator_id", "merged_into")}
    daff_compared = {(i, f) for i, f in daff_cells if f in tracked}
    same = product_added == daff_added and product_cells == daff_compared and not daff_removed
    return {
        "refs": [ref_a, ref_b],
        "rows": sizes,
        "product_s": product_s,
        "daff_s": daff_s,
        "ratio_time": daff_s / product_s,
        "product_counts": changes.counts(),
        "added": [len(product_added), len(daff_added)],
        "cells": [len(product_cells), len(daff_compared)],
        "daff_removed": len(daff_removed),
        "same_changes": same,
        "only_product": sorted(map(str, product_cells - daff_compared))[:5],
        "only_daff": sorted(map(str, daff_compared - product_cells))[:5],
    }


def _write_csv(repo: Path, refs: tuple[str, str], columns: list[str], out_dir: Path) -> list[int]:
    """Each release's indicators (the diffed columns) as out_dir/indicators-<ref>.csv; their row counts."""
    import csv
    import io

    from pipelines.store.query.git_read import indicators_at

    out_dir.mkdir(parents=True, exist_ok=True)
    sizes = []
    for ref in refs:
        table = indicators_at(repo, ref)[columns].fillna("").astype(str).sort_values("indicator_id")
        sizes.append(len(table))
        buf = io.StringIO()
        table.to_csv(buf, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        (out_dir / f"indicators-{ref}.csv").write_text(buf.getvalue(), encoding="utf-8")
    return sizes


def _run_daff(path_a: Path, path_b: Path) -> Any:
    """The timed part: parse the two CSV files and diff them keyed on indicator_id."""
    import daff

    a = daff.Csv().makeTable(path_a.read_text(encoding="utf-8"))
    b = daff.Csv().makeTable(path_b.read_text(encoding="utf-8"))
    flags = daff.CompareFlags()
    flags.addPrimaryKey("indicator_id")
    align = daff.compareTables(a, b, flags).align()
    table = daff.SimpleTable(0, 0)
    daff.TableDiff(align, flags).hilite(table)
    return table


def _daff_changes(table: Any) -> tuple[set[str], set[str], set[tuple[str, str]]]:
    """Added ids, removed ids and changed (id, column) cells of daff's highlighted diff."""
    header = [table.getCell(c, 0) for c in range(table.get_width())]
    id_col = header.index("indicator_id")
    added, removed, cells = set(), set(), set()
    for r in range(1, table.get_height()):
        action = table.getCell(0, r)
        iid = str(table.getCell(id_col, r))
        if action == "+++":
            added.add(iid)
        elif action == "---":
            removed.add(iid)
        elif action and "->" in str(action):
            arrow = str(action)
            for c in range(1, table.get_width()):
                value = table.getCell(c, r)
                if isinstance(value, str) and arrow in value:
                    cells.add((iid, header[c]))
    return added, removed, cells


def _library_changes(changes: Any) -> tuple[set[str], set[tuple[str, str]]]:
    """Added ids and changed (id, field) cells of the library's change set, status events as "status"."""
    added = set(changes.added["indicator_id"]) if len(changes.added) else set()
    cells = {
        (i, f)
        for i, f in zip(
            changes.modified.get("indicator_id", []), changes.modified.get("field", []), strict=True
        )
    }
    for frame in (changes.retired, changes.merged, changes.reactivated):
        if len(frame):
            cells |= {(i, "status") for i in frame["indicator_id"]}
    return added, cells
