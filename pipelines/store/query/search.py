"""`indicators search`: ranked matches by name, aliases, keywords and explanation (CONTRACT §4).

Reads the working tree's library/ (or the release at --ref from git objects) in today's shape
(pipelines.store.shape): a library written by an older or newer 1.x version is searched the same way.
Each hit carries the actual values of the latest self-evaluated year that has any for it (library/evaluations/,
working tree only): actual_year and actuals (sorted).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import git
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz

from pipelines.store.evaluations import published_actuals
from pipelines.store.publish import LIBRARY_DIR, MANIFEST, table_files
from pipelines.store.query.git_read import (
    QueryError,
    RepoLike,
    indicator_tables,
    json_cell,
    open_library_repo,
    resolve_ref,
)
from pipelines.store.repo import working_tree
from pipelines.store.shape import concat, library_version, read_parquet
from schemas.library import STATUS_ZH
from schemas.text import clean_text
from schemas.vocab import reference, resolve_framework

# Match tiers, best first (CONTRACT §4 "ranked by name, keywords, explanation"); partial_ratio breaks ties.
TIERS = (
    (100, "名称完全一致"),
    (90, "名称开头一致"),
    (80, "名称包含全部检索词"),
    (75, "曾用名/同义名称完全一致"),
    (70, "曾用名/同义名称包含检索词"),
    (60, "关键词匹配"),
    (50, "指标解释匹配"),
    (40, "名称包含检索字符"),
    (30, "检索词分别出现在名称、关键词或解释中"),
)
SEARCH_COLUMNS = [
    "indicator_id",
    "name",
    "scope",
    "level1",
    "level2",
    "unit",
    "function_code",
    "status",
    "n_departments",
    "departments",
    "aliases",
    "keywords",
    "score",
    "match",
    "similarity",
    "actual_year",
    "actuals",
]


def _norm(text: object) -> str:
    """Search form: simplified, half-width, lower case, no spaces."""
    return clean_text(str(text or "")).lower().replace(" ", "")


def _subsequence(needle: str, hay: str) -> bool:
    it = iter(hay)
    return all(ch in it for ch in needle)


def _tier(q: str, terms: list[str], name: str, aliases: list[str], keywords: str, definition: str) -> int:
    if name == q:
        return 100
    if name.startswith(q):
        return 90
    if all(t in name for t in terms):
        return 80
    if q in aliases:
        return 75
    if any(all(t in a for t in terms) for a in aliases):
        return 70
    if keywords and all(t in keywords for t in terms):
        return 60
    if definition and all(t in definition for t in terms):
        return 50
    if all(_subsequence(t, name) for t in terms):
        return 40
    everything = "\n".join([name, *aliases, keywords, definition])
    if all(t in everything for t in terms):
        return 30
    return 0


def _level1_filter(level1: str) -> str:
    raw = clean_text(level1).replace(" ", "")
    values = reference().vocab_values["level1"]
    if raw in values:
        return raw
    resolved = resolve_framework(raw, "")
    if resolved.level1_ok:
        return resolved.level1
    raise QueryError(f"一级指标「{level1}」不在指标框架中，可用：{'、'.join(values)}")


def _class_filter(code: str) -> str:
    c = clean_text(str(code)).replace(" ", "")
    if not c.isdigit() or len(c) not in (3, 5, 7):
        raise QueryError(f"功能分类科目编码「{code}」无效：应为 3 位（类）、5 位（款）或 7 位（项）数字")
    return c


SEARCH_SOURCE = (
    "indicator_id",
    "name",
    "scope",
    "level1",
    "level2",
    "unit",
    "function_code",
    "status",
    "departments",
    "aliases",
    "keywords",
    "definition",
)


def _library_indicators(repo_path: RepoLike, ref: str | None) -> pa.Table:
    """The columns search reads, from the working tree's library/ (or the release at `ref`)."""
    if ref is not None:
        repo = open_library_repo(repo_path)
        return indicator_tables(repo, [resolve_ref(repo, ref)], SEARCH_SOURCE)[0]
    root = working_tree(repo_path) if isinstance(repo_path, git.Repo) else Path(repo_path)
    library = root / LIBRARY_DIR
    if not (library / MANIFEST).is_file():
        raise QueryError(
            f"{root} 下没有已发布的指标库（{LIBRARY_DIR}/{MANIFEST} 不存在），请用 --repo 指定指标库仓库"
        )
    version = library_version(library)
    parts = [
        read_parquet(path, "indicators", version, SEARCH_SOURCE)
        for path in table_files(library, "indicators")
    ]
    return concat(parts, "indicators", SEARCH_SOURCE)


def _candidates(table: pa.Table, include_retired: bool, code: str | None) -> pa.Table:
    if not include_retired:
        table = table.filter(pc.equal(table["status"], "active"))
    if code:
        table = table.filter(pc.starts_with(table["function_code"], code))
    return table


def _matches(table: pa.Table, q: str, terms: list[str], want_level1: str | None) -> list[dict[str, Any]]:
    """One record per row that matches at some tier, with its score, tier label and name similarity."""
    cols = {c: table[c].to_pylist() for c in SEARCH_SOURCE}
    labels = dict(TIERS)
    records = []
    for i in range(table.num_rows):
        if want_level1 and _norm(cols["level1"][i]) != want_level1:
            continue
        name = _norm(cols["name"][i])
        aliases = [_norm(a) for a in cols["aliases"][i] or []]
        score = _tier(q, terms, name, aliases, _norm(cols["keywords"][i]), _norm(cols["definition"][i]))
        if not score:
            continue
        record = {c: cols[c][i] for c in SEARCH_SOURCE if c != "definition"}
        departments = record["departments"] or []
        record |= {
            "departments": departments,
            "aliases": record["aliases"] or [],
            "n_departments": len(departments),
            "score": score,
            "match": labels[score],
            "similarity": round(float(fuzz.partial_ratio(q, name)), 1),
        }
        records.append(record)
    return records


