"""What each department of a benchmark corpus submits: a deterministic random generator of indicator rows.

Indicator names come in two kinds, as in a real city:
  - generic ones built from parts (培训/会议/维修/巡检/档案/补贴… × 人次/场次/合格率/完成率/满意度…) that recur
    across departments — the cross-department duplicates the library merges;
  - project-specific ones (a topic such as 城东校舍 or 滨江河道 + an object + a measure): the long tail. Topics
    are drawn Zipf-like from a pool that grows with the corpus (rows / 25 topics), so the number of distinct
    indicators grows with the corpus instead of saturating.
A department's projects mostly sit in its own 功能分类 类 (教育局 → 205), as budgets do. About 6% of project
rows carry a wording variant the library must see through (参训/培训, 按期/按时, a unit in the name, a stray
space), and about 1% are bad rows (unknown level, malformed function code, "待定" targets…). Each department
also draws the habits its workbook is written with (corpus.py): title rows, merged cells or blanks, shuffled
columns, header aliases, Traditional Chinese, full-width digits, combined targets, text numbers, notes rows.

churn_department turns a department's plan into its next year's (see corpus.py, generate_series).
"""

from __future__ import annotations

import bisect
import copy
import random
from collections.abc import Iterator
from dataclasses import dataclass

from schemas.vocab import reference

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
# Topics of project-specific indicators: place × subject × variant (40 × 60 × 16 = 38,400 topics).
TOPIC_PLACES = (
    "城东", "城西", "城南", "城北", "高新区", "开发区", "滨江", "北湖", "南山", "东港", "西湖", "临港", "新城", "老城",
    "江北", "河西", "中心城区", "东部片区", "西部片区", "南部片区", "北部片区", "一中", "二中", "三中", "实验学校",
    "人民医院", "中医院", "妇幼保健院", "疾控中心", "图书馆", "博物馆", "文化馆", "体育中心", "会展中心", "火车站",
    "汽车站", "机场", "港区", "产业园", "物流园",
)  # fmt: skip
TOPIC_SUBJECTS = (
    "校舍", "道路", "桥梁", "河道", "公厕", "路灯", "绿化", "污水管网", "供水管网", "燃气管道", "老旧小区", "背街小巷",
    "农贸市场", "停车场", "充电桩", "监控设备", "信息系统", "网站", "数据中心", "办公楼", "食堂", "宿舍", "实验室",
    "图书", "档案库房", "消防设施", "应急物资", "救护车辆", "公交车辆", "环卫车辆", "垃圾中转站", "污水处理厂", "水库",
    "堤防", "泵站", "林地", "湿地", "耕地", "农田水利", "养殖场", "农产品", "种子", "疫苗", "药品", "医疗设备",
    "病床", "家庭医生", "养老床位", "托育机构", "残疾人服务", "就业见习", "技能培训", "创业孵化", "法律服务", "人民调解",
    "社区矫正", "信访接待", "热线工单", "政务服务", "公共文化",
)  # fmt: skip
TOPIC_VARIANTS = ("", "一期", "二期", "三期", "提升", "改造", "扩建", "新建", "智慧", "标准化", "示范", "综合",
                  "专项", "日常", "应急", "数字化")  # fmt: skip
TOPIC_SPACE = len(TOPIC_PLACES) * len(TOPIC_SUBJECTS) * len(TOPIC_VARIANTS)
SPECIFIC_SHARE = 0.35  # project rows named after the project's topic (the long tail)
VARIANT_SHARE = 0.06  # project rows worded differently from their indicator's usual name
HOME_CLASS_SHARE = 0.85  # projects in the department's own 功能分类 类
_ZIPF = [1.0 / (k + 1) for k in range(16)]  # popularity of the k-th object / measure
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
class DepartmentPlan:
    """One department's submission before it is written: the rows of each sheet (dicts keyed by column;
    keys starting with "_" are the generator's own: the clean name, the truth, what a churn may change)."""

    index: int
    code: str
    name: str
    stem: str
    style: set[str]
    home_class: str
    sheets: dict[str, list[dict[str, object]]]  # core / project / common

    @property
    def bad_rows(self) -> int:
        return sum(bool(r.get("_bad")) for rows in self.sheets.values() for r in rows)


