"""Builders of small, valid LibraryTables for tests (reused by other test files).

Import as `from tests.library_fixtures import ...` (run pytest from the repo root).

Rows are dicts with every column of schemas/library.py; `tables_from_rows` gives them the dtypes the
pandera models expect. Indicator names are real ones (../shared/realdata), copied here so tests do not
depend on files outside the repo.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable

import pandas as pd

from schemas.library import (
    SCOPE_LETTER,
    DepartmentTable,
    IndicatorTable,
    LibraryTables,
    SetAsideTable,
    UsageTable,
)

NAMESPACE = "SZ"
YEAR = 2026

# (function_code, level1, level2, name, unit, symbol, target) — real indicator rows, 项目 scope
REAL_PROJECT_ROWS = [
    ("2010101", "产出指标", "数量指标", "培训班次（会议次数）", "次", "≥", "4"),
    ("2010101", "产出指标", "数量指标", "培训（参会）人次", "人次", "≥", "300"),
    ("2010350", "产出指标", "质量指标", "办公大楼日常维修维护验收合格率", "%", "≥", "92"),
    ("2010350", "产出指标", "数量指标", "大楼安检巡察次数", "次", "≥", "200"),
    ("2080101", "产出指标", "数量指标", "预计新增档案整理移库", "标箱", "≥", "1000"),
    ("2080101", "效益指标", "社会效益指标", "社保业务档案支撑政策制定次数", "次", "≥", "2"),
    ("2080101", "满意度指标", "服务对象满意度指标", "参保群众权益追溯响应满意度", "%", "≥", "95"),
    ("2080101", "产出指标", "质量指标", "档案存储设施稳定运行率", "%", "≥", "99"),
    ("2130101", "产出指标", "数量指标", "基建工程委托业务项目数量", "个", "≥", "50"),
    ("2130101", "成本指标", "经济成本指标", "项目总成本", "万元", "≤", "90"),
    (
        "2130101",
        "效益指标",
        "可持续影响指标",
        "对推动基建项目“四项制度”健全和落实的持续性影响",
        "",
        "定性",
        "效果明显",
    ),
]
REAL_COMMON_ROWS = [
    ("产出指标", "数量指标", "培训（会议）天数", "天", "≥", "2"),
    ("产出指标", "数量指标", "培训（会议）完成率", "%", "=", "100"),
]
# 功能分类 类 the synthetic library spreads its 项目 indicators over.
SYNTHETIC_CLASSES = ("201", "204", "205", "206", "207", "208", "210", "211", "212", "213", "214", "215", "216",
                     "220", "221", "224")  # fmt: skip
REAL_DEPT_ROWS = [
    ("产出指标", "时效指标", "按时发放率", "%", "=", "100"),
    ("效益指标", "经济效益指标", "结余率", "%", "≤", "5"),
]


# Usage columns added in format 1.1 (""): listed so that a test can set them as overrides.
USAGE_COLUMNS_1_1 = (
    "definition", "formula", "nature", "keywords", "national_standard", "industry_standard", "standard_source",
    "indicator_source", "value_basis", "value_method", "scoring_rule", "project_goal", "project_nature", "sector",
    "industry", "fund_use", "strategic_goal", "phased", "extra",
)  # fmt: skip


def make_id(scope: str, n: int, namespace: str = NAMESPACE) -> str:
    return f"{namespace}-{SCOPE_LETTER[scope]}{n:06d}"


def indicator(
    indicator_id: str,
    name: str,
    *,
    scope: str = "项目",
    function_code: str = "2080101",
    level1: str = "产出指标",
    level2: str = "数量指标",
    unit: str = "",
    symbol: str = "≥",
    year: int = YEAR,
    **overrides,
) -> dict:
    """One indicators row with every column; function_class follows function_code for 项目."""
    row = {
        "indicator_id": indicator_id,
        "scope": scope,
        "level1": level1,
        "level2": level2,
        "name": name,
        "definition": f"反映{name}情况。",
        "formula": "",
        "symbol": symbol,
        "unit": unit,
        "nature": "定性" if symbol == "定性" else "定量",
        "function_code": function_code if scope == "项目" else "",
        "function_class": function_code[:3] if scope == "项目" else "",
        "keywords": "",
        "national_standard": "",
        "industry_standard": "",
        "aliases": [],
        "departments": [],
        "first_year": year,
        "last_year": year,
        "status": "active",
        "retired_year": None,
        "retire_reason": "",
        "merged_into": "",
        "last_change_year": year,
        "last_change_type": "新增",
        "last_change_reason": "",
        "origin": "本级",
        "standard_source": "",
        "indicator_source": "",
    }
    unknown = set(overrides) - set(row)
    assert not unknown, f"unknown indicator columns {unknown}"
    row.update(overrides)
    return row


def usage(ind: dict, *, dept_code: str = "101", year: int = YEAR, source_row: int = 5, **overrides) -> dict:
    """One usages row of indicator `ind` (a dict from `indicator`)."""
    target = overrides.pop("target", "95")
    row = {
        "indicator_id": ind["indicator_id"],
        "year": year,
        "dept_code": dept_code,
        "dept_name": f"部门{dept_code}",
        "scope": ind["scope"],
        "project": "档案存储服务项目" if ind["scope"] == "项目" else "",
        "project_category": "政府购买服务类" if ind["scope"] == "项目" else "",
        "function_code": ind["function_code"],
        "level1": ind["level1"],
        "level2": ind["level2"],
        "name": ind["name"],
        "symbol": ind["symbol"],
        "target": target,
        "target_value": _number(target),
        "unit": ind["unit"],
        "weight": 10.0,
        "history": json.dumps({str(year - 1): target}, ensure_ascii=False),
        "change_type": "沿用",
        "change_reason": "",
        "data_source": "业务统计",
        "source_file": f"{dept_code}_{year}.xlsx",
        "source_sheet": "项目支出指标" if ind["scope"] == "项目" else "部门整体核心指标",
        "source_row": source_row,
        **dict.fromkeys(USAGE_COLUMNS_1_1, ""),
    }
    unknown = set(overrides) - set(row)
    assert not unknown, f"unknown usage columns {unknown}"
    row.update(overrides)
    return row


def department(dept_code: str, *, year: int = YEAR, **overrides) -> dict:
    row = {
        "dept_code": dept_code,
        "dept_name": f"部门{dept_code}",
        "parent_dept": "",
        "complexity": "单一",
        "functions": "",
        "strategic_goals": "",
        "first_year": year,
        "last_year": year,
    }
    row.update(overrides)
    return row


def set_aside_row(
    outcome: str, *, dept_code: str = "101", year: int = YEAR, source_row: int | None = 40, **overrides
) -> dict:
    reasons = {
        "noncore": ("", "纳入指标库=否"),
        "excluded": ("", "阶段性指标"),
        "rejected": ("R101", "必填项为空"),
    }
    codes, text = reasons[outcome]
    row = {
        "year": year,
        "outcome": outcome,
        "reason_codes": codes,
        "reasons": text,
        "dept_code": dept_code,
        "scope": "项目",
        "project": "档案存储服务项目",
        "level1": "产出指标",
        "level2": "数量指标",
        "name": f"被{outcome}的指标{source_row}",
        "target": "1",
        "unit": "次",
        "source_file": f"{dept_code}_{year}.xlsx",
        "source_sheet": "项目支出指标",
        "source_row": source_row,
    }
    row.update(overrides)
    return row


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _frame(rows: list[dict], model) -> pd.DataFrame:
    schema = model.to_schema()
    cols = list(schema.columns)
    data: dict[str, pd.Series] = {}
    for col in cols:
        values = [r.get(col, schema.columns[col].default) for r in rows]
        dtype = str(schema.columns[col].dtype)
        if dtype == "int64" and schema.columns[col].nullable:
            dtype = "Int64"  # as publish.load_library gives it back
        if dtype == "object":
            data[col] = pd.Series([list(v) for v in values], dtype=object)
        elif dtype in ("int64", "Int64", "float64"):
            data[col] = pd.Series(values, dtype=dtype)
        else:
            data[col] = pd.Series(values, dtype="str")
    return pd.DataFrame(data, columns=cols)


def tables_from_rows(
    indicators: Iterable[dict],
    usages: Iterable[dict],
    departments: Iterable[dict],
    set_aside: Iterable[dict] = (),
) -> LibraryTables:
    """LibraryTables with the dtypes of schemas/library.py (validated, so a bad fixture fails loudly)."""
    tables = LibraryTables(
        indicators=_frame(list(indicators), IndicatorTable),
        usages=_frame(list(usages), UsageTable),
        departments=_frame(list(departments), DepartmentTable),
        set_aside=_frame(list(set_aside), SetAsideTable),
    )
    IndicatorTable.validate(tables.indicators)
    UsageTable.validate(tables.usages)
    DepartmentTable.validate(tables.departments)
    SetAsideTable.validate(tables.set_aside)
    return tables


def _real_indicators(year: int) -> list[dict]:
    """The REAL_* rows as active indicators of `year`: 项目, then 共性, then 部门整体."""
    inds: list[dict] = []
    for n, (code, l1, l2, name, unit, sym, _t) in enumerate(REAL_PROJECT_ROWS, start=1):
        inds.append(
            indicator(
                make_id("项目", n),
                name,
                function_code=code,
                level1=l1,
                level2=l2,
                unit=unit,
                symbol=sym,
                year=year,
            )
        )
    for n, (l1, l2, name, unit, sym, _t) in enumerate(REAL_COMMON_ROWS, start=1):
        inds.append(
            indicator(
                make_id("共性", n), name, scope="共性", level1=l1, level2=l2, unit=unit, symbol=sym, year=year
            )
        )
    for n, (l1, l2, name, unit, sym, _t) in enumerate(REAL_DEPT_ROWS, start=1):
        inds.append(
            indicator(
                make_id("部门整体", n),
                name,
                scope="部门整体",
                level1=l1,
                level2=l2,
                unit=unit,
                symbol=sym,
                year=year,
            )
        )
    return inds


def small_rows(year: int = YEAR) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    """Rows of a small library: 项目 indicators in classes 201/208/213, 共性 and 部门整体 ones, a retired one."""
    inds = _real_indicators(year)
    retired = indicator(
        make_id("项目", 99),
        "档案整理数量（旧）",
        function_code="2080101",
        unit="卷",
        year=year - 1,
        status="retired",
        retired_year=year,
        retire_reason="本年度无部门使用",
        aliases=["档案整理卷数", "整理档案数量"],
    )
    inds.append(retired)

    targets = {r[3]: r[6] for r in REAL_PROJECT_ROWS} | {
        r[2]: r[5] for r in REAL_COMMON_ROWS + REAL_DEPT_ROWS
    }
    uses: list[dict] = []
    depts = ["101", "205"]
    for i, ind in enumerate(i for i in inds if i["status"] == "active"):
        dept = depts[i % 2]
        ind["departments"] = [dept]
        uses.append(usage(ind, dept_code=dept, year=year, source_row=4 + i, target=targets[ind["name"]]))
    sets = [
        set_aside_row("noncore", dept_code="101", year=year, source_row=60),
        set_aside_row("excluded", dept_code="205", year=year, source_row=61),
        set_aside_row("rejected", dept_code="205", year=year, source_row=62),
        # a workbook set aside whole: its row has no row number
        set_aside_row(
            "rejected",
            dept_code="309",
            year=year,
            source_row=None,
            reason_codes="F003",
            reasons="填报年度不是本次重建年度",
            source_sheet="",
        ),
    ]
    return inds, uses, [department(d, year=year) for d in depts], sets


def small_tables(year: int = YEAR) -> LibraryTables:
    return tables_from_rows(*small_rows(year))


def accounting_for(tables: LibraryTables, year: int = YEAR) -> dict[str, int]:
    """Row accounting consistent with the tables: usages of the year are the library rows."""
    sa = tables.set_aside[tables.set_aside["year"] == year]
    counts = {
        "library": int((tables.usages["year"] == year).sum()),
        "noncore": int((sa["outcome"] == "noncore").sum()),
        "excluded": int((sa["outcome"] == "excluded").sum()),
        "rejected": int((sa["outcome"] == "rejected").sum()),
    }
    return {"read": sum(counts.values()), **counts}


def synthetic_tables(
    n_usages: int = 100_000, *, year: int = YEAR, n_depts: int = 85, seed: int = 0
) -> LibraryTables:
    """A city-sized library for measurements: ~1 indicator per 15 usages over many function classes."""
    rng = random.Random(seed)
    classes = list(SYNTHETIC_CLASSES)
    base = REAL_PROJECT_ROWS
    n_ind = max(1, n_usages // 15)
    inds = []
    for n in range(1, n_ind + 1):
        code, l1, l2, name, unit, sym, _t = base[n % len(base)]
        scope = "项目" if n % 20 else ("共性" if n % 40 else "部门整体")
        fcode = rng.choice(classes) + code[3:]
        inds.append(
            indicator(
                make_id(scope, n),
                f"{name}{n}",
                scope=scope,
                function_code=fcode,
                level1=l1,
                level2=l2,
                unit=unit,
                symbol=sym,
                year=year,
            )
        )
    depts = [str(100 + d) for d in range(n_depts)]
    uses = []
    for k in range(n_usages):
        ind = inds[rng.randrange(n_ind)]
        dept = rng.choice(depts)
        uses.append(
            usage(
                ind,
                dept_code=dept,
                year=year,
                source_row=5 + k,
                project=f"项目{k % 997}",
                target=str(rng.randint(1, 100)),
            )
        )
    by_ind: dict[str, set[str]] = {}
    for u in uses:
        by_ind.setdefault(u["indicator_id"], set()).add(u["dept_code"])
    for ind in inds:
        ind["departments"] = sorted(by_ind.get(ind["indicator_id"], ()))
    sets = [
        set_aside_row(
            ("noncore", "excluded", "rejected")[k % 3], dept_code=rng.choice(depts), year=year, source_row=k
        )
        for k in range(n_usages // 20)
    ]
    return tables_from_rows(inds, uses, [department(d, year=year) for d in depts], sets)
