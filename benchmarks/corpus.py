"""A realistic, deterministic corpus of department submission workbooks for benchmarks.

    python -m benchmarks.corpus --rows 100000 --out /tmp/corpus --year 2026 [--seed 1] [--departments N]

Each department gets one workbook (部门信息, 部门整体核心指标, 项目支出指标; the finance bureau also 共性指标)
of ~100 to several thousand rows. Names are built from parts (培训/会议/维修/巡检/档案/补贴… ×
人次/场次/次数/合格率/完成率/满意度/覆盖率…), so the same indicator recurs across departments the way it does
in a real city. Some departments write the mess officials write: title rows, merged 项目名称/一级/二级 cells or
"same as above" blanks, shuffled columns, header aliases, Traditional Chinese, full-width digits, targets
with sign and unit in one cell, numbers stored as text, trailing 填表人 rows, and about 1% bad rows
(unknown level, malformed function code, "待定" targets…).

The same (rows, year, seed, departments) gives byte-identical files. manifest.json records the parameters
and per-file counts (rows, deliberately bad rows), so a benchmark can reuse a corpus and a later
full-pipeline benchmark can check its counts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

import opencc
import xlsxwriter

from pipelines.text import compact
from schemas.vocab import reference

MANIFEST = "manifest.json"
CORPUS_VERSION = 2  # bump when the generator's output changes, so stale corpora are rebuilt
FIXED_TIME = dt.datetime(2025, 11, 30, 9, 0, 0)  # document properties: no wall clock in the files

DEPT_STEMS = (
    "教育", "卫生健康", "交通运输", "农业农村", "住房和城乡建设", "生态环境", "文化广电旅游", "民政", "人力资源和社会保障",
    "司法", "水利", "应急管理", "市场监督管理", "统计", "档案", "体育", "审计", "商务", "自然资源和规划", "城市管理",
    "退役军人事务", "医疗保障", "林业", "科学技术", "工业和信息化", "发展和改革", "公安", "机关事务管理", "信访", "地方金融监督管理",
)  # fmt: skip
DEPT_SUFFIXES = ("局", "委员会", "服务中心", "管理处")
PROJECT_PREFIXES = ("全市", "市级", "城区", "农村", "重点", "年度", "基层", "")
PROJECT_OBJECTS = (
    "干部教育", "公共卫生", "农村公路", "档案", "办公大楼", "信息系统", "文化惠民", "就业创业", "食品安全", "河道",
    "校舍", "社区养老", "消防", "森林防火", "耕地保护", "法律援助", "统计调查", "体育场馆", "市场监管", "应急物资",
)  # fmt: skip
PROJECT_ACTIVITIES = (
    ("培训", "会议培训类"), ("会议", "会议培训类"), ("维修改造", "大型修缮及购置类"), ("运行维护", "信息化建设类"),
    ("补助", "补助补贴类"), ("巡检", "政府购买服务类"), ("宣传", "其他"), ("监测", "政府购买服务类"), ("建设", "工程基建类"),
    ("设备购置", "大型修缮及购置类"), ("专项活动", "大型活动类"), ("数字化", "信息化建设类"),
)  # fmt: skip
PROJECT_ENDINGS = ("项目", "专项经费", "工作经费", "")
INDICATOR_OBJECTS = (
    "培训",
    "会议",
    "维修",
    "巡检",
    "档案",
    "补贴",
    "宣传",
    "监测",
    "检查",
    "运维",
    "服务",
    "采购",
    "活动",
    "执法",
    "救助",
    "设备",
)
# level2 → (measure, unit, target kind)
MEASURES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "数量指标": (
        ("人次", "人次", "count"),
        ("场次", "场", "count"),
        ("次数", "次", "count"),
        ("数量", "个", "count"),
        ("覆盖人数", "人", "count"),
    ),
    "质量指标": (
        ("合格率", "%", "rate"),
        ("完成率", "%", "rate"),
        ("达标率", "%", "rate"),
        ("验收合格率", "%", "rate"),
        ("准确率", "%", "rate"),
    ),
    "时效指标": (("按时完成率", "%", "rate"), ("及时率", "%", "rate"), ("完成时限", "天", "days")),
    "经济成本指标": (("成本控制数", "万元", "money"), ("单位成本", "元", "money")),
    "社会成本指标": (("社会成本", "万元", "money"),),
    "经济效益指标": (("带动收入", "万元", "money"), ("节约资金", "万元", "money")),
    "社会效益指标": (("覆盖率", "%", "rate"), ("知晓率", "%", "rate"), ("受益人数", "人", "count")),
    "生态效益指标": (("达标率", "%", "rate"), ("减排量", "吨", "count")),
    "可持续影响指标": (("长效机制建立", "", "qualitative"), ("持续发挥作用年限", "年", "count")),
    "服务对象满意度指标": (("服务对象满意度", "%", "satisfaction"), ("参训人员满意度", "%", "satisfaction")),
    "社会公众满意度指标": (("社会公众满意度", "%", "satisfaction"),),
}
LEVEL1_OF = {l2: l1 for l1, l2 in reference().framework}
# A project's indicators: (level2, weight of being picked); output and effect dominate as in the MoF guide.
LEVEL2_MIX = (
    ("数量指标", 30), ("质量指标", 22), ("时效指标", 10), ("经济成本指标", 8), ("社会成本指标", 1), ("经济效益指标", 4),
    ("社会效益指标", 14), ("生态效益指标", 2), ("可持续影响指标", 3), ("服务对象满意度指标", 5), ("社会公众满意度指标", 1),
)  # fmt: skip
# Header aliases some departments use instead of the template's headers.
HEADER_ALIASES = {
    "name": "三级指标名称",
    "target": "指标值",
    "unit": "度量单位",
    "definition": "指标说明",
    "history": "历史数据",
}
CORE_NAMES = (
    ("产出指标", "数量指标", "{stem}政策文件出台数量", "个", "count"),
    ("产出指标", "质量指标", "{stem}重点任务完成率", "%", "rate"),
    ("产出指标", "时效指标", "{stem}重点工作按时完成率", "%", "rate"),
    ("效益指标", "社会效益指标", "{stem}服务覆盖率", "%", "rate"),
    ("效益指标", "可持续影响指标", "{stem}长效机制健全程度", "", "qualitative"),
    ("满意度指标", "服务对象满意度指标", "{stem}服务对象满意度", "%", "satisfaction"),
    ("成本指标", "经济成本指标", "部门预算执行率", "%", "rate"),
    ("产出指标", "数量指标", "{stem}监督检查次数", "次", "count"),
    ("效益指标", "社会效益指标", "{stem}群众知晓率", "%", "rate"),
    ("产出指标", "质量指标", "{stem}信息公开及时率", "%", "rate"),
)  # fmt: skip
BAD_KINDS = ("empty_name", "bad_level1", "bad_function_code", "pending_target", "bad_symbol", "bad_level2")


@dataclass
class DepartmentFile:
    file: str
    dept_code: str
    dept_name: str
    core_rows: int
    project_rows: int
    common_rows: int
    bad_rows: int
    style: list[str] = field(default_factory=list)


@dataclass
class Corpus:
    directory: Path
    rows: int
    year: int
    seed: int
    files: list[DepartmentFile]

    @property
    def paths(self) -> list[Path]:
        return [self.directory / f.file for f in self.files]

    @property
    def total_rows(self) -> int:
        return sum(f.core_rows + f.project_rows + f.common_rows for f in self.files)


def generate_corpus(
    out_dir: Path, rows: int, year: int, seed: int = 1, departments: int | None = None
) -> Corpus:
    """Write department workbooks holding `rows` indicator rows in all (core + project + common) into
    out_dir, and manifest.json. Reuses out_dir untouched when its manifest has the same parameters."""
    out_dir = Path(out_dir)
    params = {"version": CORPUS_VERSION, "rows": rows, "year": year, "seed": seed, "departments": departments}
    existing = load_corpus(out_dir)
    if existing is not None and existing[0] == params and all(p.exists() for p in existing[1].paths):
        return existing[1]
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.xlsx"):
        old.unlink()
    rng = random.Random(seed)
    sizes = _department_sizes(rng, rows, departments)
    function_codes = sorted(
        code for code, fc in reference().function_codes.items() if fc.level == "项"
    ) or sorted(reference().function_codes)
    files: list[DepartmentFile] = []
    for index, size in enumerate(sizes):
        files.append(_write_department(out_dir, rng, index, size, year, function_codes))
    corpus = Corpus(out_dir, rows, year, seed, files)
    manifest = {"params": params, "total_rows": corpus.total_rows, "files": [asdict(f) for f in files]}
    (out_dir / MANIFEST).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    return corpus


def load_corpus(out_dir: Path) -> tuple[dict[str, object], Corpus] | None:
    """(parameters, Corpus) from an existing corpus directory's manifest, or None."""
    manifest_path = Path(out_dir) / MANIFEST
    if not manifest_path.exists():
        return None
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    params = manifest["params"]
    files = [DepartmentFile(**f) for f in manifest["files"]]
    return params, Corpus(Path(out_dir), params["rows"], params["year"], params["seed"], files)