@dataclass
class Vocabulary:
    """What departments draw names and codes from; shared by every department of a corpus."""

    function_codes: list[str]
    classes: list[str]
    codes_by_class: dict[str, list[str]]
    topics: int  # size of the topic pool (rows / 25)
    cum_weights: list[float]  # Zipf-like popularity of the topics

    @classmethod
    def for_rows(cls, rows: int) -> Vocabulary:
        codes = sorted(c for c, fc in reference().function_codes.items() if fc.level == "项") or sorted(
            reference().function_codes
        )
        by_class: dict[str, list[str]] = {}
        for c in codes:
            by_class.setdefault(c[:3], []).append(c)
        topics = min(TOPIC_SPACE, max(200, rows // 25))
        total, cum = 0.0, []
        for k in range(topics):
            total += 1.0 / (k + 1) ** 0.9
            cum.append(total)
        return cls(codes, sorted(by_class), by_class, topics, cum)

    def topic(self, rng: random.Random, fresh: bool = False) -> str:
        """A project topic: a popular one most of the time; `fresh` draws one beyond the pool (never used)."""
        if fresh:
            k = self.topics + rng.randrange(max(1, TOPIC_SPACE - self.topics))
        else:
            k = bisect.bisect_left(self.cum_weights, rng.random() * self.cum_weights[-1])
        k = (k * 7919) % TOPIC_SPACE  # spread popular topics over places and subjects
        place = TOPIC_PLACES[k % len(TOPIC_PLACES)]
        subject = TOPIC_SUBJECTS[(k // len(TOPIC_PLACES)) % len(TOPIC_SUBJECTS)]
        variant = TOPIC_VARIANTS[k // (len(TOPIC_PLACES) * len(TOPIC_SUBJECTS)) % len(TOPIC_VARIANTS)]
        return f"{place}{variant}{subject}"


def plan_departments(
    rows: int, seed: int, departments: int | None, vocab: Vocabulary | None = None
) -> Iterator[DepartmentPlan]:
    """Department plans summing to `rows` indicator rows, one at a time."""
    vocab = vocab or Vocabulary.for_rows(rows)
    sizes = department_sizes(random.Random(seed), rows, departments)
    for index, size in enumerate(sizes):
        yield plan_department(index, size, vocab, random.Random(f"{seed}:{index}:plan"))


def department_sizes(rng: random.Random, rows: int, departments: int | None) -> list[int]:
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


def plan_department(index: int, size: int, vocab: Vocabulary, rng: random.Random) -> DepartmentPlan:
    code, name = _dept_identity(index)
    finance = index == 0  # the first department plays the finance bureau, the only one with 共性指标
    if finance:
        code, name = "100001", "市财政局"
    style = _pick_style(rng, index)
    n_core = min(size, rng.randint(5, 12))
    n_common = min(size - n_core, 40) if finance else 0
    n_project = size - n_core - n_common
    stem = DEPT_STEMS[index % len(DEPT_STEMS)]
    home = vocab.classes[index % len(vocab.classes)]
    plan = DepartmentPlan(index, code, name, stem, style, home, {})
    plan.sheets["core"] = [_core_row(rng, stem, i) for i in range(n_core)]
    plan.sheets["common"] = _project_rows(rng, n_common, vocab, home, common=True)
    plan.sheets["project"] = _project_rows(rng, n_project, vocab, home, common=False)
    for rows in plan.sheets.values():
        for row in rows:
            if rng.random() < 0.01:
                _spoil(rng, row)
    return plan


STYLE_TRAITS = (
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
)


def _pick_style(rng: random.Random, index: int) -> set[str]:
    """Random traits, plus two forced ones taken in turn, so that even a corpus of five departments
    carries every kind of mess."""
    forced = {STYLE_TRAITS[(2 * index + k) % len(STYLE_TRAITS)][0] for k in (0, 1)}
    style = {trait for trait, p in STYLE_TRAITS if rng.random() < p} | forced
    if "merged" in style and "blanks" in style:  # merged cells and blanks are two ways of the same thing
        style.discard("merged" if "blanks" in forced else "blanks")
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


def _truth(scope: str, level2: str, fclass: str, clean: str, unit: str) -> str:
    return "|".join((scope, level2, fclass, clean, unit))


def _core_row(rng: random.Random, stem: str, i: int) -> dict[str, object]:
    l1, l2, pattern, unit, kind = CORE_NAMES[i % len(CORE_NAMES)]
    symbol, target, nature = _target(rng, kind)
    name = pattern.format(stem=stem)
    return {
        "seq": i + 1,
        "strategic_goal": f"提升{stem}公共服务水平",
        "level1": l1,
        "level2": l2,
        "name": name,
        "definition": f"反映{name}情况",
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
        "_kind": kind,
        "_truth": _truth("部门整体", l2, "", name, unit),
    }


def _name_indicator(rng: random.Random, row: dict[str, object], l2: str, topic: str) -> None:
    """Give a row an indicator of level2 `l2`: a generic name, or one of the project's topic when given;
    sometimes worded the way another department words the same indicator."""
    measures = MEASURES[l2]
    measure, unit, kind = rng.choices(measures, weights=_ZIPF[: len(measures)])[0]
    # A few wordings dominate (培训人次, 服务对象满意度), as in every real library.
    obj = (
        ""
        if kind == "satisfaction" and rng.random() < 0.6
        else rng.choices(INDICATOR_OBJECTS, weights=_ZIPF)[0]
    )
    clean = f"{topic}{obj}{measure}"
    name = clean
    if rng.random() < VARIANT_SHARE:
        variants = [f"{clean}（{unit}）"] if unit else []
        variants += [clean.replace("培训", "参训")] if "培训" in clean else []
        variants += [clean.replace("按时", "按期")] if "按时" in clean else []
        variants.append(f"{clean[:2]} {clean[2:]}")
        name = rng.choice(variants)
    symbol, target, nature = _target(rng, kind)
    scope = "共性" if row.get("_common") else "项目"
    fclass = "" if scope == "共性" else str(row["function_code"])[:3]
    row.update(
        name=name,
        definition=f"反映{clean}情况",
        symbol=symbol,
        target=target,
        unit=unit,
        nature=nature,
        history=f"2024年:{target}{unit}" if nature == "定量" and rng.random() < 0.4 else "",
        _topic=topic,
        _kind=kind,
        _truth=_truth(scope, l2, fclass, clean, unit),
    )


def _new_project(
    rng: random.Random, count: int, vocab: Vocabulary, home: str, common: bool, fresh: bool = False
) -> list[dict[str, object]]:
    """One project's indicator rows (4–10 of them, fewer when `count` is smaller)."""
    activity, category = rng.choice(PROJECT_ACTIVITIES)
    topic = vocab.topic(rng, fresh)
    if rng.random() < 0.5:
        project = f"{topic}{activity}{rng.choice(PROJECT_ENDINGS) or '项目'}"
    else:
        project = f"{rng.choice(PROJECT_PREFIXES)}{rng.choice(PROJECT_OBJECTS)}{activity}{rng.choice(PROJECT_ENDINGS)}"
    codes = vocab.codes_by_class[home] if rng.random() < HOME_CLASS_SHARE else vocab.function_codes
    function_code = rng.choice(codes)
    picks = rng.choices([l2 for l2, _ in LEVEL2_MIX], weights=[w for _, w in LEVEL2_MIX], k=count)
    picks.sort(key=lambda l2: list(LEVEL1_OF).index(l2))  # officials group rows by level
    rows = []
    for l2 in picks:
        row: dict[str, object] = {
            "project": "" if common else project,
            "project_category": "" if common else category,
            "function_code": "" if common else function_code,
            "level1": LEVEL1_OF[l2],
            "level2": l2,
            "value_basis": rng.choice(("计划标准", "历史标准", "行业标准")),
            "data_source": rng.choice(("工作台账", "统计报表", "验收报告", "问卷调查", "")),
            "value_method": rng.choice(("情况统计法", "直接证明法", "问卷调查法")),
            "project_nature": "经常性" if rng.random() < 0.8 else "一次性",
            "phased": "否" if rng.random() < 0.95 else "是",
            "include": "是" if rng.random() < 0.93 else "否",
            "change_type": rng.choice(("新增", "沿用", "沿用")),
            "_common": common,
        }
        specific = not common and rng.random() < SPECIFIC_SHARE
        _name_indicator(rng, row, l2, topic if specific else "")
        rows.append(row)
    return rows


def _project_rows(
    rng: random.Random, n: int, vocab: Vocabulary, home: str, common: bool
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    while len(rows) < n:
        rows += _new_project(rng, min(n - len(rows), rng.randint(4, 10)), vocab, home, common)
    return rows


def _spoil(rng: random.Random, row: dict[str, object]) -> None:
    """A deliberately bad row (validation must reject it; the reader must keep it)."""
    row["_bad"] = True
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


# --------------------------------------------------------------------------------------------------
# Year-to-year churn
# --------------------------------------------------------------------------------------------------


def _carry(rng: random.Random, row: dict[str, object], renamed: float) -> None:
    """A project row carried into the next year: 沿用, sometimes reworded, its target moved or its
    explanation reworded."""
    row["change_type"] = "沿用"
    if row.get("_bad"):
        return
    if rng.random() < renamed:  # reworded: another indicator, arriving without an id
        l2 = str(row["level2"])
        before = row["_truth"]
        while row["_truth"] == before:
            _name_indicator(rng, row, l2, str(row.get("_topic", "")))
        row["change_type"] = "新增"
    if rng.random() < 0.10:
        row["symbol"], row["target"], row["nature"] = _target(rng, str(row["_kind"]))
    if rng.random() < 0.02:
        row["definition"] = f"{row['definition']}（统计口径按年度调整）"


def _add_projects(
    rng: random.Random, kept: list[list[dict[str, object]]], budget: int, vocab: Vocabulary, home: str
) -> None:
    """New projects of `budget` rows in all (half on topics never seen), inserted among the kept ones."""
    while budget > 0:
        new = _new_project(rng, min(budget, rng.randint(4, 10)), vocab, home, False, fresh=rng.random() < 0.5)
        for row in new:
            row["change_type"] = "新增"
            if rng.random() < 0.01:
                _spoil(rng, row)
        kept.insert(rng.randint(0, len(kept)), new)
        budget -= len(new)


def churn_department(
    plan: DepartmentPlan, vocab: Vocabulary, *, year: int, churn: float = 0.05, seed: int = 1
) -> DepartmentPlan:
    """The department's submission of the next year: churn/3 of its project rows retired (whole projects
    end), churn/3 renamed to another indicator, churn/3 added as new projects (half on new topics); 10%
    of targets move, 2% of explanations are reworded; carried rows become 沿用. Deterministic."""
    rng = random.Random(f"{seed}:{year}:{plan.index}:churn")
    third = churn / 3
    out = copy.deepcopy(plan)
    projects: list[list[dict[str, object]]] = []
    for row in out.sheets["project"]:
        if projects and projects[-1][0]["project"] == row["project"]:
            projects[-1].append(row)
        else:
            projects.append([row])
    n_rows = len(out.sheets["project"])
    kept = [group for group in projects if rng.random() >= third]
    for row in (r for group in kept for r in group):
        _carry(rng, row, third)
    _add_projects(rng, kept, round(third * n_rows), vocab, out.home_class)
    out.sheets["project"] = [r for group in kept for r in group]
    for row in out.sheets["core"] + out.sheets["common"]:
        row["change_type"] = "沿用"
        if not row.get("_bad") and rng.random() < 0.10:
            row["symbol"], row["target"], row["nature"] = _target(rng, str(row["_kind"]))
    return out
