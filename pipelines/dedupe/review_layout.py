"""merge_review.xlsx's layout: its sheets, columns, decisions and guide — shared by the writer (review.py) and the
reader (review_read.py), so both agree on one definition."""

from __future__ import annotations

from pipelines.common.xlsx_out import continued_name

REVIEW_COLUMNS = ("指标编号A", "指标名称A", "指标编号B", "指标名称B", "相似度", "理由", "决定")
REVIEW_EXTRA_COLUMNS = (
    "差异模式",
    "分组",
    "单位A",
    "单位B",
    "二级指标",
    "名称相似度",
    "说明相似度",
    "可能性",
)
_REVIEW_WIDTHS = (16, 30, 16, 30, 8, 60, 8, 18, 8, 8, 8, 16, 10, 10, 8)
_DECISION_COL = REVIEW_COLUMNS.index("决定")
LIKELY, POSSIBLE = "较高", "较低"  # the 可能性 column: from the model's likely mark, or below it
PATTERN_COLUMNS = ("分组", "差异模式", "对数", "示例", "决定")
PROMOTE = "设为共性指标"  # a bureau decision: the pair is one cross-cutting measure, to be a 共性 indicator
DECISIONS = ("合并", "不合并", PROMOTE)
REVIEW_SHEET = "合并审核"
PATTERN_SHEET = "差异模式"
GUIDE_SHEET = "填写说明"
_USED_COLUMNS = frozenset(
    {"id_a", "name_a", "id_b", "name_b", "score", "reason", "pattern", "pattern_group", "unit_a", "unit_b"}
    | {"level2", "name_score", "definition_score", "likely"}
)
_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
_VALIDATION = {
    "validate": "list",
    "source": list(DECISIONS),
    "error_title": "决定",
    "error_message": "请选择“合并”“不合并”或“设为共性指标”，未决定的留空",
}
_GUIDE = (
    "合并审核：每行是一对可能重复的指标，A为保留的指标（上一版库内指标、共性指标或使用最多的），B为可能与之相同的指标。",
    "在“决定”列选择“合并”（B并入A，今后B的名称作为A的别名自动合并）、“不合并”（今后不再提示这一对）"
    "或“设为共性指标”（B并入A，A改为财政部门的共性指标，各部门、各功能分类今后填报同名指标时都作为该共性指标的使用），拿不准的留空。",
    "名称相同但二级指标、范围或功能分类不同的指标也会列出：同一计量内容被多个部门使用时，宜“设为共性指标”。",
    "“相似度”是估计两者为同一指标的可能性（0–100），按可能性从高到低排列；“可能性”为“较高”的行大多确为重复，请先审核；"
    "“较低”的行排在后面，多为不同指标，时间允许时再看。",
    "“差异模式”是两者名称不同的字（如“湿→耕”）。相同模式的行排在一起，分组号相同。",
    "在“差异模式”表的“决定”列填写，可一次决定该模式下所有未填写的行；“不合并”还会让今后同一模式的配对不再提示。",
    "单位不同或后缀不同（如“人次”与“场次”）的指标从不自动合并；名称相同、单位不同的请核对单位是否填错。",
    "填好后运行：indicators review 本文件 --repo 指标库目录。决定会写入 rules/ 目录，随指标库一起纳入版本管理。",
)


def _guide(n_pairs: int, pair_sheets: int, pattern_sheets: int) -> list[str]:
    """_GUIDE, and after its first sentence where the lists go on when one sheet cannot hold them."""
    lines = list(_GUIDE)
    more = []
    if pair_sheets > 1:
        more.append(
            f"配对共 {n_pairs:,} 对，超过一个工作表的行数上限：“{REVIEW_SHEET}”表之后接续在"
            f"“{continued_name(REVIEW_SHEET, 2)}”至“{continued_name(REVIEW_SHEET, pair_sheets)}”表中，"
            "各表列相同，请逐表审核，各表的“决定”都会读取。"
        )
    if pattern_sheets > 1:
        more.append(
            f"差异模式也超过一个工作表的行数上限：“{PATTERN_SHEET}”表之后接续在"
            f"“{continued_name(PATTERN_SHEET, 2)}”至“{continued_name(PATTERN_SHEET, pattern_sheets)}”表中。"
        )
    return lines[:1] + more + lines[1:]


class ReviewError(ValueError):
    """A filled-in review that cannot be applied; the message is Chinese and lists every problem."""
