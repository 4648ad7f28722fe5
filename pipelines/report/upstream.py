"""A county repo's section of the review: what it inherits from the city release and where the two meet."""

from __future__ import annotations

import pandas as pd

from pipelines.consolidate.upstream import Overlay
from pipelines.report.model import ReviewTable


def upstream_reviews(overlay: Overlay) -> list[ReviewTable]:
    summary = pd.DataFrame(
        [
            ("上级指标库版本", overlay.upstream_tag or "（未记录）"),
            ("在用上级指标", overlay.counts.get("上级", 0)),
            ("在用本级指标", overlay.counts.get("本级", 0)),
            ("本级指标已被上级收录（并入上级编号）", len(overlay.covered)),
            ("上级已退出但本级仍在使用", len(overlay.retired_in_use)),
            ("继承的上级指标定义变化（字段）", len(overlay.inherited)),
        ],
        columns=["item", "value"],
    ).astype({"value": str})
    return [
        ReviewTable(
            "upstream_summary", "上级_概况", "与上级指标库的关系", summary, {"item": "项目", "value": "数值"}
        ),
        ReviewTable(
            "upstream_covered",
            "上级_已收录",
            "本级指标已被上级收录：并入上级编号，原编号保留为历史",
            overlay.covered.sort_values("indicator_id"),
            {"indicator_id": "本级编号", "name": "本级名称", "into_id": "上级编号", "into_name": "上级名称"},
        ),
        ReviewTable(
            "upstream_retired",
            "上级_已退出仍使用",
            "上级已退出、本级仍在使用的指标",
            overlay.retired_in_use.sort_values("indicator_id"),
            {
                "indicator_id": "上级编号",
                "name": "名称",
                "reason": "上级退出原因",
                "departments": "仍在使用的本级部门",
            },
        ),
        ReviewTable(
            "upstream_inherited",
            "上级_定义变化",
            "继承的上级指标定义变化",
            overlay.inherited.sort_values(["indicator_id", "field"]),
            {"indicator_id": "上级编号", "name": "名称", "field": "字段", "old": "原值", "new": "新值"},
        ),
    ]