def _department_sizes(rng: random.Random, rows: int, departments: int | None) -> list[int]:
    """Rows per department: ~100 to several thousand, summing exactly to `rows`."""
    if departments:
        weights = [rng.lognormvariate(0, 0.8) for _ in range(departments)]
        total = sum(weights)
        sizes = [max(1, int(rows * w / total)) for w in weights]
        sizes[-1] += rows - sum(sizes)
        while sizes[-1] < 1:  # tiny corpora: borrow from the largest
            big = sizes.index(max(sizes[:-1]))
            sizes[big] -= 1
            sizes[-1] += 1
        return sizes
    sizes = []
    left = rows
    while left > 0:
        size = min(left, max(100, int(rng.lognormvariate(6.6, 0.9))))  # median ~700, tail to ~5000
        size = min(size, 6000)
        if 0 < left - size < 100:
            size = left
        sizes.append(size)
        left -= size
    return sizes


def _dept_identity(index: int) -> tuple[str, str]:
    stem = DEPT_STEMS[index % len(DEPT_STEMS)]
    round_ = index // len(DEPT_STEMS)
    suffix = DEPT_SUFFIXES[round_ % len(DEPT_SUFFIXES)]
    name = f"市{stem}{suffix}" if round_ < len(DEPT_SUFFIXES) else f"市{stem}{suffix}{round_}"
    return f"{101 + index:03d}{(index * 37) % 1000:03d}", name


