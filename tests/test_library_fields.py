"""Issue 13, "nothing a department wrote is dropped": every field of the submission template reaches the
published library (schemas/library.py, format 1.1).

Real workbooks (tests/xlsx_builders.py, the synthetic writer) with every template column filled and columns
the template does not know are rebuilt into a real git repo. Values are compared as cleaned like every cell
(schemas.text.clean_text: full-width letters and punctuation folded, so "，" reads ","); the cells under
unknown headers are kept exactly as written. Shared descriptive fields land on the indicator
(the value most departments wrote) and, as each department wrote them, on its usage; department-specific
fields on the usage; the cells under unknown headers in the usage's `extra` as one JSON object.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pipelines import rebuild
from pipelines.intake.headers import match_header
from pipelines.store.query.diff import diff
from pipelines.store.query.history import history
from pipelines.store.shape import read_release_table
from schemas.library import SINCE, UsageTable
from schemas.text import clean_text, compact
from schemas.vocab import reference
from tests.git_env import isolate_git
from tests.xlsx_builders import default_info, write_workbook

YEAR = 2026
UNKNOWN = {"责任科室": "办公室", "备注": "年中可调整"}  # written in this order; `extra` sorts them
INFO = {
    "parent_dept": "市人民政府",
    "contact": "张三",
    "phone": "0750-1234567",
    "functions": "负责本市政务公开工作",
    "function_basis": "市委办公室关于印发“三定”规定的通知",
    "strategic_goals": "提升政务公开水平",
}

CORE = {
    "seq": 1,
    "strategic_goal": "提升政务公开水平",
    "level1": "产出指标",
    "level2": "数量指标",
    "name": "政策宣传覆盖率",
    "definition": "反映政策宣传覆盖的对象占应覆盖对象的比例",
    "formula": "已覆盖对象数/应覆盖对象数×100%",
    "symbol": "≥",
    "target": 95,
    "unit": "%",
    "nature": "定量",
    "national_standard": "90%",
    "industry_standard": "92%",
    "history": "2024年:93%;2025年:94%",
    "standard_source": "《政务公开工作规范》",
    "data_source": "统计报表",
    "scoring_rule": "达到目标值得满分，每低1个百分点扣0.5分",
    "keywords": "宣传、覆盖",
    "include": "是",
    "change_type": "新增",
}
PROJECT = {
    "seq": 1,
    "project": "办公大楼运行保障",
    "project_category": "其他",
    "function_code": "2010101",
    "sector": "一般公共服务",
    "industry": "机关事务管理",
    "fund_use": "大楼日常维修维护",
    "project_goal": "保障办公大楼全年安全运行",
    "level1": "产出指标",
    "level2": "数量指标",
    "name": "日常维修维护次数",
    "definition": "反映办公大楼全年维修维护情况",
    "formula": "全年维修维护次数之和",
    "symbol": "≥",
    "target": 200,
    "unit": "次",
    "nature": "定量",
    "national_standard": "180次",
    "industry_standard": "190次",
    "standard_source": "《机关办公用房维修管理办法》",
    "history": "2025年:180次",
    "value_basis": "历史标准",
    "indicator_source": "部门自定",
    "data_source": "维修台账",
    "value_method": "情况统计法",
    "scoring_rule": "完成得满分，未完成按比例扣分",
    "weight": 20,
    "keywords": "维修、大楼",
    "project_nature": "经常性",
    "phased": "否",
    "include": "是",
    "change_type": "新增",
}
COMMON = PROJECT | {
    "name": "培训（会议）天数",
    "definition": "反映培训或会议的天数",
    "formula": "培训天数之和",
    "target": 2,
    "unit": "天",
    "standard_source": "《培训费管理办法》",
    "indicator_source": "财政部门共性指标",
    "scoring_rule": "按计划天数完成得满分",
    "weight": 10,
}
# Fields of the template the library keeps elsewhere or that only steer the row (序号, 纳入指标库, 变更类型,
# 库内编号), and the usage columns they land in when the name differs.
NOT_STORED = {"seq", "include", "change_type", "change_reason", "library_id"}
USAGE_COLUMN = {"history": "history", "target": "target", "weight": "weight"}
SHARED = ("standard_source", "indicator_source")  # the indicator's own, new in 1.1


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(tmp_path / "home", monkeypatch)


def _columns(kind: str, row: dict[str, object]) -> list[str]:
    """The template's columns of a sheet in its order, then the unknown ones."""
    return [spec.column for spec in reference().columns[kind]] + [c for c in UNKNOWN if c in row]


