"""A realistic, deterministic corpus of department submission workbooks for benchmarks.

    python -m benchmarks.corpus --rows 100000 --out /tmp/corpus --year 2026 [--seed 1] [--departments N]
    python -m benchmarks.corpus --rows 100000 --out /tmp/series --year 2026 --years 10 [--churn 0.05]

Each department gets one workbook (部门信息, 部门整体核心指标, 项目支出指标; the finance bureau also 共性指标)
of ~100 to several thousand rows. Indicator names come in two kinds, as in a real city:
  - generic ones built from parts (培训/会议/维修/巡检/档案/补贴… × 人次/场次/合格率/完成率/满意度…) that recur
    across departments — the cross-department duplicates the library merges;
  - project-specific ones (a topic such as 城东校舍 or 滨江河道 + an object + a measure): the long tail. Topics
    are drawn Zipf-like from a pool that grows with the corpus (rows / 25 topics), so the number of distinct
    indicators grows with the corpus instead of saturating.
A department's projects mostly sit in its own 功能分类 类 (教育局 → 205), as budgets do. About 6% of project
rows carry a wording variant the library must see through (参训/培训, 按期/按时, a unit in the name, a stray
space). Some departments write the mess officials write: title rows, merged 项目名称/一级/二级 cells or
"same as above" blanks, shuffled columns, header aliases, Traditional Chinese, full-width digits, targets
with sign and unit in one cell, numbers stored as text, trailing 填表人 rows, and about 1% bad rows
(unknown level, malformed function code, "待定" targets…).

Year-to-year churn (--years, churn_department): year N+1 is year N with, per department, ~churn/3 of the
project rows retired (whole projects end), ~churn/3 renamed (another object or measure: a different
indicator) and ~churn/3 added (new projects, half of them on topics never seen before); 10% of targets
move and 2% of explanations are reworded. The corpus has no 库内编号 (ids exist only after a release), so
carried rows are 沿用 without an id and matched by key; a renamed indicator therefore arrives as a new
indicator and the old one is auto-retired when no department uses it any more — what a library sees
when departments reword instead of filing 修改 with an id.

The same parameters give byte-identical files. manifest.json records the parameters and per-file counts
(rows, deliberately bad rows); truth.csv.gz maps every indicator row (file, sheet, Excel row) to the
indicator it really is (the generator's clean name, unit, 二级指标, scope and 类), the ground truth for
dedupe precision and recall.
"""

from __future__ import annotations

import argparse
import bisect
import copy
import csv
import datetime as dt
import gzip
import io
import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

import opencc
import xlsxwriter

from schemas.text import compact
from schemas.vocab import reference

MANIFEST = "manifest.json"
TRUTH = "truth.csv.gz"
CORPUS_VERSION = 3  # bump when the generator's output changes, so stale corpora are rebuilt
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
SHEET_KINDS = ("core", "project", "common")


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


# --------------------------------------------------------------------------------------------------
# One year
# --------------------------------------------------------------------------------------------------


def generate_corpus(
    out_dir: Path, rows: int, year: int, seed: int = 1, departments: int | None = None
) -> Corpus:
    """Write department workbooks holding `rows` indicator rows in all (core + project + common) into
    out_dir, with manifest.json and truth.csv.gz. Reuses out_dir untouched when its manifest has the
    same parameters."""
    out_dir = Path(out_dir)
    params = _params(rows, year, seed, departments)
    existing = load_corpus(out_dir)
    if existing is not None and existing[0] == params and all(p.exists() for p in existing[1].paths):
        return existing[1]
    writer = _YearWriter(out_dir, year, seed)
    for plan in plan_departments(rows, seed, departments):
        writer.add(plan)
    return writer.close(params)


def generate_series(
    out_root: Path,
    rows: int,
    first_year: int,
    years: int,
    *,
    churn: float = 0.05,
    seed: int = 1,
    departments: int | None = None,
) -> list[Corpus]:
    """`years` consecutive corpora in out_root/<year>/ (the inbox layout `indicators rebuild` reads): the
    first as generate_corpus makes it, each next one churned from the one before (churn_department).
    One department is held in memory at a time. Reuses years whose manifest matches."""
    out_root = Path(out_root)
    params = [
        _params(rows, first_year + k, seed, departments) | {"series_first_year": first_year, "churn": churn}
        for k in range(years)
    ]
    existing = [load_corpus(out_root / str(first_year + k)) for k in range(years)]
    if all(
        e is not None and e[0] == p and all(x.exists() for x in e[1].paths)
        for e, p in zip(existing, params, strict=True)
    ):
        return [e[1] for e in existing]  # type: ignore[index]
    vocab = Vocabulary.for_rows(rows)
    writers = [_YearWriter(out_root / str(first_year + k), first_year + k, seed) for k in range(years)]
    for plan in plan_departments(rows, seed, departments, vocab):
        for k, writer in enumerate(writers):
            if k:
                plan = churn_department(plan, vocab, year=first_year + k, churn=churn, seed=seed)
            writer.add(plan)
    return [w.close(p) for w, p in zip(writers, params, strict=True)]


