"""The synthetic workbook writer (pipelines/demo/workbook.py) behind the demo, the corpus and tests' builders.

What it writes must read back through the product's reader as the rows it was given, wherever the
officials' habits put them (titles, own headers and column order, merged runs, blank rows, notes), and
the same description must give the same bytes.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from pipelines.demo.workbook import (
    OFFICIAL_RUNS,
    Grid,
    IndicatorSheet,
    InfoSheet,
    Styled,
    indicator_grid,
    info_grid,
    info_label,
    sheet_name,
    workbook_bytes,
)
from pipelines.intake.read import read_workbook

CREATED = datetime(2025, 11, 20, 9, 30)
INFO = {"year": 2026, "dept_code": "205001", "dept_name": "市教育局", "contact": "王五"}


def _project_rows() -> list[dict[str, object]]:
    """Two projects; the first has two 一级 groups, so runs of 项目名称 and 一级 end at different rows."""
    rows = []
    for project, function_code, indicators in (
        ("校舍维修改造项目", "2050201", [("产出指标", "数量指标", "维修校舍面积", 1200, "平方米"),
                                          ("产出指标", "质量指标", "维修工程验收合格率", 100, "%"),
                                          ("满意度指标", "服务对象满意度指标", "师生满意度", 90, "%")]),
        ("教师培训项目", "2050803", [("产出指标", "数量指标", "培训教师人次", 800, "人次"),
                                    ("产出指标", "时效指标", "培训按时完成率", 95, "%")]),
    ):  # fmt: skip
        for level1, level2, name, target, unit in indicators:
            rows.append({"project": project, "function_code": function_code, "level1": level1, "level2": level2,
                         "name": name, "definition": f"反映{name}", "symbol": "≥", "target": target, "unit": unit, "nature": "定量",
                         "include": "是", "change_type": "新增"})  # fmt: skip
    return rows


def _core_rows() -> list[dict[str, object]]:
    return [
        {"level1": "产出指标", "level2": "数量指标", "name": "政策文件出台数量", "symbol": "≥", "target": "3",
         "unit": "个", "nature": "定量", "include": "是", "change_type": "新增"},
        {"level1": "产出指标", "level2": "质量指标", "name": "重点任务完成率", "symbol": "=", "target": 100,
         "unit": "%", "nature": "定量", "include": "是", "change_type": "新增"},
    ]  # fmt: skip


def _messy_project_sheet() -> IndicatorSheet:
    columns = ["seq", "name", "project", "function_code", "level1", "level2", "target", "unit", "symbol",
               "definition", "nature", "include", "change_type", "备注"]  # fmt: skip
    rows = [{**row, "seq": i + 1} for i, row in enumerate(_project_rows())]
    return IndicatorSheet(
        "project",
        rows,
        columns=columns,
        headers={"name": "三级指标名称", "target": "指标值"},
        titles=["市教育局2026年度项目支出绩效目标申报表", "金额单位：万元"],
        runs={c: OFFICIAL_RUNS[c] for c in columns if c in OFFICIAL_RUNS},
        blank_after={2},
        notes_gap=1,
        notes=[["填表人：王五", None, None, "审核人：李四"], "注：目标值请填写数值。"],
    )


def _bytes(project: IndicatorSheet, *, streaming: bool = False) -> tuple[bytes, list[int]]:
    rows = [(info_label(k), v) for k, v in INFO.items()]
    info, _ = info_grid(InfoSheet(rows, title="部门基本信息表", merge_title=not streaming))
    core, _ = indicator_grid(IndicatorSheet("core", _core_rows()))
    grid, placed = indicator_grid(project)
    grids = [info, core, grid]
    return workbook_bytes(
        grids, created=CREATED, properties={"author": "测试"}, streaming=streaming
    ), placed.data_rows


def test_written_workbook_reads_back_with_the_same_rows(tmp_path: Path) -> None:
    data, data_rows = _bytes(_messy_project_sheet())
    path = tmp_path / "教育局.xlsx"
    path.write_bytes(data)
    book = read_workbook(path)

    assert book.readable and not [f for f in book.findings if f.severity == "file_error"]
    assert book.info["year"] == "2026" and book.info["dept_code"] == "205001"
    assert book.info["dept_name"] == "市教育局" and book.info["contact"] == "王五"

    sheet = book.sheets["project"]
    assert sheet.sheet_name == sheet_name("project") == "项目支出指标"
    assert sheet.header_row == 3  # two title rows above
    assert sheet.columns["name"] == "B" and sheet.columns["target"] == "G"
    assert "备注" in sheet.unknown_headers  # an extra column keeps its header
    frame = sheet.frame
    # Every row where the writer says it is (a blank row after the third), with its own values: merged
    # 项目名称 / 功能分类 / 一级 cells read back on each row of their run.
    assert list(frame["source_row"].astype(int)) == data_rows == [4, 5, 6, 8, 9]
    expected = _project_rows()
    for column in ("project", "function_code", "level1", "level2", "name", "definition", "unit", "symbol"):
        assert list(frame[column]) == [str(row[column]) for row in expected], column
    assert list(frame["target_value"]) == [float(row["target"]) for row in expected]  # type: ignore[arg-type]
    # The notes rows after one empty row, set aside by the reader as notes, not data.
    assert [row for row, _ in sheet.skipped_rows] == [11, 12]

    core = book.sheets["core"].frame
    assert list(core["name"]) == ["政策文件出台数量", "重点任务完成率"]
    assert list(core["target"]) == ["3", "100"]  # "3" typed as text, 100 as a number: both read as typed


def test_merged_runs_follow_the_officials_hierarchy(tmp_path: Path) -> None:
    data, _ = _bytes(_messy_project_sheet())
    path = tmp_path / "merged.xlsx"
    path.write_bytes(data)
    ws = openpyxl.load_workbook(path)["项目支出指标"]
    vertical = sorted(str(r) for r in ws.merged_cells.ranges if r.min_col == r.max_col)
    # 项目名称 (C) and 功能分类 (D) over the first project's three rows; 一级 (E) only over its two 产出
    # rows; nothing across the blank row, nothing for the second project's single-row runs... except its
    # two rows of the same project and 一级.
    assert vertical == ["C4:C6", "C8:C9", "D4:D6", "D8:D9", "E4:E5", "E8:E9"]
    assert ws["C4"].value == "校舍维修改造项目" and ws["C5"].value is None  # value in the top cell only
    # The first title row and the one-cell note are merged across the 14 columns; the second title is not.
    across = sorted(str(r) for r in ws.merged_cells.ranges if r.min_row == r.max_row)
    assert across == ["A12:N12", "A1:N1"]
    assert ws["A2"].value == "金额单位：万元" and ws["D11"].value == "审核人：李四"


def test_same_description_same_bytes_and_streaming_reads_the_same(tmp_path: Path) -> None:
    first, _ = _bytes(_without_merges())
    again, _ = _bytes(_without_merges())
    assert first == again
    grid, _ = indicator_grid(_without_merges())
    assert workbook_bytes([grid], created=CREATED) != workbook_bytes([grid], created=datetime(2026, 1, 1))

    streamed, _ = _bytes(_without_merges(), streaming=True)
    assert streamed != first  # inline strings instead of a shared-strings table
    frames = []
    for name, data in (("a.xlsx", first), ("b.xlsx", streamed)):
        (tmp_path / name).write_bytes(data)
        frames.append(read_workbook(tmp_path / name).sheets["project"].frame.drop(columns=["source_file"]))
    assert frames[0].equals(frames[1])
    assert len(frames[0]) == 5


def _without_merges() -> IndicatorSheet:
    """The messy sheet with nothing merged: no runs, titles and notes in single cells."""
    sheet = _messy_project_sheet()
    sheet.runs, sheet.merged_titles = {}, 0
    sheet.notes = [["填表人：王五", None, None, "审核人：李四"], ["注：目标值请填写数值。"]]
    return sheet


def test_runs_blanked_instead_of_merged_leave_the_top_value_only() -> None:
    sheet = _without_merges()
    sheet.runs = {"project": (), "level1": ("project",)}
    sheet.merge_runs = False
    grid, placed = indicator_grid(sheet)
    assert not [m for m in grid.merges if m[1] == m[3]]  # only the title rows are merged
    project_col = sheet.columns.index("project")
    values = [grid.cells.get((row - 1, project_col), (None, None))[0] for row in placed.data_rows]
    assert values == ["校舍维修改造项目", None, None, "教师培训项目", None]


def test_streaming_refuses_merges_and_cells_must_be_cell_values() -> None:
    grid, _ = indicator_grid(_messy_project_sheet())
    with pytest.raises(ValueError, match="streaming"):
        workbook_bytes([grid], created=CREATED, streaming=True)
    odd = Grid("部门信息")
    odd.cells[(0, 0)] = (datetime(2026, 1, 1), None)  # type: ignore[assignment]
    with pytest.raises(TypeError, match="datetime"):
        workbook_bytes([odd], created=CREATED)


def test_formats_are_applied_by_name(tmp_path: Path) -> None:
    grid = Grid("部门信息", widths={1: 60})
    grid.put(0, 0, Styled(0.95, "pct"))
    grid.put(0, 1, Styled("=1+1", None))  # text, never a formula
    path = tmp_path / "f.xlsx"
    path.write_bytes(workbook_bytes([grid], created=CREATED, formats={"pct": {"num_format": "0%"}}))
    ws = openpyxl.load_workbook(path)["部门信息"]
    assert ws["A1"].number_format == "0%" and ws["A1"].value == 0.95
    assert ws["B1"].value == "=1+1" and ws["B1"].data_type == "s"
    assert ws.column_dimensions["B"].width == pytest.approx(60, abs=1)


def test_tests_builders_write_through_it_deterministically(tmp_path: Path) -> None:
    from tests.xlsx_builders import core_row, default_info, project_row, write_workbook

    def write(name: str) -> bytes:
        written = write_workbook(
            tmp_path / name, default_info(), [core_row()], [project_row(), project_row(name="维修响应时间")],
            merged=["project"], title_rows=1, notes_rows={"project": ["填表人：张三"]},
        )  # fmt: skip
        assert written.data_rows["project"] == [3, 4] and written.notes_rows["project"] == [5]
        return (tmp_path / name).read_bytes()

    assert write("a.xlsx") == write("b.xlsx")
    rows = read_workbook(tmp_path / "a.xlsx").sheets["project"].frame
    assert list(rows["project"]) == ["办公大楼运行保障"] * 2  # merged over both rows, read on each
