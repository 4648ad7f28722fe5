"""The blank submission workbook (CONTRACT §2) that `indicators template` writes, with its 填报说明 sheet.

Everything shown comes from schemas/reference/*.csv: the headers, which are required, the drop-down lists,
the column explanations, the rules and their fixes, the framework, the weight split and the limits. A
bureau that edits a reference file gets a matching template on the next run; the only literals here are
the sentences that frame the data and the facts the reference files do not hold (the 11-30 deadline, what
each severity means for a row).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from pipelines.common.columns import col_letter
from pipelines.common.findings import SEVERITY_ORDER, SEVERITY_ZH
from pipelines.common.xlsx_out import XlsxBook, is_dangerous, write_table, xlsx_book
from schemas.text import compact
from schemas.vocab import (
    INDICATOR_SHEETS,
    REFERENCE_DIR,
    ColumnSpec,
    Reference,
    read_reference_csv,
    reference,
)

TEMPLATE_NAME = "预算绩效指标填报模板.xlsx"
INSTRUCTIONS_SHEET = "填报说明"
LISTS_SHEET = "下拉选项"  # hidden; list validations point here because inline lists are capped at 255 chars
TEMPLATE_ROWS = 2000  # drop-downs and input messages cover Excel rows 2..TEMPLATE_ROWS
INFO_HEADERS = ("项目", "内容")
# Not in the reference data: the annual deadline of the city's scheme (SPEC "annual 11-30 deadline").
DEADLINE_ZH = "11月30日"
# What happens to a row (or the workbook) for each severity (CONTRACT §3).
SEVERITY_EFFECT_ZH = {
    "file_error": "整个工作簿退回，本次不予受理（其他部门的工作簿照常处理）；请修改后重新提交整个工作簿",
    "row_error": "该行退回，不进入指标库，在反馈中逐条列出；其他行照常受理",
    "warning": "该行保留并受理，问题在反馈和年度审核报告中列出，请尽量改正",
    "excluded": "该行保留在本部门记录中，但不进入指标库",
    "info": "仅作说明（如旧写法已自动识别），无需处理",
}
# Columns typed as text in the template so codes keep their digits exactly (no 2.08E+06, no lost zeros).
TEXT_COLUMNS = frozenset({"function_code", "library_id", "seq"})
_PLACEHOLDER = "××"
_NUMERALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class InstructionBlock:
    """One titled table of the 填报说明 sheet."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def _vocab_order(ref: Reference) -> list[str]:
    """Every vocabulary a column uses, in the order columns.csv first mentions it."""
    seen: dict[str, None] = {}
    for kind in ("info", *INDICATOR_SHEETS):
        for spec in ref.columns.get(kind, ()):
            if spec.vocab:
                seen.setdefault(spec.vocab, None)
    return list(seen)


def _vocab_label(ref: Reference, vocab: str) -> str:
    """The Chinese name of a vocabulary: the headers of the columns that use it."""
    headers = dict.fromkeys(
        s.header_zh for kind in ref.columns for s in ref.columns[kind] if s.vocab == vocab
    )
    return "、".join(headers)


def _vocab_aliases(ref: Reference, vocab: str) -> list[str]:
    """Other spellings recognised for a vocabulary (as matched, i.e. normalized)."""
    values = set(ref.vocab_values.get(vocab, ()))
    return [key for key, value in ref.vocab_lookup.get(vocab, {}).items() if key not in values and value]


def _rule_text(template: str) -> str:
    return template.format(value=_PLACEHOLDER, column=_PLACEHOLDER, detail=_PLACEHOLDER)


def _column_rows(ref: Reference, kind: str) -> tuple[tuple[str, ...], ...]:
    rows = []
    for spec in ref.columns[kind]:
        rows.append(
            (
                spec.header_zh,
                "必填" if spec.required else "",
                "、".join(ref.vocab_values.get(spec.vocab, ())) if spec.vocab else "",
                "、".join(spec.aliases),
                spec.description_zh,
            )
        )
    return tuple(rows)


def _sheet_list(ref: Reference) -> str:
    parts = []
    for spec in ref.sheets.values():
        mark = "必需" if spec.required else "可选"
        if spec.sheet == "common":
            mark = "仅财政局填报"
        parts.append(f"“{spec.name_zh}”（{mark}）")
    return "、".join(parts)