def _write_department(
    out_dir: Path, rng: random.Random, index: int, size: int, year: int, function_codes: list[str]
) -> DepartmentFile:
    code, name = _dept_identity(index)
    finance = index == 0  # the first department plays the finance bureau, the only one with 共性指标
    if finance:
        code, name = "100001", "市财政局"
    style = _pick_style(rng)
    n_core = min(size, rng.randint(5, 12))
    n_common = min(size - n_core, 40) if finance else 0
    n_project = size - n_core - n_common
    stem = DEPT_STEMS[index % len(DEPT_STEMS)]

    core = [_core_row(rng, stem, i) for i in range(n_core)]
    common = _project_rows(rng, n_common, function_codes, common=True)
    projects = _project_rows(rng, n_project, function_codes, common=False)
    bad = 0
    for rows in (core, projects, common):
        for row in rows:
            if rng.random() < 0.01:
                _spoil(rng, row)
                bad += 1

    file = f"{code}_{name}_{year}.xlsx"
    merged = "merged" in style
    # constant_memory streams rows (fast, low memory) but cannot merge cells across rows; departments
    # that merge cells are written in the normal mode, with a shared-strings table like Excel's.
    wb = xlsxwriter.Workbook(
        str(out_dir / file),
        {"constant_memory": not merged, "strings_to_numbers": False, "strings_to_formulas": False},
    )
    wb.set_properties({"created": FIXED_TIME, "author": "benchmarks.corpus"})
    _write_info(wb, code, name, year, style, n_core)
    _write_sheet(wb, "core", core, style, rng)
    _write_sheet(wb, "project", projects, style, rng)
    if n_common:
        _write_sheet(wb, "common", common, style, rng)
    wb.close()
    return DepartmentFile(file, code, name, n_core, n_project, n_common, bad, sorted(style))