def rewrite_department(corpus_dir: Path, index: int, churn: float = 0.3) -> Path:
    """Replace department `index`'s workbook of an existing corpus by a changed version of the same year
    (its rows churned at `churn`): one department re-submitting, for incremental rebuilds. The manifest
    and truth file are left as they were."""
    params, corpus = load_corpus(corpus_dir)  # type: ignore[misc]
    rows, seed, year = int(params["rows"]), int(params["seed"]), int(params["year"])
    vocab = Vocabulary.for_rows(rows)
    size = _department_sizes(random.Random(seed), rows, params["departments"])[index]  # type: ignore[arg-type]
    plan = plan_department(index, size, vocab, random.Random(f"{seed}:{index}:plan"))
    plan = churn_department(plan, vocab, year=year, churn=churn, seed=seed + 1)
    dept_file, _ = _write_department(
        Path(corpus_dir), plan, year, random.Random(f"{seed}:{year}:{index}:rewrite")
    )
    return Path(corpus_dir) / dept_file.file


def _params(rows: int, year: int, seed: int, departments: int | None) -> dict[str, object]:
    return {"version": CORPUS_VERSION, "rows": rows, "year": year, "seed": seed, "departments": departments}


def load_corpus(out_dir: Path) -> tuple[dict[str, object], Corpus] | None:
    """(parameters, Corpus) from an existing corpus directory's manifest, or None."""
    manifest_path = Path(out_dir) / MANIFEST
    if not manifest_path.exists():
        return None
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    params = manifest["params"]
    files = [DepartmentFile(**f) for f in manifest["files"]]
    return params, Corpus(Path(out_dir), params["rows"], params["year"], params["seed"], files)


def load_truth(out_dir: Path) -> dict[tuple[str, str, int], str]:
    """(file, sheet kind, Excel row) → the indicator the row really is."""
    with gzip.open(Path(out_dir) / TRUTH, "rt", encoding="utf-8", newline="") as fh:
        return {(r["file"], r["sheet"], int(r["row"])): r["truth"] for r in csv.DictReader(fh)}