def instruction_blocks(ref: Reference | None = None) -> list[InstructionBlock]:
    """The content of the 填报说明 sheet, in order, built from the reference data."""
    ref = ref or reference()
    blocks = [
        _overview_block(ref),
        *_column_blocks(ref),
        _severity_block(ref),
        _rules_block(ref),
        _framework_block(ref),
        _aliases_block(ref),
        _vocab_block(ref),
        _weight_block(ref),
        InstructionBlock("数量与文件大小限制", ("限制",), tuple((note,) for note in _limit_notes(ref))),
    ]
    return [InstructionBlock(f"{_numeral(i)}、{b.title}", b.header, b.rows) for i, b in enumerate(blocks, 1)]


def _overview_block(ref: Reference) -> InstructionBlock:
    info_required = "、".join(s.header_zh for s in ref.columns["info"] if s.required)
    common_name = ref.sheets["common"].name_zh
    rows = (
        ("提交时间", f"每年 {DEADLINE_ZH} 前提交；截止后由财政局统一汇总、审核并发布指标库。"),
        (
            "提交份数",
            "每个部门每年只提交一个工作簿；同一部门编码出现在多个工作簿中时，这些工作簿都会被退回。",
        ),
        (
            "文件格式",
            "Excel 工作簿（.xlsx），请在本模板上填写；宏不会运行，外部链接不会更新，只读取单元格中保存的值。",
        ),
        ("工作表", f"本工作簿包括：{_sheet_list(ref)}。工作表名称请勿修改。"),
        (ref.sheets["info"].name_zh, f"必填：{info_required}。其余为可选项。"),
        (common_name, f"“{common_name}”表只能由财政局填报；其他部门请保持该表为空。"),
        (
            "表头",
            "第一行为表头，列名须与模板一致（也可使用下文列出的同义列名），列的顺序可以调整。红色加粗的列名为必填列。",
        ),
        (
            "填写方式",
            "每行填写一个指标；项目名称等可以合并单元格（系统会自动向下填充）；繁体字、全角字符会自动规范化。有下拉列表的列请尽量从列表中选择。",
        ),
        (
            "处理结果",
            "每一行最终只会进入以下四处之一：指标库、本部门非核心指标、阶段性指标（不入库）、退回清单（附原因）。",
        ),
        ("反馈", "审核后每个工作簿会得到一份反馈工作簿，逐条列出工作表、行号、列号、违反的规则和修改办法。"),
    )
    return InstructionBlock("总体要求", ("事项", "要求"), rows)


def _column_blocks(ref: Reference) -> list[InstructionBlock]:
    """One block per sheet: its columns, whether required, their values, aliases and explanation."""
    blocks = []
    for kind in ("info", *INDICATOR_SHEETS):
        if kind not in ref.columns:
            continue
        title = f"“{ref.sheets[kind].name_zh}”表的填写"
        if kind == "common":
            title += "（仅财政局填报）"
        header = ("列名", "必填", "可选值", "也可写作（同义列名）", "填写说明")
        blocks.append(InstructionBlock(title, header, _column_rows(ref, kind)))
    return blocks


def _severity_block(ref: Reference) -> InstructionBlock:
    """What each severity means for a row or the workbook, with the codes of that severity."""
    codes_by_severity: dict[str, list[str]] = {}
    for spec in ref.findings.values():
        codes_by_severity.setdefault(spec.severity, []).append(spec.code)
    rows = tuple(
        (SEVERITY_ZH[s], SEVERITY_EFFECT_ZH.get(s, ""), "、".join(codes_by_severity.get(s, ())))
        for s in SEVERITY_ORDER
    )
    return InstructionBlock("问题类别与处理方式", ("类别", "处理方式", "规则代码"), rows)


def _rules_block(ref: Reference) -> InstructionBlock:
    """Every finding code of the catalogue with its rule and fix, most severe first."""
    findings = sorted(ref.findings.values(), key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.code))
    rows = tuple(
        (f.code, SEVERITY_ZH.get(f.severity, f.severity), _rule_text(f.rule_zh), _rule_text(f.fix_zh))
        for f in findings
    )
    return InstructionBlock(
        f"审核规则（“{_PLACEHOLDER}”为具体内容）", ("代码", "类别", "规则", "处理建议"), rows
    )