def _pick_style(rng: random.Random) -> set[str]:
    style: set[str] = set()
    for trait, p in (
        ("title", 0.5),
        ("merged", 0.3),
        ("blanks", 0.3),
        ("shuffled", 0.15),
        ("aliases", 0.3),
        ("traditional", 0.1),
        ("fullwidth", 0.1),
        ("notes", 0.4),
        ("text_numbers", 0.3),
        ("combined_targets", 0.5),
    ):
        if rng.random() < p:
            style.add(trait)
    if "merged" in style:
        style.discard("blanks")
    return style


def _target(rng: random.Random, kind: str) -> tuple[str, object, str]:
    """(symbol, target, nature) for a target kind."""
    if kind == "rate":
        return "≥", rng.choice((85, 90, 95, 98, 100)), "定量"
    if kind == "satisfaction":
        return "≥", rng.choice((85, 90, 95)), "定量"
    if kind == "count":
        return "≥", rng.choice((2, 4, 12, 20, 50, 100, 200, 500, 1000, 2280)), "定量"
    if kind == "days":
        return "≤", rng.choice((3, 7, 15, 30)), "定量"
    if kind == "money":
        return "≤", rng.choice((5, 12.5, 30, 80, 120, 450)), "定量"
    return "定性", rng.choice(("效果明显", "有效提升", "长期发挥作用", "逐步完善")), "定性"


def _core_row(rng: random.Random, stem: str, i: int) -> dict[str, object]:
    l1, l2, pattern, unit, kind = CORE_NAMES[i % len(CORE_NAMES)]
    symbol, target, nature = _target(rng, kind)
    return {
        "seq": i + 1,
        "strategic_goal": f"提升{stem}公共服务水平",
        "level1": l1,
        "level2": l2,
        "name": pattern.format(stem=stem),
        "definition": f"反映{pattern.format(stem=stem)}情况",
        "symbol": symbol,
        "target": target,
        "unit": unit,
        "nature": nature,
        "history": f"{2023}年:{target}{unit};{2024}年:{target}{unit}"
        if nature == "定量" and rng.random() < 0.5
        else "",
        "data_source": rng.choice(("统计报表", "工作台账", "年度总结", "")),
        "include": "是" if rng.random() < 0.9 else "否",
        "change_type": rng.choice(("新增", "沿用", "新增")),
    }


