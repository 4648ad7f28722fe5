"""The finding catalogue, generated from the rule registry (pipelines/validate/rules/) and the texts of
schemas/reference/finding_codes.csv: docs/FINDINGS.md (`python -m pipelines.validate.catalogue`) and the
README's table of code ranges. tests/test_catalogue.py keeps the registry, the texts, the code and these
documents in agreement; the template's 填报说明 lists the same codes (pipelines/intake/template.py).
The E rows are the self-evaluation workbook's (pipelines/evaluate/reader.py): no filing rule declares them,
and the README shows them on a row of their own.
"""

from __future__ import annotations

from pipelines.common.findings import SEVERITY_ORDER, SEVERITY_ZH
from pipelines.validate.rules import declared_codes
from schemas.vocab import reference


def _ranges(codes: list[str]) -> str:
    """['R101', 'R102', 'R103', 'R105'] → '`R101`–`R103`、`R105`' (consecutive numbers as one range)."""
    runs: list[list[str]] = []
    for code in sorted(codes):
        if runs and code[0] == runs[-1][-1][0] and int(code[1:]) == int(runs[-1][-1][1:]) + 1:
            runs[-1].append(code)
        else:
            runs.append([code])
    return "、".join(f"`{r[0]}`–`{r[-1]}`" if len(r) > 2 else "、".join(f"`{c}`" for c in r) for r in runs)


# What each severity does to a row, as the README's table says it.
README_EFFECT_ZH = {
    "file_error": "整个工作簿被搁置，其余工作簿照常处理",
    "row_error": "该行退回，写入反馈",
    "warning": "该行保留，写入评审报告",
    "excluded": "非核心（纳入指标库=否）或阶段性指标，保留在部门记录中",
    "info": "仅作说明（旧写法、简写、去掉的模板标记等），写入反馈",
}
SELF_EVAL_PREFIX = "E"  # codes of the self-evaluation workbook (绩效自评表), not of the filing workbook
SELF_EVAL_ROW_ZH = (
    "自评表",
    "文件错误：该自评表不评分（部门按 0 分计）；行错误：该行按 0 分计；提示：照常评分",
)
SELF_EVAL_RAISED_BY = "self-evaluation · `pipelines.evaluate.reader`"


def readme_code_table() -> str:
    """The README's table of code ranges per severity, from the catalogue."""
    by_severity: dict[str, list[str]] = {}
    self_eval: list[str] = []
    for spec in reference().findings.values():
        if spec.code.startswith(SELF_EVAL_PREFIX):
            self_eval.append(spec.code)
        else:
            by_severity.setdefault(spec.severity, []).append(spec.code)
    lines = ["| 类别 | 效果 | 代码 |", "| --- | --- | --- |"]
    for severity in SEVERITY_ORDER:
        if by_severity.get(severity):
            lines.append(
                f"| {SEVERITY_ZH[severity]} | {README_EFFECT_ZH[severity]} | {_ranges(by_severity[severity])} |"
            )
    if self_eval:
        lines.append(f"| {SELF_EVAL_ROW_ZH[0]} | {SELF_EVAL_ROW_ZH[1]} | {_ranges(self_eval)} |")
    return "\n".join(lines)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def findings_markdown() -> str:
    """docs/FINDINGS.md: every code with its severity, rule, fix and the rule that raises it."""
    declared = declared_codes()
    lines = [
        "# 问题代码目录 · Finding catalogue",
        "",
        "Generated from the rule registry (`pipelines/validate/rules/`) and `schemas/reference/finding_codes.csv`;",
        "regenerate with `python -m pipelines.validate.catalogue > docs/FINDINGS.md` (a test keeps this file in step).",
        "`{value}`, `{column}` and `{detail}` are filled in with the cell's value, the column's header and the",
        "rule's detail when the finding is reported.",
        "",
        "| 代码 | 类别 | 规则 | 处理办法 | 检查 (rule · raised by) |",
        "| --- | --- | --- | --- | --- |",
    ]
    specs = sorted(reference().findings.values(), key=lambda s: (SEVERITY_ORDER[s.severity], s.code))
    for spec in specs:
        rule = declared.get(spec.code)
        raised = f"{rule.name} · `{rule.raised_by}`" if rule else SELF_EVAL_RAISED_BY
        lines.append(
            f"| `{spec.code}` | {SEVERITY_ZH[spec.severity]} | {_md_cell(spec.rule_zh)} | {_md_cell(spec.fix_zh)}"
            f" | {raised} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(findings_markdown(), end="")