class _YearWriter:
    """Writes one year's workbooks as department plans arrive, then the manifest and the truth file."""

    def __init__(self, out_dir: Path, year: int, seed: int) -> None:
        self.out_dir, self.year, self.seed = Path(out_dir), year, seed
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for old in self.out_dir.glob("*.xlsx"):
            old.unlink()
        self.files: list[DepartmentFile] = []
        self.truth = io.StringIO()
        self.truth_csv = csv.writer(self.truth, lineterminator="\n")
        self.truth_csv.writerow(["file", "sheet", "row", "truth"])

    def add(self, plan: DepartmentPlan) -> None:
        rng = random.Random(f"{self.seed}:{self.year}:{plan.index}:write")
        dept_file, truth = _write_department(self.out_dir, plan, self.year, rng)
        self.files.append(dept_file)
        self.truth_csv.writerows(truth)

    def close(self, params: dict[str, object]) -> Corpus:
        corpus = Corpus(self.out_dir, int(params["rows"]), self.year, self.seed, self.files)  # type: ignore[call-overload]
        with open(self.out_dir / TRUTH, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            gz.write(self.truth.getvalue().encode("utf-8"))
        manifest = {
            "params": params,
            "total_rows": corpus.total_rows,
            "files": [asdict(f) for f in self.files],
        }
        (self.out_dir / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
        )
        return corpus


def plan_departments(
    rows: int, seed: int, departments: int | None, vocab: Vocabulary | None = None
):  # -> Iterator[DepartmentPlan]
    """Department plans summing to `rows` indicator rows, one at a time."""
    vocab = vocab or Vocabulary.for_rows(rows)
    sizes = _department_sizes(random.Random(seed), rows, departments)
    for index, size in enumerate(sizes):
        yield plan_department(index, size, vocab, random.Random(f"{seed}:{index}:plan"))


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
        row["change_type"] = "沿用"
        if row.get("_bad"):
            continue
        if rng.random() < third:  # reworded: another indicator, arriving without an id
            l2 = str(row["level2"])
            before = row["_truth"]
            while row["_truth"] == before:
                _name_indicator(rng, row, l2, str(row.get("_topic", "")))
            row["change_type"] = "新增"
        if rng.random() < 0.10:
            row["symbol"], row["target"], row["nature"] = _target(rng, str(row["_kind"]))
        if rng.random() < 0.02:
            row["definition"] = f"{row['definition']}（统计口径按年度调整）"
    budget = round(third * n_rows)
    while budget > 0:
        new = _new_project(
            rng, min(budget, rng.randint(4, 10)), vocab, out.home_class, False, fresh=rng.random() < 0.5
        )
        for row in new:
            row["change_type"] = "新增"
            if rng.random() < 0.01:
                _spoil(rng, row)
        kept.insert(rng.randint(0, len(kept)), new)
        budget -= len(new)
    out.sheets["project"] = [r for group in kept for r in group]
    for row in out.sheets["core"] + out.sheets["common"]:
        row["change_type"] = "沿用"
        if not row.get("_bad") and rng.random() < 0.10:
            row["symbol"], row["target"], row["nature"] = _target(rng, str(row["_kind"]))
    return out


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------


def _write_department(
    out_dir: Path, plan: DepartmentPlan, year: int, rng: random.Random
) -> tuple[DepartmentFile, list[tuple[str, str, int, str]]]:
    """Write the plan as `<code>_<name>_<year>.xlsx`; return its counts and its truth rows."""
    style = plan.style
    file = f"{plan.code}_{plan.name}_{year}.xlsx"
    merged = "merged" in style
    # constant_memory streams rows (fast, low memory) but cannot merge cells across rows; departments
    # that merge cells are written in the normal mode, with a shared-strings table like Excel's.
    wb = xlsxwriter.Workbook(
        str(out_dir / file),
        {"constant_memory": not merged, "strings_to_numbers": False, "strings_to_formulas": False},
    )
    wb.set_properties({"created": FIXED_TIME, "author": "benchmarks.corpus"})
    core, projects, common = (plan.sheets[k] for k in SHEET_KINDS)
    _write_info(wb, plan.code, plan.name, year, style, len(core))
    truth: list[tuple[str, str, int, str]] = []
    truth += _write_sheet(wb, file, year, "core", core, style, rng)
    truth += _write_sheet(wb, file, year, "project", projects, style, rng)
    if common:
        truth += _write_sheet(wb, file, year, "common", common, style, rng)
    wb.close()
    counts = DepartmentFile(
        file, plan.code, plan.name, len(core), len(projects), len(common), plan.bad_rows, sorted(style)
    )
    return counts, truth


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
    wb: xlsxwriter.Workbook,
    file: str,
    year: int,
    kind: str,
    rows: list[dict[str, object]],
    style: set[str],
    rng: random.Random,
) -> list[tuple[str, str, int, str]]:
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
        title = f"{SHEET_NAMES[kind]}（{rng.choice((str(year), f'{year}年度'))}）"
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
    rows = [{**row, "seq": i + 1} for i, row in enumerate(rows)]
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
    truth = []
    for row, values in zip(rows, styled, strict=True):
        for j, c in enumerate(columns):
            _write(ws, r, j, values[c])
        truth.append((file, kind, r + 1, str(row.get("_truth", ""))))  # Excel rows count from 1
        r += 1
    if "merged" in style:  # never in constant_memory mode (see _write_department)
        for i, j, c in runs:
            col = columns.index(c)
            ws.merge_range(first_data + i, col, first_data + j, col, styled[i][c])
    if "notes" in style:
        r += rng.choice((0, 1))
        ws.write_string(r, 0, "填表人：张三")
        ws.write_string(r, 3, "审核人：李四")
        ws.write_string(r, 6, f"填报日期：{rng.choice((f'{year - 1}年11月20日', f'{year - 1}-11-28'))}")
        ws.write_string(r + 1, 0, "注：目标值请填写数值，计量单位单独填写。")
    return truth


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
    parser.add_argument(
        "--out", type=Path, required=True, help="输出目录（--years 时为各年度子目录的上级目录）"
    )
    parser.add_argument("--year", type=int, default=2026, help="填报年度（--years 时为第一年）")
    parser.add_argument("--seed", type=int, default=1, help="随机种子（同一种子生成相同文件）")
    parser.add_argument("--departments", type=int, default=None, help="部门数（默认按行数自动确定）")
    parser.add_argument("--years", type=int, default=1, help="连续生成的年度数（逐年变动）")
    parser.add_argument("--churn", type=float, default=0.05, help="逐年变动的项目指标行比例（默认 0.05）")
    args = parser.parse_args(argv)
    if args.years > 1:
        corpora = generate_series(
            args.out,
            args.rows,
            args.year,
            args.years,
            churn=args.churn,
            seed=args.seed,
            departments=args.departments,
        )
    else:
        corpora = [generate_corpus(args.out, args.rows, args.year, args.seed, args.departments)]
    for corpus in corpora:
        bad = sum(f.bad_rows for f in corpus.files)
        print(
            f"{corpus.year}: {len(corpus.files)} workbooks, {corpus.total_rows} rows ({bad} deliberately bad)"
            f" in {corpus.directory}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