def _published(repo: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    library = repo / "library"
    return read_release_table(library, "indicators"), read_release_table(library, "usages")


def test_the_new_headers_are_matched_in_every_spelling() -> None:
    """评（扣）分标准 with full-width or half-width parentheses, Traditional, marked as required; 指标出处
    is the standard's source on every indicator sheet (it was an unknown header on the 项目 sheet)."""
    for kind in ("core", "project", "common"):
        lookup = reference().header_lookup[kind]
        for text in (
            "评（扣）分标准",
            "评(扣)分标准",
            "*評（扣）分標準",
            "评分标准",
            "扣分标准",
            "评（扣）分标准（必填）",
        ):
            assert match_header(text, lookup) == "scoring_rule", (kind, text)
        for text in ("指标标准来源", "指标出处", "标准来源"):
            assert match_header(text, lookup) == "standard_source", (kind, text)
        assert match_header("责任科室", lookup) is None
    assert compact("评（扣）分标准") == "评(扣)分标准"


def test_every_template_field_reaches_the_published_library(tmp_path: Path) -> None:
    """One workbook, every column of every indicator sheet filled plus two unknown columns, rebuilt into a
    real git repo: each value is found in the usages, the shared ones also on the indicator."""
    inbox, repo = tmp_path / "inbox", tmp_path / "repo"
    inbox.mkdir()
    rows = {"core": CORE | UNKNOWN, "project": PROJECT | UNKNOWN, "common": COMMON}
    write_workbook(
        inbox / "101001.xlsx",
        default_info(**INFO),
        [rows["core"]],
        [rows["project"]],
        [rows["common"]],
        columns={kind: _columns(kind, row) for kind, row in rows.items()},
    )
    done = rebuild.run(YEAR, inbox, repo, finance_dept="101001")  # the 共性 sheet is the finance bureau's
    assert done.validation.counts()["library"] == 3 and done.commit is not None and done.commit.committed
    indicators, usages = _published(repo)
    assert len(indicators) == 3 and len(usages) == 3
    scope_of = {"core": "部门整体", "project": "项目", "common": "共性"}
    for kind, row in rows.items():
        use = usages[usages["scope"] == scope_of[kind]].iloc[0]
        ind = indicators.set_index("indicator_id").loc[use["indicator_id"]]
        for column, value in row.items():
            if column in NOT_STORED or column in UNKNOWN:
                continue
            if column == "history":
                assert json.loads(use["history"]), kind  # parsed into year → value
            elif column == "weight":
                assert use["weight"] == value
            else:
                assert use[column] == clean_text(str(value)), (kind, column, use[column])
        for column in SHARED:
            assert ind[column] == clean_text(str(row.get(column, ""))), (kind, column)
        extra = {k: v for k, v in UNKNOWN.items() if k in row}
        assert use["extra"] == (json.dumps(extra, ensure_ascii=False, sort_keys=True) if extra else "")
    added = [c for c, spec in UsageTable.to_schema().columns.items() if (spec.metadata or {}).get(SINCE)]
    assert [c for c in added if not usages[c].ne("").any()] == []  # every 1.1 usage column was filled
    department = read_release_table(repo / "library", "departments").set_index("dept_code").loc["101001"]
    for key, value in INFO.items():  # 部门信息, but a person's contact details are not published
        if key in ("contact", "phone"):
            assert key not in department.index and value not in department.astype(str).tolist()
        else:
            assert department[key] == clean_text(value), key
    core_extra = usages.loc[usages["scope"] == "部门整体", "extra"].item()
    assert core_extra == '{"备注": "年中可调整", "责任科室": "办公室"}'  # sorted keys, Chinese as written


def test_an_unknown_drop_down_value_is_kept_as_written(tmp_path: Path) -> None:
    """A 取值方式 the list does not know only warns (W213); the usage keeps the department's wording."""
    inbox, repo = tmp_path / "inbox", tmp_path / "repo"
    inbox.mkdir()
    row = PROJECT | {"value_method": "专家评议法", "value_basis": "历史标准"}
    write_workbook(inbox / "101001.xlsx", default_info(), [CORE], [row], columns={"project": list(row)})
    done = rebuild.run(YEAR, inbox, repo, finance_dept="999")
    assert any(f.code == "W213" for f in done.validation.findings)
    _, usages = _published(repo)
    use = usages[usages["scope"] == "项目"].iloc[0]
    assert (use["value_method"], use["value_basis"]) == ("专家评议法", "历史标准")


DEPTS = (("201", "教育局"), ("202", "卫健委"), ("203", "民政局"))
# Three departments write one indicator; two word its shared fields alike, one otherwise.
WORDINGS = {
    "201": {
        "definition": "反映培训覆盖的人次",
        "standard_source": "《培训管理办法》",
        "indicator_source": "上级文件",
    },
    "202": {
        "definition": "反映培训覆盖的人次",
        "standard_source": "《培训管理办法》",
        "indicator_source": "上级文件",
    },
    "203": {
        "definition": "反映参加培训的人数",
        "standard_source": "省培训规划",
        "indicator_source": "部门自定",
    },
}


def _shared_indicator_inbox(
    folder: Path, year: int, edits: dict[str, dict[str, object]] | None = None
) -> Path:
    folder.mkdir(parents=True)
    for code, name in DEPTS:
        row = PROJECT | {"project": f"{name}培训项目", "name": "培训人次", "unit": "人次", "target": 300}
        row |= WORDINGS[code] | (edits or {}).get(code, {})
        info = default_info(year=year, dept_code=code, dept_name=name)
        write_workbook(folder / f"{code}.xlsx", info, [CORE], [row], columns={"project": list(row)})
    return folder


def test_the_indicator_takes_the_most_common_wording_and_each_usage_keeps_its_own(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    rebuild.run(YEAR, _shared_indicator_inbox(tmp_path / "2026", YEAR), repo, finance_dept="999")
    indicators, usages = _published(repo)
    training = usages[usages["name"] == "培训人次"].sort_values("dept_code")
    assert training["indicator_id"].nunique() == 1 and training["dept_code"].tolist() == ["201", "202", "203"]
    ind = indicators.set_index("indicator_id").loc[training["indicator_id"].iloc[0]]
    assert (ind["definition"], ind["standard_source"], ind["indicator_source"]) == (
        "反映培训覆盖的人次",
        "《培训管理办法》",
        "上级文件",
    )
    for field in ("definition", "standard_source", "indicator_source"):
        assert training[field].tolist() == [WORDINGS[c][field] for c, _ in DEPTS], field


def test_a_change_request_updates_the_new_shared_fields_and_diff_shows_it(tmp_path: Path) -> None:
    """An existing indicator's standard_source and indicator_source change only through 修改 (like every
    tracked field): 沿用 rows with another wording leave the indicator as it was; a 修改 row updates it
    and diff and history show the change with its reason."""
    repo = tmp_path / "repo"
    rebuild.run(YEAR, _shared_indicator_inbox(tmp_path / "2026", YEAR), repo, finance_dept="999")
    indicators, usages = _published(repo)
    iid = usages.loc[usages["name"] == "培训人次", "indicator_id"].iloc[0]
    keep = {"change_type": "沿用", "library_id": iid}
    edits = {
        "201": {"change_type": "修改", "library_id": iid, "change_reason": "依据新修订的办法",
                "standard_source": "《培训管理办法（2026年修订）》"},
        "202": keep | {"standard_source": "其他写法"},
        "203": keep,
    }  # fmt: skip
    rebuild.run(
        YEAR + 1, _shared_indicator_inbox(tmp_path / "2027", YEAR + 1, edits), repo, finance_dept="999"
    )
    after, usages = _published(repo)
    ind = after.set_index("indicator_id").loc[iid]
    assert ind["standard_source"] == "《培训管理办法(2026年修订)》"
    assert ind["indicator_source"] == "上级文件"  # the 修改 row left it as it was
    assert ind["last_change_type"] == "修改"
    this_year = usages[(usages["year"] == YEAR + 1) & (usages["indicator_id"] == iid)].sort_values(
        "dept_code"
    )
    assert this_year["standard_source"].tolist() == ["《培训管理办法(2026年修订)》", "其他写法", "省培训规划"]
    changes = diff(repo, f"v{YEAR}", f"v{YEAR + 1}")
    modified = changes.modified[changes.modified["indicator_id"] == iid]
    assert modified[["field", "old", "new", "reason"]].values.tolist() == [
        ["standard_source", "《培训管理办法》", "《培训管理办法(2026年修订)》", "依据新修订的办法"]
    ]
    fields = history(repo, iid).releases[-1].events[0]["fields"]
    assert [(f["field_zh"], f["new"]) for f in fields] == [("指标标准来源", "《培训管理办法(2026年修订)》")]