def _project_rows(
    rng: random.Random, n: int, function_codes: list[str], common: bool
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    seq = 0
    while len(rows) < n:
        activity, category = rng.choice(PROJECT_ACTIVITIES)
        project = f"{rng.choice(PROJECT_PREFIXES)}{rng.choice(PROJECT_OBJECTS)}{activity}{rng.choice(PROJECT_ENDINGS)}"
        function_code = rng.choice(function_codes)
        count = min(n - len(rows), rng.randint(4, 10))
        picks = rng.choices([l2 for l2, _ in LEVEL2_MIX], weights=[w for _, w in LEVEL2_MIX], k=count)
        picks.sort(key=lambda l2: list(LEVEL1_OF).index(l2))  # officials group rows by level
        for l2 in picks:
            seq += 1
            obj = rng.choice(INDICATOR_OBJECTS)
            measure, unit, kind = rng.choice(MEASURES[l2])
            symbol, target, nature = _target(rng, kind)
            rows.append(
                {
                    "seq": seq,
                    "project": "" if common else project,
                    "project_category": "" if common else category,
                    "function_code": "" if common else function_code,
                    "level1": LEVEL1_OF[l2],
                    "level2": l2,
                    "name": f"{obj}{measure}",
                    "definition": f"反映{obj}{measure}情况",
                    "symbol": symbol,
                    "target": target,
                    "unit": unit,
                    "nature": nature,
                    "history": f"2024年:{target}{unit}" if nature == "定量" and rng.random() < 0.4 else "",
                    "value_basis": rng.choice(("计划标准", "历史标准", "行业标准")),
                    "data_source": rng.choice(("工作台账", "统计报表", "验收报告", "问卷调查", "")),
                    "value_method": rng.choice(("情况统计法", "直接证明法", "问卷调查法")),
                    "project_nature": "经常性" if rng.random() < 0.8 else "一次性",
                    "phased": "否" if rng.random() < 0.95 else "是",
                    "include": "是" if rng.random() < 0.93 else "否",
                    "change_type": rng.choice(("新增", "沿用", "沿用")),
                }
            )
    return rows


def _spoil(rng: random.Random, row: dict[str, object]) -> None:
    """A deliberately bad row (validation must reject it; the reader must keep it)."""
    kind = rng.choice(BAD_KINDS)
    if kind == "empty_name":
        row["name"] = ""
    elif kind == "bad_level1":
        row["level1"] = "经济指标"
    elif kind == "bad_level2":
        row["level2"] = "效率指标"
    elif kind == "bad_function_code" and row.get("function_code"):
        row["function_code"] = "20101A"
    elif kind == "bad_symbol":
        row["symbol"] = "约"
    else:
        row["nature"] = "定量"
        row["target"] = "待定"


_S2T = opencc.OpenCC("s2t")
_FULLWIDTH = str.maketrans({**{chr(c): chr(c + 0xFEE0) for c in range(0x30, 0x3A)}, "%": "％"})


def _styled_value(rng: random.Random, row: dict[str, object], column: str, style: set[str]) -> object:
    value = row.get(column, "")
    if value in ("", None):
        return ""
    if column == "target" and isinstance(value, int | float):
        symbol = row.get("symbol", "")
        unit = row.get("unit", "")
        if "combined_targets" in style and rng.random() < 0.5:
            value = rng.choice(
                (
                    f"{symbol}{value:g}{unit}",
                    f"{'不低于' if symbol == '≥' else '不超过'}{value:g}{unit}",
                    f"{value:g}{unit}{'以上' if symbol == '≥' else '以内'}",
                )
            )
        elif "text_numbers" in style:
            value = f"{value:g}"
    if (
        column == "function_code"
        and "text_numbers" not in style
        and isinstance(value, str)
        and value.isdigit()
    ):
        value = int(value)  # numbers stored as numbers: 2010101.0 must read back as "2010101"
    if isinstance(value, str):
        if "traditional" in style and column in ("level1", "level2", "name", "definition", "project"):
            value = _S2T.convert(value)
        if "fullwidth" in style and column in ("target", "unit", "history"):
            value = value.translate(_FULLWIDTH)
    return value


SHEET_NAMES = {"core": "部门整体核心指标", "project": "项目支出指标", "common": "共性指标"}
TRADITIONAL_SHEET_NAMES = {"core": "部門整體核心指標", "project": "表2 項目支出指標", "common": "共性指標"}


def _write_sheet(
    wb: xlsxwriter.Workbook, kind: str, rows: list[dict[str, object]], style: set[str], rng: random.Random
) -> None:
    ref = reference()
    columns = [spec.column for spec in ref.columns[kind]]
    if "shuffled" in style:
        head, tail = columns[:2], columns[2:]
        rng.shuffle(tail)
        columns = head + tail
    name = (TRADITIONAL_SHEET_NAMES if "traditional" in style else SHEET_NAMES)[kind]
    ws = wb.add_worksheet(name)
    r = 0
    if "title" in style:
        title = f"{SHEET_NAMES[kind]}（{rng.choice(('2026', '2026年度'))}）"
        if "merged" in style:
            ws.merge_range(0, 0, 0, len(columns) - 1, title)
        else:
            ws.write_string(0, 0, title)
        ws.write_string(1, 0, "金额单位：万元")
        r = 2
    for j, column in enumerate(columns):
        header = ref.header_zh(kind, column)
        alias = HEADER_ALIASES.get(column, "")
        if "aliases" in style and ref.header_lookup[kind].get(compact(alias)) == column:
            header = alias  # only aliases the template accepts for this sheet
        if "traditional" in style:
            header = _S2T.convert(header)
        ws.write_string(r, j, header)
    r += 1
    styled = [{c: _styled_value(rng, row, c, style) for c in columns} for row in rows]
    # Same project/level as the row above: officials leave the cell blank or merge the cells.
    runs: list[tuple[int, int, str]] = []  # (first row index, last row index, column)
    if "merged" in style or "blanks" in style:
        for c in ("project", "project_category", "function_code", "level1", "level2"):
            if c not in columns:
                continue
            i = 0
            while i < len(rows):
                j = i
                while (
                    j + 1 < len(rows)
                    and styled[i][c] != ""
                    and styled[j + 1][c] == styled[i][c]
                    and (c == "project" or rows[j + 1].get("project") == rows[i].get("project"))
                    and (c != "level2" or rows[j + 1].get("level1") == rows[i].get("level1"))
                ):
                    j += 1
                if j > i:
                    runs.append((i, j, c))
                    for k in range(i + 1, j + 1):
                        styled[k][c] = ""
                i = j + 1
    first_data = r
    for values in styled:
        for j, c in enumerate(columns):
            _write(ws, r, j, values[c])
        r += 1
    if "merged" in style:  # never in constant_memory mode (see _write_department)
        for i, j, c in runs:
            col = columns.index(c)
            ws.merge_range(first_data + i, col, first_data + j, col, styled[i][c])
    if "notes" in style:
        r += rng.choice((0, 1))
        ws.write_string(r, 0, "填表人：张三")
        ws.write_string(r, 3, "审核人：李四")
        ws.write_string(r, 6, f"填报日期：{rng.choice(('2025年11月20日', '2025-11-28'))}")
        ws.write_string(r + 1, 0, "注：目标值请填写数值，计量单位单独填写。")


def _write(ws: xlsxwriter.worksheet.Worksheet, r: int, c: int, value: object) -> None:
    """Write by Python type (the corpus decides text vs number, not xlsxwriter's guessing)."""
    if value in ("", None):
        return
    if isinstance(value, bool):
        ws.write_boolean(r, c, value)
    elif isinstance(value, int | float):
        ws.write_number(r, c, value)
    else:
        ws.write_string(r, c, str(value))


def _write_info(
    wb: xlsxwriter.Workbook, code: str, name: str, year: int, style: set[str], n_core: int
) -> None:
    ws = wb.add_worksheet("部門信息" if "traditional" in style else "部门信息")
    r = 0
    if "title" in style:
        ws.write_string(0, 0, f"{name}基本信息")
        r = 1
    ws.write_string(r, 0, "项目")
    ws.write_string(r, 1, "内容")
    items = [
        ("填报年度", year),
        ("部门编码：" if "aliases" in style else "部门编码", code),
        ("部门名称", name),
        ("绩效联系人", "王五"),
        ("联系电话", "0571-88880000"),
        ("职责复杂程度", "复杂" if n_core > 6 else "单一"),
    ]
    for i, (key, value) in enumerate(items, start=r + 1):
        ws.write_string(i, 0, key)
        _write(ws, i, 1, value if "text_numbers" not in style else str(value))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="生成基准测试用的部门填报工作簿（确定性，可复现）")
    parser.add_argument("--rows", type=int, required=True, help="指标行总数")
    parser.add_argument("--out", type=Path, required=True, help="输出目录")
    parser.add_argument("--year", type=int, default=2026, help="填报年度")
    parser.add_argument("--seed", type=int, default=1, help="随机种子（同一种子生成相同文件）")
    parser.add_argument("--departments", type=int, default=None, help="部门数（默认按行数自动确定）")
    args = parser.parse_args(argv)
    corpus = generate_corpus(args.out, args.rows, args.year, args.seed, args.departments)
    bad = sum(f.bad_rows for f in corpus.files)
    print(
        f"{len(corpus.files)} workbooks, {corpus.total_rows} rows ({bad} deliberately bad) in {corpus.directory}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
