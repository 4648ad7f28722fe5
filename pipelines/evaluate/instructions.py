"""The 填报说明 sheet of the self-evaluation workbook: the steps, each column, the scoring rules (from the
bands file, so the sheet states what the scorer does) and the codes of the findings the reader raises."""

from __future__ import annotations

from collections.abc import Sequence

from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from pipelines.common.findings import SEVERITY_ZH
from pipelines.common.xlsx_out import XlsxBook
from pipelines.evaluate.bands import Band, ScoringBands
from pipelines.evaluate.codes import self_eval_codes
from pipelines.evaluate.scoring import fmt
from schemas.vocab import reference

SHEET = "填报说明"

COLUMN_NOTES = {
    "库内编号": "指标库中的指标编号，系统据此与申报的指标对应，请勿修改",
    "分值": "该指标的满分，取自申报时的权重；未填权重的按财政部分配计算（见“评分规则”）",
    "评分方式": "该指标按哪条规则评分（见“评分规则”）",
    "完成值": "定量指标填写实际完成的数值（只填数字，单位见“计量单位”）；是/否类指标填写“是”或“否”",
    "评判等级": "仅定性指标填写：基本达成目标、部分实现目标、实现目标程度较低，三选一",
    "自评分值": "仅定性指标填写：在所选评判等级对应的分值区间内自评打分",
    "偏差原因": "完成值未达到目标或明显超出目标的，说明原因",
    "佐证资料": "证明完成情况的材料名称、文号或存放位置",
    "全年预算数（万元）": "项目调整后的全年预算数",
    "全年执行数（万元）": "项目全年实际支出数",
    "是否完成": "项目年度任务是否全部完成：是 / 否",
}


def _steps() -> list[tuple[str, ...]]:
    return [
        (
            "1",
            "本表由指标库按本部门本年度入库的绩效指标生成。白色单元格为已有内容，请勿修改；黄色单元格为需填写的内容。",
        ),
        (
            "2",
            "“指标自评”表：定量指标填写“完成值”；是/否类指标的完成值填写“是”或“否”；定性指标选择“评判等级”，并在该等级的分值区间内填写“自评分值”。",
        ),
        ("3", "完成值与目标有偏差的，在“偏差原因”中说明；“佐证资料”填写证明材料的名称或编号。"),
        ("4", "“项目情况”表：每个项目填写全年预算数、全年执行数（万元）和是否完成。"),
        ("5", "保存为 xlsx 文件后提交。系统按下列规则评分；有问题的单元格会逐条反馈（工作表、行号、列名）。"),
    ]


def _split_text() -> str:
    split = reference().weight_split
    parts = []
    for key, label in (((True, True), "有成本指标"), ((False, True), "无成本指标")):
        parts.append(
            label + "：" + "、".join(f"{lv.removesuffix('指标')} {w}" for lv, w in split[key].items())
        )
    return "；".join(parts)


def _threshold_text(bands: tuple[Band, ...], points: str) -> str:
    return "；".join(f"{b.label} 得{points}的 {fmt(b.share)}%" for b in bands)


def scoring_rules(bands: ScoringBands) -> list[tuple[str, str]]:
    """(rule, explanation) of every scoring rule, as the scorer applies it."""
    p, cap = fmt(bands.proportional_pass), fmt(bands.proportional_cap)
    indicator_total = fmt(bands.project_points - bands.budget_points)
    return [
        (
            "分值",
            f"各指标分值取申报时填报的权重，合计 {indicator_total} 分（合计不为 {indicator_total} 的按比例折算）；"
            f"未填权重的按财政部分配（{_split_text()}；无满意度指标的，效益另加 10）在同一一级指标的指标间平分。"
            f"另 {fmt(bands.budget_points)} 分为预算执行率，项目满分 {fmt(bands.project_points)} 分。",
        ),
        ("直接赋分（是/否）", "完成值与目标（是或否）一致得满分，否则得 0 分。"),
        (
            "按完成比例赋分",
            f"完成率低于 {p}% 得 0 分；否则得分 =（完成率 − {p}%）÷（{cap}% − {p}%）× 分值，"
            f"完成率超过 {cap}% 按 {cap}% 计。",
        ),
        (
            "完成率",
            "≥ 目标：完成值 ÷ 目标值；≤ 目标：目标值 ÷ 完成值（完成值为 0 视为完成）；= 目标：等于目标为 100%，"
            "低于目标按 ≥ 计，高于目标按 ≤ 计；目标为区间（如 90-95）：在区间内为 100%，低于下限按 完成值 ÷ 下限，"
            "高于上限按 上限 ÷ 完成值。",
        ),
        (
            "按评判等级赋分（定性）",
            "；".join(f"{b.label}：分值的 {fmt(b.low)}%–{fmt(b.high)}%" for b in bands.qualitative)
            + "。部门在所选等级的区间内自评打分。",
        ),
        ("满意度赋分", _threshold_text(bands.satisfaction, "该指标分值") + "。"),
        (
            "预算执行率",
            f"项目完成且未超预算得 {fmt(bands.budget_points)} 分；否则按执行率（全年执行数 ÷ 全年预算数）："
            + _threshold_text(bands.budget, f" {fmt(bands.budget_points)} 分")
            + "。",
        ),
        (
            "等级",
            "；".join(
                f"{b.label}：{fmt(b.low)} 分及以上" if b.low > float("-inf") else f"{b.label}：其余"
                for b in bands.grades
            )
            + "。部门得分为各项目得分的平均。",
        ),
    ]


def _block(
    ws: Worksheet,
    row: int,
    title: str,
    header: tuple[str, ...],
    rows: Sequence[Sequence[object]],
    styles: dict[str, Format],
) -> int:
    """One titled table of the sheet from `row`; returns the row after it and a blank line."""
    ws.write_string(row, 0, title, styles["section"])
    row += 1
    for j, h in enumerate(header):
        ws.write_string(row, j, h, styles["header"])
    for values in rows:
        row += 1
        for j, v in enumerate(values):
            ws.write_string(row, j, str(v), styles["wrap"])
    return row + 2


def write_instructions(book: XlsxBook, styles: dict[str, Format], bands: ScoringBands) -> None:
    """The 填报说明 sheet, first in the workbook."""
    ws = book.add_sheet(SHEET)
    add = book.workbook.add_format
    base = {"font_name": "宋体", "font_size": 11, "valign": "top"}
    local = {
        "title": add(base | {"bold": True, "font_size": 14}),
        "section": add(base | {"bold": True, "font_size": 12}),
        "header": styles["header"],
        "wrap": add(base | {"text_wrap": True, "border": 1}),
    }
    for j, width in enumerate((22, 70, 50, 40)):
        ws.set_column(j, j, width)
    ws.write_string(0, 0, "绩效自评表填报说明", local["title"])
    row = _block(ws, 2, "一、填报步骤", ("步骤", "说明"), _steps(), local)
    row = _block(ws, row, "二、各列说明", ("列名", "说明"), list(COLUMN_NOTES.items()), local)
    row = _block(ws, row, "三、评分规则", ("规则", "说明"), scoring_rules(bands), local)
    codes = [
        (
            c.code,
            SEVERITY_ZH.get(c.severity, c.severity),
            c.rule_zh.format(value="…", column="…", detail="…"),
            c.fix_zh,
        )
        for c in self_eval_codes().values()
    ]
    _block(ws, row, "四、问题代码", ("代码", "类别", "问题", "处理办法"), codes, local)
    ws.activate()
