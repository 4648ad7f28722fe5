"""The year's changes to the library (the same ChangeSet as CHANGELOG.md and `indicators diff`) and the
likely duplicates awaiting a person's decision in merge_review.xlsx."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.common.packed_texts import unpacked
from pipelines.consolidate.changes import ChangeSet, _text
from pipelines.report.model import HTML_ROW_LIMIT, PAIRS_SHOWN, ReviewTable
from pipelines.report.text_columns import str_dtype
from schemas.library import TITLES_ZH

ADDED_TITLES = {
    "indicator_id": "指标编号",
    "name": "指标名称",
    "scope": "范围",
    "departments": "使用部门",
    "reason": "说明",
}
MODIFIED_TITLES = {
    "indicator_id": "指标编号",
    "name": "指标名称",
    "field": "字段",
    "old": "原值",
    "new": "新值",
    "reason": "理由",
}
RETIRED_TITLES = {"indicator_id": "指标编号", "name": "指标名称", "reason": "退出原因"}
MERGED_TITLES = {
    "indicator_id": "指标编号",
    "name": "指标名称",
    "into_id": "并入编号",
    "into_name": "并入指标",
    "reason": "理由",
}
REACTIVATED_TITLES = {"indicator_id": "指标编号", "name": "指标名称", "reason": "说明"}
CANDIDATE_TITLES = {
    "id_a": "指标编号A",
    "name_a": "指标名称A",
    "id_b": "指标编号B",
    "name_b": "指标名称B",
    "score": "相似度",
    "reason": "理由",
}


def _take(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The columns as display text (changes._text), as frame.map(_text) gives them: a text is itself, so
    only the other values go through _text (1M rows' 192k added indicators: 0.4 s of the review). A
    column of the str dtype with no missing value is taken as it is: its values are texts, and a frame
    built from texts has that dtype (1M rows' first release: 207k added indicators' five columns, each
    made a list, checked and made an Arrow column again, were 0.23 s of the review tables)."""
    if frame.empty:
        return pd.DataFrame(columns=columns)
    texts = str_dtype()
    out: dict[str, object] = {}
    for c in columns:
        values = frame[c]
        if values.dtype == texts and not values.hasnans:
            out[c] = values.reset_index(drop=True)
        else:
            out[c] = [v if type(v) is str else _text(v) for v in values.tolist()]
    return pd.DataFrame(out)


def change_frames(changes: ChangeSet) -> dict[str, pd.DataFrame]:
    """Each kind of change as display text; a modification's field by its Chinese header."""
    modified = _take(changes.modified, list(MODIFIED_TITLES))
    modified["field"] = [TITLES_ZH.get(f, f) for f in modified["field"]]
    return {
        "added": _take(changes.added, list(ADDED_TITLES)),
        "modified": modified,
        "retired": _take(changes.retired, list(RETIRED_TITLES)),
        "merged": _take(changes.merged, list(MERGED_TITLES)),
        "reactivated": _take(changes.reactivated, list(REACTIVATED_TITLES)),
    }


def candidates_table(candidates: pd.DataFrame, limit: int | None = None) -> pd.DataFrame:
    """Likely duplicate pairs, most similar first; with `limit`, only the first `limit` of that order (the
    review shows the top XLSX_PAIR_LIMIT of a list merge_review.xlsx holds whole)."""
    columns = list(CANDIDATE_TITLES)
    if candidates is None or candidates.empty:
        return pd.DataFrame(columns=columns)
    score = pd.to_numeric(candidates["score"], errors="coerce").round(0)
    rows = _at_least_limit(score.to_numpy(dtype=np.float64), limit)
    if rows is not None:  # the rows scoring no lower than the limit-th: the sort's head is theirs
        candidates, score = candidates.iloc[rows], score.iloc[rows]
    frame = unpacked(candidates[columns].copy())  # the 理由 as str (held packed: review_pairs.reported)
    frame["score"] = score
    frame = frame.sort_values(["score", "id_a", "id_b"], ascending=[False, True, True], kind="stable")
    return (frame if limit is None else frame.head(limit)).reset_index(drop=True)


def _at_least_limit(score: np.ndarray, limit: int | None) -> np.ndarray | None:
    """The positions of every row scoring at least the limit-th highest score (NaN sorts last), in
    order; None for all rows. A stable sort of these rows starts as the whole list's does: a row of its
    first `limit` never scores below them, and the kept rows keep their order (1M rows' 1.29M pairs:
    the full sort was 2.1 s of the report)."""
    if limit is None or len(score) <= limit:
        return None
    known = score[~np.isnan(score)]
    if len(known) < limit:
        return None  # the head reaches the missing scores: every row may be in it
    threshold = np.partition(known, len(known) - limit)[len(known) - limit]
    return np.flatnonzero(score >= threshold)


def change_reviews(changes: ChangeSet) -> list[ReviewTable]:
    frames = change_frames(changes)
    return [
        ReviewTable("added", "新增指标", "新增指标", frames["added"], ADDED_TITLES),
        ReviewTable("modified", "修改指标", "修改指标（逐字段）", frames["modified"], MODIFIED_TITLES),
        ReviewTable("retired", "退出指标", "退出指标", frames["retired"], RETIRED_TITLES),
        ReviewTable("merged", "合并指标", "合并的重复指标", frames["merged"], MERGED_TITLES),
        ReviewTable("reactivated", "恢复使用", "恢复使用的指标", frames["reactivated"], REACTIVATED_TITLES),
    ]


def candidates_review(candidates: pd.DataFrame) -> ReviewTable:
    """The most similar pairs (as many as review.xlsx lists; the page shows fewer) and how many there are."""
    return ReviewTable(
        "candidates",
        "疑似重复",
        "待人工审核的疑似重复指标",
        candidates_table(candidates, max(PAIRS_SHOWN, HTML_ROW_LIMIT)),
        CANDIDATE_TITLES,
        ("score",),
        "请在 merge_review.xlsx 中逐对决定“合并”或“不合并”，再运行 indicators review。",
        total=0 if candidates is None else len(candidates),
    )