def _framework_block(ref: Reference) -> InstructionBlock:
    rows = tuple((l1, "、".join(ref.level2_values(l1))) for l1 in ref.level1_values)
    return InstructionBlock("指标框架（一级指标 → 二级指标）", ("一级指标", "二级指标"), rows)


def _aliases_block(ref: Reference) -> InstructionBlock:
    """The shorthand and old spellings of the framework levels that are recognised."""

    def show(raw: str) -> str:
        return {"*": "（任意）", "": "（空）"}.get(raw, raw)

    rows = tuple(
        (
            show(a.raw_level1),
            show(a.raw_level2),
            "/".join(x for x in (a.level1, a.level2) if x),
            a.note_zh or "简写，自动识别（反馈中会注明）",
        )
        for a in ref.framework_aliases
    )
    return InstructionBlock("简写和旧写法的识别", ("原一级指标", "原二级指标", "识别为", "说明"), rows)


def _vocab_block(ref: Reference) -> InstructionBlock:
    rows = tuple(
        (_vocab_label(ref, v), "、".join(ref.vocab_values.get(v, ())), "、".join(_vocab_aliases(ref, v)))
        for v in _vocab_order(ref)
    )
    return InstructionBlock("下拉列表的可选值", ("列", "可选值", "也可写作"), rows)


def _weight_block(ref: Reference) -> InstructionBlock:
    """The weight split per level-1 indicator, for each case of cost and satisfaction indicators."""
    level1s = ref.level1_values
    rows = []
    for has_cost, has_satisfaction in sorted(ref.weight_split, reverse=True):
        shares = ref.weight_split[(has_cost, has_satisfaction)]
        case = f"{'有' if has_cost else '无'}成本指标、{'有' if has_satisfaction else '无'}满意度指标"
        reserved = 100 - sum(shares.values())
        rows.append((case, *(str(shares[l1]) if l1 in shares else "—" for l1 in level1s), str(reserved)))
    header = ("情形", *level1s, "预算执行率")
    return InstructionBlock("权重分配（填写权重时适用，满分100）", header, tuple(rows))


