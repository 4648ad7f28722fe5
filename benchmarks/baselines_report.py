"""The baselines section of benchmarks/RESULTS.md (benchmarks.baselines' figures as Markdown)."""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.baselines import RAPIDFUZZ_CUTOFF, SPLINK_AUTO, SPLINK_REVIEW


def _ratio(x: object) -> str:
    return f"{x:.1f}×" if isinstance(x, float) else "–"


def _heading(add: Callable[[str], None], title: str, columns: tuple[str, ...]) -> None:
    """A blank line, the section title and a table header (first column text, the others numbers)."""
    add("")
    add(f"### {title}")
    add("")
    add("| " + " | ".join(columns) + " |")
    add("|---|" + "---:|" * (len(columns) - 1))


PR_COLUMNS = ("method", "time s", "pairs called duplicate", "precision", "recall")


def _library_rows(add: Callable[[str], None], figures: dict) -> None:
    """The library's two rows of a precision/recall table: automatic merges, then merges + review list."""
    add(_pr_row("library: same key (automatic merge)", figures["product_s"], figures["product_auto"]))
    add(_pr_row("library: key + review candidates", None, figures["product_review"]))


def render_baselines(base: dict) -> str:
    """Each peer's table, the ones that ran, then any that failed."""
    lines = ["## Baselines and peers"]
    # (figures' key, its renderer, the key its figures have when it ran)
    sections = (
        ("reader", _reader, "calamine"),
        ("rapidfuzz", _rapidfuzz, "rows"),
        ("splink_pairs", _splink_pairs, "all"),
        ("splink_corpus", _splink_corpus, "records"),
        ("daff", _daff, "refs"),
    )
    for key, render, marker in sections:
        figures = base.get(key) or {}
        if marker in figures:
            lines += render(figures)
    for key in ("rapidfuzz", "splink_pairs", "splink_corpus", "daff"):
        if "error" in (base.get(key) or {}):
            lines += ["", f"{key}: failed ({base[key]['error']}): `{base[key]['cmd']}`"]
    return "\n".join(lines)


def _reader(r: dict) -> list[str]:
    """The xlsx readers side by side."""
    lines: list[str] = []
    add = lines.append
    cal, opx = r["calamine"], r["openpyxl"]
    _heading(
        add,
        f"xlsx reader ({cal['rows']:,} rows, {cal['files']} workbooks)",
        ("reader", "wall s", "CPU s", "rows/s", "peak RSS MiB"),
    )
    for label, x in (("python-calamine (chosen)", cal), ("openpyxl read_only", opx)):
        add(
            f"| {label} | {x['seconds']:.2f} | {x['cpu_seconds']:.2f} | {x['rows'] / x['seconds']:,.0f} | {x['peak_rss_mb']:,.0f} |"
        )
    add("")
    add(
        f"openpyxl / calamine: wall {_ratio(r['ratio_wall'])}, CPU {_ratio(r['ratio_cpu'])}, peak RSS {r['ratio_rss']:.2f}×"
        f"{'' if r['same_rows'] else ' (row counts differ!)'}"
    )
    return lines


def _rapidfuzz(f: dict) -> list[str]:
    """The library's dedupe vs all-pairs rapidfuzz."""
    lines: list[str] = []
    add = lines.append
    title = f"Dedupe vs all-pairs rapidfuzz ({f['rows']:,} accepted rows of the corpus, {f['true_pairs']:,} true duplicate pairs)"
    _heading(add, title, PR_COLUMNS)
    _library_rows(add, f)
    label = f"rapidfuzz cdist all pairs, ratio ≥ {RAPIDFUZZ_CUTOFF} + same fields"
    add(_pr_row(label, f["rapidfuzz_s"], f["rapidfuzz"]))
    add("")
    add(
        f"rapidfuzz / library time = {_ratio(f['ratio_time'])}; agreement (Jaccard of the pair sets) "
        f"{f['agreement_jaccard']:.3f}: both {f['agree_pairs']:,}, only the library {f['only_product']:,}, "
        f"only rapidfuzz {f['only_rapidfuzz']:,}."
    )
    return lines


def _splink_pairs(s: dict) -> list[str]:
    """The library vs Splink on the labelled pairs."""
    lines: list[str] = []
    add = lines.append
    _heading(
        add,
        f"Dedupe vs Splink (DuckDB) on the labelled pairs ({s['pairs']} pairs, {s['positives']} same)",
        ("method", "time s", "P (all)", "R (all)", "P (holdout)", "R (holdout)"),
    )
    for key, label, t in (
        ("product_auto", "library: automatic merge", s["product_s"]),
        ("product_review", "library: merge or review candidate", None),
        ("splink_auto", f"Splink p ≥ {SPLINK_AUTO}", s["splink_s"]),
        ("splink_review", f"Splink p ≥ {SPLINK_REVIEW}", None),
    ):
        a, h = s["all"][key], s["holdout"][key]
        add(
            f"| {label} | {'' if t is None else f'{t:.2f}'} | {a['precision']:.3f} | {a['recall']:.3f} "
            f"| {h['precision']:.3f} | {h['recall']:.3f} |"
        )
    add("")
    add(f"Splink / library time = {_ratio(s['ratio_time'])}")
    return lines


def _splink_corpus(c: dict) -> list[str]:
    """The library vs Splink on the corpus."""
    lines: list[str] = []
    add = lines.append
    title = (
        f"Dedupe vs Splink (DuckDB) on the corpus ({c['rows']:,} accepted rows → {c['records']:,} distinct "
        f"records, {c['true_pairs']:,} true duplicate pairs)"
    )
    _heading(add, title, PR_COLUMNS)
    _library_rows(add, c)
    add(_pr_row(f"Splink clusters at p ≥ {SPLINK_AUTO}", c["splink_s"], c["splink_auto"]))
    add(_pr_row(f"Splink clusters at p ≥ {SPLINK_REVIEW}", None, c["splink_review"]))
    add("")
    add(f"Splink / library time = {_ratio(c['ratio_time'])} (Splink: training + prediction + clustering)")
    return lines


def _daff(d: dict) -> list[str]:
    """indicators diff vs daff."""
    lines: list[str] = []
    add = lines.append
    _heading(
        add,
        f"indicators diff vs daff ({d['refs'][0]} → {d['refs'][1]}, {d['rows'][0]:,} → {d['rows'][1]:,} indicators)",
        ("tool", "time s", "added", "changed cells (fields + status)"),
    )
    add(
        f"| `indicators diff` (from git objects) | {d['product_s']:.2f} | {d['added'][0]:,} | {d['cells'][0]:,} |"
    )
    add(f"| daff keyed diff (two CSV files) | {d['daff_s']:.2f} | {d['added'][1]:,} | {d['cells'][1]:,} |")
    add("")
    verdict = (
        "the same changes"
        if d["same_changes"]
        else f"DIFFERENT changes (only library {d['only_product']}, only daff {d['only_daff']})"
    )
    add(
        f"daff / library time = {_ratio(d['ratio_time'])}; both report {verdict}. Library counts: {d['product_counts']}."
    )
    return lines


def _pr_row(label: str, seconds: float | None, m: dict) -> str:
    t = "" if seconds is None else f"{seconds:.2f}"
    return f"| {label} | {t} | {m['pairs']:,} | {m['precision']:.3f} | {m['recall']:.3f} |"
