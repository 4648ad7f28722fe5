"""The 填报说明 sheet's content (CONTRACT §2): titled tables built from schemas/reference/*.csv.

Everything shown comes from the reference data: the headers, which are required, the drop-down lists,
the column explanations, the rules and their fixes, the framework, the weight split and the limits. The
only literals here are the sentences that frame the data and the facts the reference files do not hold
(the 11-30 deadline, what each severity means for a row). pipelines/intake/template.py writes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.common.findings import SEVERITY_ORDER, SEVERITY_ZH
from schemas.vocab import (
    INDICATOR_SHEETS,
    REFERENCE_DIR,
    FindingSpec,
    Reference,
    read_reference_csv,
    reference,
)

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
_PLACEHOLDER = "××"
# Codes of the self-evaluation workbook (绩效自评表; pipelines/validate/catalogue.py SELF_EVAL_PREFIX, which this
# layer may not import): not findings of the filing workbook this sheet explains.
SELF_EVAL_PREFIX = "E"
_NUMERALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class InstructionBlock:
    """One titled table of the 填报说明 sheet."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def vocab_order(ref: Reference) -> list[str]:
    """Every vocabulary a column uses, in the order columns.csv first mentions it."""
    seen: dict[str, None] = {}
    for kind in ("info", *INDICATOR_SHEETS):
        for spec in ref.columns.get(kind, ()):
            if spec.vocab:
                seen.setdefault(spec.vocab, None)
    return list(seen)


def vocab_label(ref: Reference, vocab: str) -> str:
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


def _filing_findings(ref: Reference) -> list[FindingSpec]:
    """The findings a filing workbook can get (the catalogue without the self-evaluation's)."""
    return [f for f in ref.findings.values() if not f.code.startswith(SELF_EVAL_PREFIX)]


def _severity_block(ref: Reference) -> InstructionBlock:
    """What each severity means for a row or the workbook, with the codes of that severity."""
    codes_by_severity: dict[str, list[str]] = {}
    for spec in _filing_findings(ref):
        codes_by_severity.setdefault(spec.severity, []).append(spec.code)
    rows = tuple(
        (SEVERITY_ZH[s], SEVERITY_EFFECT_ZH.get(s, ""), "、".join(codes_by_severity.get(s, ())))
        for s in SEVERITY_ORDER
    )
    return InstructionBlock("问题类别与处理方式", ("类别", "处理方式", "规则代码"), rows)


def _rules_block(ref: Reference) -> InstructionBlock:
    """Every finding code of the catalogue with its rule and fix, most severe first."""
    findings = sorted(_filing_findings(ref), key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.code))
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
        (vocab_label(ref, v), "、".join(ref.vocab_values.get(v, ())), "、".join(_vocab_aliases(ref, v)))
        for v in vocab_order(ref)
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