def _library_dir(repo_path: RepoLike) -> Path:
    root = working_tree(repo_path) if isinstance(repo_path, git.Repo) else Path(repo_path)
    return root / LIBRARY_DIR


def last_actuals(library_dir: Path) -> dict[str, tuple[int, list[float]]]:
    """indicator_id → (the latest evaluated year with actual values for it, those values sorted)."""
    actuals = published_actuals(library_dir)
    if actuals.empty:
        return {}
    latest = actuals.groupby("indicator_id")["year"].transform("max")
    last = actuals[actuals["year"] == latest].sort_values(["indicator_id", "actual_value"], kind="stable")
    return {
        str(iid): (int(group["year"].iloc[0]), [float(v) for v in group["actual_value"]])
        for iid, group in last.groupby("indicator_id", sort=True)
    }


def _with_actuals(hits: pd.DataFrame, found: dict[str, tuple[int, list[float]]]) -> pd.DataFrame:
    pairs: list[tuple[int | None, list[float]]] = [
        found.get(str(i), (None, [])) for i in hits["indicator_id"]
    ]
    years = pd.Series([y for y, _v in pairs], index=hits.index, dtype=object)  # None until evaluated
    return hits.assign(
        actual_year=years, actuals=pd.Series([v for _y, v in pairs], index=hits.index, dtype=object)
    )


def search(
    repo_path: RepoLike,
    query: str,
    level1: str | None = None,
    function_class: str | None = None,
    limit: int | None = 20,
    include_retired: bool = False,
    ref: str | None = None,
) -> pd.DataFrame:
    """Ranked matches for `query` in the working tree's library (or the release at `ref`).

    Query and fields are compared after 繁→简 and full-width→half-width normalization. Order: tier
    (exact name > name prefix > name has every term > alias > keywords > explanation > looser name
    matches), then rapidfuzz partial_ratio on the name, then indicator_id. frame.attrs carries query,
    normalized and total (matches before the limit).
    """
    q = _norm(query)
    terms = [_norm(t) for t in clean_text(str(query or "")).split(" ") if _norm(t)]
    if not q:
        raise QueryError("检索词为空：请给出指标名称、关键词或解释中的文字")
    if limit is not None and int(limit) < 1:
        raise QueryError(f"--limit 应为正整数，收到 {limit}")
    want_level1 = _norm(_level1_filter(level1)) if level1 else None
    code = _class_filter(function_class) if function_class else None
    table = _candidates(_library_indicators(repo_path, ref), include_retired, code)
    hits = pd.DataFrame(_matches(table, q, terms, want_level1), columns=SEARCH_COLUMNS)
    hits = hits.sort_values(
        ["score", "similarity", "indicator_id"], ascending=[False, False, True], kind="mergesort"
    )
    total = len(hits)
    if limit is not None:
        hits = hits.head(int(limit))
    found = last_actuals(_library_dir(repo_path)) if ref is None and len(hits) else {}
    out = _with_actuals(hits, found).reset_index(drop=True)
    out.attrs = {"query": str(query), "normalized": " ".join(terms), "total": total}
    return out


def render_search_text(hits: pd.DataFrame) -> str:
    """One line per hit: id, name, 一级/二级, unit, number of departments, why it matched."""
    query = hits.attrs.get("query", "")
    total = hits.attrs.get("total", len(hits))
    if not len(hits):
        return f"没有找到与「{query}」匹配的指标。可换用更短的词，或去掉 --level1 / --class 条件。\n"
    head = f"检索「{query}」：共 {total} 条匹配"
    head += f"，显示前 {len(hits)} 条" if total > len(hits) else ""
    lines = [head]
    for r in hits.itertuples(index=False):
        status = "" if r.status == "active" else f"〔{STATUS_ZH.get(r.status, r.status)}〕"
        unit = r.unit or "—"
        lines.append(
            f"  {r.indicator_id}  {r.name}{status}  {r.level1}/{r.level2}  单位：{unit}  "
            f"使用部门 {r.n_departments} 个  〔{r.match}〕{_actual_text(r.actual_year, r.actuals)}"
        )
    return "\n".join(lines) + "\n"


def _num(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _actual_text(year: object, values: list[float]) -> str:
    """ "  2025年完成值 1236" or "  2025年完成值 90–98（3 个）"; "" before any self-evaluation."""
    if not values or year is None:
        return ""
    if len(values) == 1:
        return f"  {year}年完成值 {_num(values[0])}"
    return f"  {year}年完成值 {_num(values[0])}–{_num(values[-1])}（{len(values)} 个）"


def search_json(hits: pd.DataFrame) -> dict[str, object]:
    """`indicators search --format json`: the query, how many matched, and the ranked hits."""
    records = [
        {k: [float(x) for x in v] if k == "actuals" else json_cell(v) for k, v in r.items()}
        for r in hits.to_dict("records")
    ]
    return {
        "query": hits.attrs.get("query", ""),
        "normalized": hits.attrs.get("normalized", ""),
        "total": hits.attrs.get("total", len(hits)),
        "hits": records,
    }
