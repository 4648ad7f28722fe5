"""pipelines.intake.template: the blank submission workbook, checked against the reference data with openpyxl."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter, range_boundaries

from pipelines.common.formulas import is_dangerous
from pipelines.common.xlsx_out import FILL_WARNING, FONT_REQUIRED
from pipelines.intake.template import (
    INFO_HEADERS,
    INSTRUCTIONS_SHEET,
    LISTS_SHEET,
    TEMPLATE_NAME,
    TEMPLATE_ROWS,
    TO_FILL_NOTE,
    SheetFill,
    TemplateFill,
    dropdown_values,
    instruction_blocks,
    shown_value,
    write_template,
)
from pipelines.intake.template_instructions import SELF_EVAL_PREFIX
from schemas.text import compact
from schemas.vocab import INDICATOR_SHEETS, reference, resolve_vocab

RED = "FF" + FONT_REQUIRED[1:]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_template(tmp_path_factory.mktemp("tpl"))


@pytest.fixture(scope="module")
def book(template: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(template)


def _list_values(book: openpyxl.Workbook, formula: str) -> list[str]:
    sheet, cells = formula.lstrip("=").rsplit("!", 1)
    assert sheet.strip("'") == LISTS_SHEET
    min_col, min_row, max_col, max_row = range_boundaries(cells.replace("$", ""))
    ws = book[LISTS_SHEET]
    return [ws.cell(r, min_col).value for r in range(min_row, max_row + 1)]


def _width(ws, col: int) -> float:
    """A column's width; adjacent equal columns are stored as one <col min max> range."""
    for dim in ws.column_dimensions.values():
        if dim.min and dim.max and dim.min <= col <= dim.max:
            return dim.width
    raise AssertionError(f"no width for column {col}")


