"""verify's placement check of usages (_misplaced) looks each usage's indicator up in Arrow, not in a dict
built row by row: the same findings, including for an id written twice (its last row decides, as the dict
gave it) and for usages of ids the table lacks (not reported here)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.store.parts import indicator_part
from pipelines.store.verify import _misplaced


def _by_dict(ind: pd.DataFrame, use: pd.DataFrame) -> list[tuple[str, str]]:
    parts = [indicator_part(s, c) for s, c in zip(ind["scope"], ind["function_class"], strict=True)]
    part_of = dict(zip(ind["indicator_id"], parts, strict=True))
    return [
        (i, rel)
        for i, part, rel in zip(use["indicator_id"], use["_part"], use["_rel"], strict=True)
        if i in part_of and part_of[i] != part
    ]


def test_misplaced_usages_as_the_dict_found_them() -> None:
    rng = np.random.default_rng(5)
    classes = ["201", "208", "213", ""]
    scopes = ["项目", "项目", "共性", "部门整体"]
    n = 300
    ind = pd.DataFrame(
        {
            "indicator_id": [f"ZB-{i % 250:04d}" for i in range(n)],  # 50 ids written twice
            "scope": rng.choice(scopes, n),
            "function_class": rng.choice(classes, n),
        }
    ).astype("str")
    m = 2_000
    ids = [f"ZB-{i:04d}" for i in rng.integers(0, 280, m)]  # some the table lacks
    parts = rng.choice(["201", "208", "213", "other", "common", "dept"], m)
    use = pd.DataFrame(
        {"indicator_id": ids, "_part": parts, "_rel": [f"usages/2026/{p}.parquet" for p in parts]}
    ).astype({"indicator_id": "str"})
    want = _by_dict(ind, use)
    assert want and sorted(_misplaced(ind, use)) == sorted(want)
    repeated = set(ind["indicator_id"][ind["indicator_id"].duplicated()])
    assert any(i in repeated for i, _ in want)