def _numeral(n: int) -> str:
    if n <= 10:
        return _NUMERALS[n - 1]
    return ("十" if n < 20 else _NUMERALS[n // 10 - 1] + "十") + (_NUMERALS[n % 10 - 1] if n % 10 else "")


def _limit_notes(ref: Reference) -> list[str]:
    """limits.csv notes; Reference keeps only the values, so the notes are read from the file."""
    rows = read_reference_csv(REFERENCE_DIR / "limits.csv")
    return [r["note_zh"] or f"{r['name']}: {r['value']}" for r in rows if r["name"] in ref.limits]


# --- writing -----------------------------------------------------------------------------------------

_INSTRUCTION_WIDTHS = (22, 26, 40, 40, 56, 12)


def _write_instructions(book: XlsxBook, ref: Reference) -> None:
    ws = book.add_sheet(INSTRUCTIONS_SHEET)
    for j, width in enumerate(_INSTRUCTION_WIDTHS):
        ws.set_column(j, j, width)
    row = book.write_row(ws, 0, ["预算绩效指标填报说明"], "title")
    row = book.write_row(
        ws, row, ["红色加粗的列名（或项目）为必填；带下拉列表的单元格请从列表中选择，也可填写常见同义写法。"]
    )
    for block in instruction_blocks(ref):
        row += 1
        row = book.write_row(ws, row, [block.title], "section")
        row = book.write_row(ws, row, block.header, "header")
        for values in block.rows:
            row = book.write_row(ws, row, values, "wrap")


def dropdown_values(ref: Reference, vocab: str) -> list[str]:
    """The values offered in a drop-down: the vocabulary, except that a value a spreadsheet would take
    for a formula ("=") is offered as its first recognised alias that is plain text ("等于").

    Picking from a list is parsed like typing, so "=" would start a formula (and a neutralized "'=" would
    show its quote); the validator maps the alias back to the canonical value.
    """
    out = []
    for value in ref.vocab_values.get(vocab, ()):
        if is_dangerous(value):
            aliases = [
                k for k, v in ref.vocab_lookup.get(vocab, {}).items() if v == value and k != compact(value)
            ]
            value = next((a for a in aliases if not is_dangerous(a)), value)
        out.append(value)
    return out


def list_sources(ref: Reference) -> dict[str, str]:
    """vocab → the range of its values on the hidden lists sheet (column per vocab, values from row 2)."""
    sources = {}
    for j, vocab in enumerate(_vocab_order(ref)):
        letter = col_letter(j)
        sources[vocab] = f"='{LISTS_SHEET}'!${letter}$2:${letter}${len(dropdown_values(ref, vocab)) + 1}"
    return sources


def _write_lists(book: XlsxBook, ref: Reference) -> None:
    """The hidden sheet of drop-down values, laid out as list_sources() says."""
    ws = book.add_sheet(LISTS_SHEET)
    for j, vocab in enumerate(_vocab_order(ref)):
        ws.set_column(j, j, 18)
        book.write(ws, 0, j, _vocab_label(ref, vocab), "label")
        for i, value in enumerate(dropdown_values(ref, vocab), 1):
            book.write(ws, i, j, value)
    ws.hide()


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _validation(spec: ColumnSpec, sources: dict[str, str], ref: Reference) -> dict[str, object]:
    """A drop-down (vocab columns) or an input message (other columns) explaining the column."""
    title = _clip(spec.header_zh + ("（必填）" if spec.required else ""), 32)
    options: dict[str, object] = {
        "input_title": title,
        "input_message": _clip(spec.description_zh or spec.header_zh, 255),
    }
    if spec.vocab and spec.vocab in sources:
        values = "、".join(dropdown_values(ref, spec.vocab))
        options.update(
            {
                "validate": "list",
                "source": sources[spec.vocab],
                "error_type": "warning",  # officials may still type an alias; the validator resolves it
                "error_title": _clip(f"{spec.header_zh}：请从列表中选择", 32),
                "error_message": _clip(
                    f"建议从下拉列表中选择：{values}。如填写的是同义写法，可点“是”保留，系统会自动识别。", 255
                ),
            }
        )
    else:
        options["validate"] = "any"
    return options


def _write_info(book: XlsxBook, ref: Reference, sources: dict[str, str], year: int | None) -> None:
    ws = book.add_sheet(ref.sheets["info"].name_zh)
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 48, book.fmt("text"))  # text cells: 部门编码 keeps leading zeros
    book.write_row(ws, 0, INFO_HEADERS, "header")
    for i, spec in enumerate(ref.columns["info"], 1):
        book.write(ws, i, 0, spec.header_zh, "label_required" if spec.required else "label")
        if spec.column == "year" and year is not None:
            book.write(ws, i, 1, str(year), "text")
        ws.data_validation(i, 1, i, 1, _validation(spec, sources, ref))
    ws.freeze_panes(1, 0)


def _write_indicator_sheet(book: XlsxBook, ref: Reference, kind: str, sources: dict[str, str]) -> Worksheet:
    specs = ref.columns[kind]
    frame = pd.DataFrame({s.column: pd.Series([], dtype="str") for s in specs})
    ws = write_table(
        book,
        ref.sheets[kind].name_zh,
        frame,
        {s.column: s.header_zh for s in specs},
        widths={s.column: s.width for s in specs},
        required=[s.column for s in specs if s.required],
        column_formats={s.column: "text" for s in specs if s.column in TEXT_COLUMNS},
        autofilter=False,
    )
    ws.autofilter(0, 0, TEMPLATE_ROWS - 1, len(specs) - 1)
    for j, spec in enumerate(specs):
        ws.data_validation(1, j, TEMPLATE_ROWS - 1, j, _validation(spec, sources, ref))
    return ws


def write_template(out_dir: Path, *, year: int | None = None) -> Path:
    """Write 预算绩效指标填报模板.xlsx into `out_dir` (created if needed) and return its path.

    `year` pre-fills 填报年度. The file is byte-identical for the same reference data and year.
    """
    ref = reference()
    path = Path(out_dir) / TEMPLATE_NAME
    with xlsx_book(path, title="预算绩效指标填报模板", subject="预算绩效指标库") as book:
        _write_instructions(book, ref)
        # xlsxwriter keeps sheets in creation order: the hidden lists sheet goes last, so its ranges are
        # computed up front (validations are plain range formulas, resolved when Excel opens the file).
        sources = list_sources(ref)
        _write_info(book, ref, sources, year)
        for kind in INDICATOR_SHEETS:
            if kind in ref.sheets and kind in ref.columns:
                _write_indicator_sheet(book, ref, kind, sources)
        _write_lists(book, ref)
    return path