def _validations(ws) -> dict[str, object]:
    """Column letter → its data validation (each column of the template has one)."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            min_col, _, max_col, _ = range_boundaries(rng)
            for col in range(min_col, max_col + 1):
                out[get_column_letter(col)] = (dv, rng)
    return out


def test_file_name_and_sheet_order(template: Path, book: openpyxl.Workbook) -> None:
    ref = reference()
    assert template.name == TEMPLATE_NAME
    expected = [
        INSTRUCTIONS_SHEET,
        ref.sheets["info"].name_zh,
        *(ref.sheets[k].name_zh for k in INDICATOR_SHEETS),
        LISTS_SHEET,
    ]
    assert book.sheetnames == expected
    assert book[LISTS_SHEET].sheet_state == "hidden"
    assert all(book[name].sheet_state == "visible" for name in expected[:-1])
    assert book.active.title == INSTRUCTIONS_SHEET


@pytest.mark.parametrize("kind", INDICATOR_SHEETS)
def test_indicator_sheet_headers_widths_and_marks(book: openpyxl.Workbook, kind: str) -> None:
    ref = reference()
    specs = ref.columns[kind]
    ws = book[ref.sheets[kind].name_zh]
    headers = [c.value for c in ws[1]]
    assert headers == [s.header_zh for s in specs]  # exact text, in columns.csv order
    # The reader matches each header back to its column.
    assert [ref.header_lookup[kind][compact(h)] for h in headers] == [s.column for s in specs]
    assert ws.freeze_panes == "A2"
    assert ws.max_row == 1  # blank below the header
    for j, spec in enumerate(specs, start=1):
        cell = ws.cell(1, j)
        assert cell.font.b
        is_red = cell.font.color is not None and cell.font.color.rgb == RED
        assert is_red == spec.required, spec.header_zh
        assert abs(_width(ws, j) - spec.width) < 1


@pytest.mark.parametrize("kind", INDICATOR_SHEETS)
def test_drop_down_lists_come_from_the_vocabularies(book: openpyxl.Workbook, kind: str) -> None:
    ref = reference()
    ws = book[ref.sheets[kind].name_zh]
    validations = _validations(ws)
    vocab_columns = 0
    for j, spec in enumerate(ref.columns[kind], start=1):
        letter = get_column_letter(j)
        dv, rng = validations[letter]
        assert rng == f"{letter}2:{letter}{TEMPLATE_ROWS}"
        assert dv.promptTitle.startswith(spec.header_zh)
        assert dv.prompt == spec.description_zh
        if spec.vocab:
            vocab_columns += 1
            assert dv.type == "list"
            shown = _list_values(book, dv.formula1)
            # Each offered value is plain text and resolves to the vocabulary, in order ("=" is offered as
            # its alias 等于, since a spreadsheet would take "=" for the start of a formula).
            assert [resolve_vocab(spec.vocab, v) for v in shown] == list(ref.vocab_values[spec.vocab])
            assert not any(is_dangerous(v) for v in shown)
            assert shown == dropdown_values(ref, spec.vocab)
            assert dv.errorStyle == "warning"  # an alias can still be typed
            assert dv.error and "下拉列表" in dv.error
        else:
            assert dv.type in (None, "none")  # an input message only
    assert vocab_columns == sum(1 for s in ref.columns[kind] if s.vocab) > 0


def test_info_sheet(book: openpyxl.Workbook) -> None:
    ref = reference()
    ws = book[ref.sheets["info"].name_zh]
    assert tuple(c.value for c in ws[1]) == INFO_HEADERS
    specs = ref.columns["info"]
    assert [ws.cell(i, 1).value for i in range(2, len(specs) + 2)] == [s.header_zh for s in specs]
    validations = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    for i, spec in enumerate(specs, start=2):
        label = ws.cell(i, 1)
        is_red = label.font.color is not None and label.font.color.rgb == RED
        assert is_red == spec.required
        dv = validations[f"B{i}"]
        if spec.vocab:
            assert dv.type == "list" and _list_values(book, dv.formula1) == dropdown_values(ref, spec.vocab)
        assert ws.cell(i, 2).value is None
    assert _width(ws, 2) > 20
    assert ws.freeze_panes == "A2"


def test_instructions_cover_the_reference_data(book: openpyxl.Workbook) -> None:
    ref = reference()
    ws = book[INSTRUCTIONS_SHEET]
    cells = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    text = "\n".join(cells)
    first_column = {str(row[0].value) for row in ws.iter_rows() if row[0].value is not None}
    for kind, specs in ref.columns.items():
        assert ref.sheets[kind].name_zh in text
        for spec in specs:
            assert spec.header_zh in first_column
            assert spec.description_zh in cells
    filing = {code: spec for code, spec in ref.findings.items() if not code.startswith(SELF_EVAL_PREFIX)}
    assert set(filing) <= first_column  # every rule of the filing workbook, by its code
    assert not any(code in first_column for code in set(ref.findings) - set(filing))  # not the 自评表's
    for spec in filing.values():
        assert spec.rule_zh.split("{")[0] in text
    for l1, l2 in ref.framework:
        assert l1 in first_column and l2 in text
    for values in ref.vocab_values.values():
        assert all(v in text for v in values)
    assert "11月30日" in text and "一个工作簿" in text and "仅财政局" in text
    assert all(str(w) in cells for split in ref.weight_split.values() for w in split.values())
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_instruction_blocks_follow_the_data() -> None:
    ref = reference()
    changed = dataclasses.replace(
        ref,
        weight_split={(True, True): {"成本指标": 25, "产出指标": 35, "效益指标": 20, "满意度指标": 10}},
        framework=[*ref.framework, ("效益指标", "试点效益指标")],
    )
    blocks = {b.title.split("、", 1)[1]: b for b in instruction_blocks(changed)}
    weights = next(b for t, b in blocks.items() if t.startswith("权重分配"))
    assert weights.rows == (("有成本指标、有满意度指标", "25", "35", "20", "10", "10"),)
    framework = next(b for t, b in blocks.items() if t.startswith("指标框架"))
    assert "试点效益指标" in dict(framework.rows)["效益指标"]


def test_rewrite_is_byte_identical(tmp_path: Path, template: Path) -> None:
    again = write_template(tmp_path / "again")
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(template.read_bytes()).digest()
    with_year = write_template(tmp_path / "year", year=2026)
    assert with_year.read_bytes() != template.read_bytes()
    ws = openpyxl.load_workbook(with_year)[reference().sheets["info"].name_zh]
    assert ws["B2"].value == "2026" and ws["B2"].data_type == "s"


def test_a_filled_workbook_is_the_blank_one_with_cells_filled(
    tmp_path: Path, book: openpyxl.Workbook
) -> None:
    ref = reference()
    project = ref.sheets["project"].name_zh
    fill = TemplateFill(
        info={"dept_code": "0201", "dept_name": "市教育局"},
        sheets={
            "project": SheetFill(
                rows=[
                    {
                        "name": "资助学生人次",
                        "symbol": shown_value(ref, "symbol", "="),
                        "function_code": "0205",
                    }
                ],
                to_fill=[(0, "project"), (0, "target")],
            )
        },
        info_to_fill=["contact"],
        file_name="预填.xlsx",
    )
    path = write_template(tmp_path, year=2027, fill=fill)
    assert path.name == "预填.xlsx"
    assert write_template(tmp_path / "again", year=2027, fill=fill).read_bytes() == path.read_bytes()
    filled = openpyxl.load_workbook(path)
    assert filled.sheetnames == book.sheetnames
    for kind in INDICATOR_SHEETS:  # same headers and the same drop-downs as the blank template
        name = ref.sheets[kind].name_zh
        assert [c.value for c in filled[name][1]] == [c.value for c in book[name][1]]
        assert {k: v[1] for k, v in _validations(filled[name]).items()} == {
            k: v[1] for k, v in _validations(book[name]).items()
        }
    ws = filled[project]
    columns = {s.column: get_column_letter(j) for j, s in enumerate(ref.columns["project"], start=1)}
    assert ws[f"{columns['name']}2"].value == "资助学生人次"
    assert ws[f"{columns['symbol']}2"].value == "等于"  # "=" would start a formula
    assert (
        ws[f"{columns['function_code']}2"].value == "0205"
        and ws[f"{columns['function_code']}2"].data_type == "s"
    )
    for column in ("project", "target"):
        cell = ws[f"{columns[column]}2"]
        assert cell.value is None and cell.comment is not None and cell.comment.text.startswith(TO_FILL_NOTE)
        assert cell.fill.fgColor.rgb.endswith(FILL_WARNING[1:])
    assert ws.max_row == 2
    info = filled[ref.sheets["info"].name_zh]
    values = {r[0].value: r[1] for r in info.iter_rows(min_row=2)}
    assert values["填报年度"].value == "2027" and values["部门编码"].value == "0201"
    assert values["部门名称"].value == "市教育局" and values["绩效联系人"].comment is not None


def test_cli_blank_template_with_a_year(tmp_path: Path) -> None:
    from pipelines.cli import main

    assert main(["template", "--out", str(tmp_path), "--year", "2027"]) == 0
    ws = openpyxl.load_workbook(tmp_path / TEMPLATE_NAME)[reference().sheets["info"].name_zh]
    assert ws["B2"].value == "2027"
