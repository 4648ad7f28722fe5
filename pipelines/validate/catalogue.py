"""The rule registry: every rule declared once, with the finding codes it can raise and where it raises them.

In the spirit of frictionless' checks (each check declares the errors it can produce): the texts live in
schemas/reference/finding_codes.csv, the logic in the named function, and this table ties them together.
tests/test_catalogue.py holds the three in agreement: the codes declared here are exactly the catalogue's,
every declared code is written in the function named for it, and no module raises a code that is not
declared. The README's table of code ranges and the template's 填报说明 are checked against it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.common.findings import SEVERITY_ORDER, SEVERITY_ZH
from schemas.vocab import reference


@dataclass(frozen=True)
class RuleDecl:
    name: str
    codes: tuple[str, ...]
    severity: str  # every code of one rule has this severity (file_error | row_error | warning | …)
    raised_by: str  # "module:function" that writes the code
    summary: str  # what the rule checks, in one line (English, for maintainers)


def _rule(name: str, codes: str, severity: str, raised_by: str, summary: str) -> RuleDecl:
    return RuleDecl(name, tuple(codes.split()), severity, raised_by, summary)


RULES: tuple[RuleDecl, ...] = (
    # --- the reader: the container and the layout (pipelines/intake/) ---------------
    _rule(
        "container_readable",
        "F001",
        "file_error",
        "pipelines.intake.container:check_container",
        "a readable xlsx zip",
    ),
    _rule(
        "container_bounded",
        "F002",
        "file_error",
        "pipelines.intake.container:check_container",
        "sizes within limits",
    ),
    _rule(
        "required_sheets",
        "F003",
        "file_error",
        "pipelines.intake.sheets:read_sheets",
        "required sheets present",
    ),
    _rule(
        "required_columns",
        "F004",
        "file_error",
        "pipelines.intake.headers:missing_column_findings",
        "required headers",
    ),
    _rule(
        "header_row_found", "F010", "file_error", "pipelines.intake.headers:no_header_finding", "a header row"
    ),
    _rule(
        "parse_isolated",
        "F012",
        "file_error",
        "pipelines.intake.safe_parse:set_aside",
        "parser died or timed out",
    ),
    _rule(
        "unknown_header",
        "I403",
        "info",
        "pipelines.intake.headers:unknown_header_findings",
        "unknown column kept",
    ),
    _rule(
        "duplicate_header",
        "W217",
        "warning",
        "pipelines.intake.headers:duplicate_header_findings",
        "two headers, one field",
    ),
    _rule(
        "duplicate_sheet", "W216", "warning", "pipelines.validate.runner:validate_workbooks", "a second sheet"
    ),
    # --- 部门信息 (schemas/submission.py DeptInfoModel, pipelines/validate/runner.py) ---------------------------------
    _rule(
        "info_required", "F005", "file_error", "schemas.submission:info_required_filled", "部门信息 filled"
    ),
    _rule(
        "info_year",
        "F006",
        "file_error",
        "pipelines.validate.runner:check_infos",
        "填报年度 = the run's year",
    ),
    _rule(
        "one_workbook_per_dept",
        "F007",
        "file_error",
        "pipelines.validate.runner:validate_workbooks",
        "one per 部门",
    ),
    _rule("dept_code_digits", "F008", "file_error", "schemas.submission:dept_code_digits", "部门编码 digits"),
    # --- rows: the pandera models (schemas/submission.py) ------------------------------------------------
    _rule("required_filled", "R101", "row_error", "schemas.submission:required_filled", "required cells"),
    _rule("level1_in_framework", "R102", "row_error", "schemas.submission:level1_in_framework", "一级 known"),
    _rule("level2_under_level1", "R103", "row_error", "schemas.submission:level2_under_level1", "二级 fits"),
    _rule(
        "function_code_format", "R104", "row_error", "schemas.submission:function_code_format", "3/5/7 dig"
    ),
    _rule("function_class_known", "R105", "row_error", "schemas.submission:function_class_known", "类 known"),
    _rule("symbol_known", "R106", "row_error", "schemas.submission:symbol_known", "计算符号 known"),
    _rule(
        "quantitative_target",
        "R107",
        "row_error",
        "schemas.submission:quantitative_target_is_number",
        "定量 target is a number",
    ),
    _rule("change_reason", "R108", "row_error", "schemas.submission:change_needs_reason", "修改/退出 reason"),
    _rule("change_library_id", "R111", "row_error", "schemas.submission:change_needs_library_id", "库内编号"),
    _rule("percent_bound", "R115", "row_error", "schemas.rules:percent_target_over_100", "rate above 100 %"),
    # --- rows against the published library (pipelines/validate/runner.py) -------------------------------------
    _rule(
        "library_reference",
        "R109 R110 R112 R114",
        "row_error",
        "pipelines.validate.runner:library_reference_findings",
        "库内编号 exists and may be changed by this department",
    ),
    _rule(
        "common_sheet_owner",
        "R113",
        "row_error",
        "pipelines.validate.runner:validate_workbooks",
        "共性 by 财政局",
    ),
    _rule(
        "kept_wording",
        "R116",
        "row_error",
        "pipelines.validate.runner:kept_wording_hits",
        "沿用 keeps the name",
    ),
    _rule(
        "kept_details",
        "W219",
        "warning",
        "pipelines.validate.runner:kept_wording_hits",
        "沿用 keeps def/unit",
    ),
    # --- warnings over rows and projects (schemas/rules.py) ----------------------------------------------
    _rule("project_count", "W201", "warning", "schemas.rules:project_indicator_count", "≤ 10 per project"),
    _rule(
        "project_composition",
        "W202 W203 W204",
        "warning",
        "schemas.rules:project_has_output_and_effect",
        "产出 and 效益; 数量 and 质量",
    ),
    _rule("construction_cost", "W205", "warning", "schemas.rules:construction_has_cost", "基建 has 成本"),
    _rule("core_count", "W206", "warning", "schemas.rules:core_count_limit", "core indicators ≤ 6/10"),
    _rule("weight_split", "W207", "warning", "schemas.rules:weight_split", "MoF weight split"),
    _rule("data_source", "W208", "warning", "schemas.rules:data_source_present", "数据来源 given"),
    _rule("baseline", "W209", "warning", "schemas.rules:baseline_present", "a baseline given"),
    _rule("phase_name", "W210", "warning", "schemas.rules:phase_name_marked", "phase-like name marked"),
    _rule(
        "function_code_listed", "W211", "warning", "schemas.rules:function_code_in_catalogue", "款/项 known"
    ),
    _rule("symbol_consistent", "W212", "warning", "schemas.rules:symbol_matches_target", "one sign"),
    _rule(
        "soft_vocabulary", "W213", "warning", "pipelines.validate.runner:warning_findings", "drop-down values"
    ),
    _rule("unit_given", "W214", "warning", "schemas.rules:quantitative_has_unit", "定量 has a unit"),
    _rule("strict_target", "W215", "warning", "schemas.rules:target_not_below_history", "从严从高"),
    _rule(
        "satisfaction_level",
        "W218",
        "warning",
        "schemas.rules:satisfaction_filed_as_satisfaction",
        "满意度 under 满意度指标",
    ),
    # --- kept out of the library (pipelines/validate/runner.py) --------------------------------------------------
    _rule("noncore", "X301", "excluded", "pipelines.validate.runner:validate_workbooks", "纳入指标库=否"),
    _rule("phase", "X302", "excluded", "pipelines.validate.runner:validate_workbooks", "phase-bound row"),
    # --- notes: nothing is changed silently (pipelines/validate/runner.py) ---------------------------------------
    _rule(
        "framework_label",
        "I401",
        "info",
        "pipelines.validate.runner:reinterpretation_hits",
        "old/short labels",
    ),
    _rule(
        "text_folded",
        "I402",
        "info",
        "pipelines.validate.runner:normalization_findings",
        "繁体/全角 per sheet",
    ),
    _rule(
        "reinterpreted",
        "I404",
        "info",
        "pipelines.validate.runner:reinterpretation_hits",
        "marker, 一级, unit",
    ),
)


def declared_codes() -> dict[str, RuleDecl]:
    """code → the rule that raises it (each code is declared by exactly one rule)."""
    out: dict[str, RuleDecl] = {}
    for rule in RULES:
        for code in rule.codes:
            if code in out:
                raise ValueError(f"{code} declared by {out[code].name} and {rule.name}")
            out[code] = rule
    return out


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


def readme_code_table() -> str:
    """The README's table of code ranges per severity, from the catalogue."""
    by_severity: dict[str, list[str]] = {}
    for spec in reference().findings.values():
        by_severity.setdefault(spec.severity, []).append(spec.code)
    lines = ["| 类别 | 效果 | 代码 |", "| --- | --- | --- |"]
    for severity in SEVERITY_ORDER:
        if by_severity.get(severity):
            lines.append(
                f"| {SEVERITY_ZH[severity]} | {README_EFFECT_ZH[severity]} | {_ranges(by_severity[severity])} |"
            )
    return "\n".join(lines)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def findings_markdown() -> str:
    """docs/FINDINGS.md: every code with its severity, rule, fix and the rule that raises it."""
    declared = declared_codes()
    lines = [
        "# 问题代码目录 · Finding catalogue",
        "",
        "Generated from the rule registry (`pipelines/validate/catalogue.py`) and `schemas/reference/finding_codes.csv`;",
        "regenerate with `python -m pipelines.validate.catalogue > docs/FINDINGS.md` (a test keeps this file in step).",
        "`{value}`, `{column}` and `{detail}` are filled in with the cell's value, the column's header and the",
        "rule's detail when the finding is reported.",
        "",
        "| 代码 | 类别 | 规则 | 处理办法 | 检查 (rule · raised by) |",
        "| --- | --- | --- | --- | --- |",
    ]
    specs = sorted(reference().findings.values(), key=lambda s: (SEVERITY_ORDER[s.severity], s.code))
    for spec in specs:
        rule = declared[spec.code]
        lines.append(
            f"| `{spec.code}` | {SEVERITY_ZH[spec.severity]} | {_md_cell(spec.rule_zh)} | {_md_cell(spec.fix_zh)}"
            f" | {rule.name} · `{rule.raised_by}` |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(findings_markdown(), end="")
