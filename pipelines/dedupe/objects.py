"""What a pair of indicators counts or asks: two groups of people, two counted things, two kinds of unit (issue 11,
the listed non-duplicates).

The review list held many pairs of one measure of two named groups (学生满意度 / 学生家长满意度, 政府满意度 /
市民满意度), counts of two things with the same count word (保障村干部人数 / 保障遗属人数, 补贴渔船数 / 补贴特校数) and
names counting different things by their units (人 / 个, 人 / 户). The name features are read on the canonical
stems (vocabulary.py: 市民, 居民 and 群众 are one word there), once per distinct stem; the unit family once per
distinct unit. The pair model weighs them (benchmarks/cv_match.py, round 5).
Round 7 (the listed non-duplicates left): two kinds of quantity (kind_conflict), groups with none in common
(groups_apart), two measure words (measure_swap), costs of two items (items_apart); no labelled duplicate has
any of them, and a pair with one is listed only when likely (scoring.ModelScoring.likely_only).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from pipelines.dedupe.counted import counts_apart
from pipelines.dedupe.measured import MEASURE_ALIKE, judged_apart, measure_replaced
from pipelines.normalize.suffixes import suffix_table

# The conflicts of rounds 7 to 9 (no labelled duplicate of the tuning sets has any): each is a model feature, a pair
# with one is listed only when likely (scoring.ModelScoring.likely_only) and named in the pair's flags
# (reasons.CONFLICT_FLAGS).
LIKELY_ONLY_CONFLICTS = (
    "kind_conflict",
    "groups_apart",
    "measure_swap",
    "items_apart",
    "periods_apart",
    "per_unit_apart",
    "new_apart",
    "things_apart",
    "qualifier_apart",
    "measure_replaced",
    "judged_apart",
    "counts_apart",
)

# Groups of people a measure is asked of or counted for (a name naming none of them: no conflict).
GROUP_WORDS = (
    "学生家长", "学生", "家长", "研究生", "在校生", "学员", "教师", "社会", "公众", "群众", "村民", "农户", "农民",
    "职工", "员工", "患者", "游客", "读者", "旅客", "乘客", "租户", "企业", "政府", "学校", "老年人", "儿童",
    "残疾人", "妇女", "青少年", "干警", "医生", "脱贫户", "贫困人口", "科研人员", "临床人员", "演出人员",
    "与会人员", "使用人员",
)  # fmt: skip
_GROUPS = re.compile("|".join(sorted(GROUP_WORDS, key=lambda w: (-len(w), w))))
# A count's ending: what stands before it is the thing counted.
_COUNT = re.compile(r"(?:总?数量|人数|户数|个数|人次|数)$")


def group_conflict(stems: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Both names name groups of people, not the same ones (学生满意度 / 学生家长满意度)."""
    groups = [frozenset(_GROUPS.findall(str(s))) for s in stems]
    codes = {g: k for k, g in enumerate(sorted(set(groups), key=sorted))}
    code = np.array([codes[g] for g in groups], dtype=np.int64)
    empty = np.array([not g for g in groups], dtype=bool)
    return ~empty[i] & ~empty[j] & (code[i] != code[j])


# Two spellings of one group, for groups_apart only (group_conflict reads the words as written): 家长 are the
# 学生家长, 在校生 are 学生, 农户 are 农民, 社会 and 公众 the 群众 (学生家长满意度 / 家长满意度, 群众满意度 / 社会公众满意度
# are one measure each: fresh7 labels the second a duplicate).
GROUP_ALIASES = {"学生家长": "家长", "在校生": "学生", "农户": "农民", "社会": "群众", "公众": "群众"}


def groups_apart(stems: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Both names name groups of people and no group in common (患者满意度 / 学校满意度), a group read
    as GROUP_ALIASES: not the same group in another word, not one group among others (学生对学校…满意度 /
    学生满意度). A bit per group word: one pass over the distinct stems, then two masks per pair."""
    bit = {g: np.uint64(1 << k) for k, g in enumerate(sorted({GROUP_ALIASES.get(w, w) for w in GROUP_WORDS}))}
    masks = np.zeros(len(stems), dtype=np.uint64)
    for n, stem in enumerate(stems):
        for word in _GROUPS.findall(str(stem)):
            masks[n] |= bit[GROUP_ALIASES.get(word, word)]
    a, b = masks[i], masks[j]
    return (a != 0) & (b != 0) & ((a & b) == 0)


def group_words(stem: str) -> str:
    """The groups of people a name names, in its order (学生家长、教师), as the 理由 quotes them; "" for none."""
    return "、".join(dict.fromkeys(_GROUPS.findall(str(stem))))


def _counted(stem: str) -> str:
    """The two characters before a count's ending ("" when the stem is not a count)."""
    found = _COUNT.search(stem)
    return stem[found.start() - 2 : found.start()] if found and found.start() >= 2 else ""


def count_conflict(stems: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Both names count something, and neither's counted thing is in the other name (保障村干部人数 / 保障遗属人数)."""
    things = np.array([_counted(str(s)) for s in stems], dtype=object)
    out = (things[i] != "") & (things[j] != "") & (things[i] != things[j])
    for n in np.flatnonzero(out).tolist():
        a, b = str(stems[i[n]]), str(stems[j[n]])
        out[n] = things[i[n]] not in b and things[j[n]] not in a
    return out


# A rate of change (变动率, 增长率, 节约率, 增幅): against a level rate (结转结余率, 控制率), another kind of quantity.
_CHANGE = re.compile(r"(?:变动|增长|下降|减少|增加|降低|节约|超支|变化)率$|[增降]幅$")


def kind_conflict(stems: np.ndarray, forms: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """The two names measure different kinds of quantity (a rate and a count: 早孕建册率 / 早孕建册数; a time and
    a rate: 完成时限 / 完成及时率), read from the endings of the canonical stems (stems: cost words as 成本,
    so 项目成本 / 成本控制数 is one kind), or the names are one but for 人次 / 人数 (forms: the matching forms,
    whose 人次 the canonical stems write as 人数: 培训人次 / 培训人数 count visits and people), or one is a rate
    of change and the other a level rate (结转结余变动率 / 结转结余率)."""
    table = suffix_table()
    kinds = np.array([table.classify(str(s)) for s in stems], dtype=object)
    out = ~table.compatible_many(kinds[i], kinds[j])
    written = np.array([table.classify(str(f)) for f in forms], dtype=object)
    visits = ((written[i] == "人次") & (written[j] == "人数")) | (
        (written[i] == "人数") & (written[j] == "人次")
    )
    same = pd.factorize(np.asarray(stems, dtype=object))[0]  # equal codes: equal stems
    change = np.array([_CHANGE.search(str(s)) is not None for s in stems], dtype=bool)
    level = (kinds == "率") & ~change
    return out | (visits & (same[i] == same[j])) | (change[i] & level[j]) | (level[i] & change[j])


# What a cost is spent on (the kinds of expense of pair_model.EXPENSE_WORDS and a few more): two costs naming
# different items are two costs (人均培训成本 / 人均会议成本, 场地租赁费 / 设备租赁费).
COST_ITEMS = (
    "运行", "维护", "培训", "会议", "服务", "管理", "办公", "工作", "运维", "维修", "租赁", "物业", "宣传", "印刷",
    "购置", "差旅", "出差", "劳务", "建设", "人工", "生产", "检测", "医疗", "车辆", "设备", "场地",
)  # fmt: skip


def items_apart(stems: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Both names are costs (成本 in the canonical stems: 费, 费用 are written so) and each names an item the
    other does not (人均培训成本 / 人均会议成本); a cost naming no item (项目总成本) is no conflict."""
    bit = {w: np.uint64(1 << k) for k, w in enumerate(COST_ITEMS)}
    masks = np.zeros(len(stems), dtype=np.uint64)
    cost = np.array(["成本" in str(s) for s in stems], dtype=bool)
    for n in np.flatnonzero(cost).tolist():
        for word in COST_ITEMS:
            if word in str(stems[n]):
                masks[n] |= bit[word]
    a, b = masks[i], masks[j]
    return cost[i] & cost[j] & ((a & ~b) != 0) & ((b & ~a) != 0)


# A period inside a name (7月, 第一季度, 上半年, 前三季度): one measure at two checkpoints is two indicators
# (预算执行进度(7月) / 预算执行进度(11月)). Years are left out: a name that carries its year is often the same
# indicator filed again the next year. 0-36月龄 and 6个月 are ages and durations, not periods; a deadline
# (12月底前完成, 10月15日前) is a target written into the name, which two filings of one measure may set apart.
_PERIOD = re.compile(
    r"(?<![\d.\-－~～至])(1[0-2]|[1-9]|十[一二]|[一二三四五六七八九十])月(?!龄|份?底?[以之]?前|\d{1,2}[日号])"
    r"|第?([一二三四1-4])季度|前三季度|([上下])半年"
)
_NUMERAL = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def periods(form: str) -> frozenset[str]:
    """The periods a name names, each as one mark (7月 and 七月 are M7, 第一季度 and 1季度 Q1, 上半年 H上)."""
    out = set()
    for found in _PERIOD.finditer(form):
        month, quarter, half = found.groups()
        if month:
            value = int(month) if month.isdigit() else _chinese_number(month)
            out.add(f"M{value}")
        elif quarter:
            out.add(f"Q{int(quarter) if quarter.isdigit() else _NUMERAL[quarter]}")
        elif half:
            out.add(f"H{half}")
        else:
            out.add("Q1-3")
    return frozenset(out)


def _chinese_number(text: str) -> int:
    """一 … 十二 as a number."""
    if len(text) == 2:
        return 10 + _NUMERAL[text[1]]
    return _NUMERAL[text]


def period_words(form: str) -> str:
    """The periods a name names as written (7月、第一季度), "、"-joined, as the 理由 quotes them; "" for none."""
    return "、".join(dict.fromkeys(found.group() for found in _PERIOD.finditer(form)))


def periods_apart(forms: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Both names name periods and none in common (预算执行进度(7月) / 预算执行进度(11月), 第一季度… / 第二季度…),
    read on the matching forms (the canonical stems drop a trailing bracket, where a month is often written);
    one reading per distinct form."""
    # Only a form holding 月, 季 or 半年 can name a period: the regular expression reads those few.
    texts_ = [str(f) for f in forms]
    named = np.array([("月" in t or "季" in t or "半年" in t) for t in texts_], dtype=bool)
    marks: dict[int, frozenset[str]] = {}
    for n in np.flatnonzero(named).tolist():
        marks[n] = periods(texts_[n])
        named[n] = bool(marks[n])
    out = named[i] & named[j]
    for n in np.flatnonzero(out).tolist():
        out[n] = not (marks[int(i[n])] & marks[int(j[n])])
    return out


def measure_swap(
    stems: np.ndarray, i: np.ndarray, j: np.ndarray, measure_words: tuple[str, ...]
) -> np.ndarray:
    """Each name has a measure word the other lacks: one thing measured two ways (验收合格率 / 设备验收及时率,
    数据备份成功率 / 数据备份完成率). Words of two characters or more, MEASURE_ALIKE's as one; a bit per word."""
    words = [w for w in measure_words if len(w) >= 2]
    kinds = sorted({MEASURE_ALIKE.get(w, w) for w in words})[:64]
    bit = {w: np.uint64(1 << k) for k, w in enumerate(kinds)}
    masks = np.zeros(len(stems), dtype=np.uint64)
    for n, stem in enumerate(stems):
        for word in words:
            if word in str(stem) and MEASURE_ALIKE.get(word, word) in bit:
                masks[n] |= bit[MEASURE_ALIKE.get(word, word)]
    a, b = masks[i], masks[j]
    return ((a & ~b) != 0) & ((b & ~a) != 0)


# Units of one kind of quantity: two units of one family are one measure in another scale (万元 / 元, 公里 / 米);
# of two families, two measures (人 / 个, 人 / 户, % / 人). A unit in no family is its own.
UNIT_FAMILIES = (
    ("money", ("元",)),
    ("share", ("%", "‰", "百分比", "百分点")),
    ("time", ("小时", "工作日", "天", "日", "月", "年", "分钟")),
    ("area", ("平方米", "平米", "亩", "公顷", "平方公里")),
    ("length", ("公里", "千米", "米")),
    ("weight", ("吨", "公斤", "千克", "斤")),
    ("people", ("人数", "人", "名", "位")),
    ("events", ("场次", "次", "场", "期", "批", "起")),
)


def _unit_family(unit: str) -> str:
    """A unit's family: money for any unit holding 元; else the first family one of whose units it is."""
    if "元" in unit:
        return "money"
    for family, units in UNIT_FAMILIES[1:]:
        if unit in units:
            return family
    return unit


def unit_family_conflict(unit_a: np.ndarray, unit_b: np.ndarray) -> np.ndarray:
    """Both units given, of two families (人 / 个, % / 万元): not two scales of one quantity."""
    n = len(unit_a)
    codes, units = pd.factorize(np.concatenate([unit_a, unit_b]).astype(object))
    families = pd.factorize(np.array([_unit_family(str(u)) for u in units], dtype=object))[0]
    fa, fb = families[codes[:n]], families[codes[n:]]
    given = (unit_a != "") & (unit_b != "")
    return given & (fa != fb)


# A money unit per something (元/天, 元/人·月, 万元/个) is a rate or a standard; a plain money unit (万元, 元) a
# total — unless the name itself says per what (每人每年, 人均, 标准, 单价): 场地租赁费 (万元) / 场地租赁费支出标准
# (元/天) are two indicators, 人均补助标准 (元/生) / 配套资金每人每年 (元) one.
_PER_WORDS = re.compile(r"每|均|单价|标准|单位")


def per_unit_apart(
    name_a: np.ndarray, name_b: np.ndarray, unit_a: np.ndarray, unit_b: np.ndarray
) -> np.ndarray:
    """One side's unit is money per something, the other's plain money and its name says per nothing."""
    n = len(unit_a)
    codes, units = pd.factorize(np.concatenate([unit_a, unit_b]).astype(object))
    money = np.array(["元" in str(u) for u in units], dtype=bool)
    per = money & np.array(["/" in str(u) for u in units], dtype=bool)
    plain = money & ~per
    ca, cb = codes[:n], codes[n:]
    out = (per[ca] & plain[cb]) | (plain[ca] & per[cb])
    for k in np.flatnonzero(out).tolist():
        total = name_b[k] if plain[cb[k]] else name_a[k]
        out[k] = _PER_WORDS.search(str(total)) is None
    return out


# A flow against a stock: 新增绿化面积 / 绿化面积, 新增档案整理移库 / 档案整理移库 (no labelled duplicate of the tuning
# sets has 新增 on one side only; 20 non-duplicates do).
def new_apart(stems: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Exactly one name says 新增 (what is added this year), the other names no addition (新建, 增加, 新)."""
    added = np.array(["新增" in str(s) for s in stems], dtype=bool)
    other = np.array([("新" in str(s) or "增加" in str(s)) for s in stems], dtype=bool)
    return (added[i] & ~other[j]) | (added[j] & ~other[i])


# Round 9: what a name counts (a crop, a kind of livestock, a disease) and how it narrows what it counts (in full,
# free, at the first try, to standard, in electronic form). Things: 其中桃树种植面积 / 梨树种植面积, 高血压 / 糖尿病
# 患者规范管理率 (no labelled duplicate of the tuning sets names two with none in common; 14 listed non-duplicates do).
THING_WORDS = (
    "粮食", "蔬菜", "瓜果", "水果", "小麦", "玉米", "水稻", "稻谷", "大豆", "马铃薯", "油菜", "棉花", "茶叶",
    "中药材", "食用菌", "苹果", "核桃", "猕猴桃", "樱桃", "桃", "梨", "葡萄", "柑橘", "花椒", "烟叶",
    "猪", "牛", "羊", "鸡", "鸭", "鹅", "兔",
    "高血压", "糖尿病", "结核", "艾滋病", "精神障碍", "尘肺病", "包虫病", "肿瘤", "癌",
)  # fmt: skip
THING_ALIASES = {"稻谷": "水稻", "水果": "瓜果"}  # one thing in two words
_THINGS = re.compile("|".join(sorted(THING_WORDS, key=lambda w: (-len(w), w))))  # 核桃 before 桃
# Qualifiers that narrow what a rate counts to a part (公共文化场馆免费开放率 / 开放率, 一次性验收合格率 / 验收
# 合格率, 规范管理率 / 健康管理率, 电子健康档案 / 健康档案): by kind, a name's set of kinds against the other's.
# Timeliness (及时, 按时) is not one: two labelled duplicates of the tuning sets say it in other words (按计划,
# 在规定时间), and listed only when likely it cost duplicates (measured, benchmarks/cv_match.py); the measure
# words (measure_word, measure_swap) read it.
QUALIFIERS = (
    ("足额", ("足额",)),
    ("免费", ("免费",)),
    ("一次性", ("一次性",)),
    ("规范", ("规范管理", "规范健康管理", "规范化")),  # 高血压患者规范管理率 / 高血压患者健康管理率
    ("电子", ("电子",)),  # 居民电子健康档案建档率 / 居民健康档案建档率
)

_QUALIFIER_KIND = {w: kind for kind, words in QUALIFIERS for w in words}


def things(text: str) -> frozenset[str]:
    """The crops, livestock and diseases a name names (THING_ALIASES read as one)."""
    return frozenset(THING_ALIASES.get(w, w) for w in _THINGS.findall(text))


def things_apart(stems: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Both names name things (a crop, livestock, a disease) and none in common (桃 / 梨种植面积); a bit per
    thing, one reading per distinct stem."""
    bit = {w: np.uint64(1 << k) for k, w in enumerate(sorted({THING_ALIASES.get(w, w) for w in THING_WORDS}))}
    masks = np.zeros(len(stems), dtype=np.uint64)
    for n, stem in enumerate(stems):
        for word in things(str(stem)):
            masks[n] |= bit[word]
    a, b = masks[i], masks[j]
    return (a != 0) & (b != 0) & ((a & b) == 0)


def qualifiers(text: str) -> tuple[str, ...]:
    """The kinds of qualifier (QUALIFIERS: 足额, 免费, 一次性, 规范, 电子) a name says, in QUALIFIERS' order."""
    return tuple(kind for kind, words in QUALIFIERS if any(w in text for w in words))


def thing_words(text: str) -> str:
    """The things a name names as written (桃、梨), "、"-joined, as the 理由 quotes them; "" for none."""
    return "、".join(dict.fromkeys(_THINGS.findall(text)))


def qualifier_words(text: str) -> dict[str, str]:
    """The qualifiers a name says, by kind, each as first written (规范化 for 规范), as the 理由 quotes them."""
    return named_words(text, tuple(w for _, words in QUALIFIERS for w in words), _QUALIFIER_KIND)


def qualifier_apart(forms: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """The two names do not say the same qualifiers (公共文化场馆免费开放率 / 开放率: one counts what is open for
    free); read on the matching forms, one reading per distinct form."""
    codes = pd.factorize(np.array(["|".join(qualifiers(str(f))) for f in forms], dtype=object))[0]
    return codes[i] != codes[j]


def periods_and_new(
    forms: np.ndarray, stems: np.ndarray, pairs: Any, measure_words: tuple[str, ...] = ()
) -> np.ndarray:
    """periods_apart (on the matching forms), new_apart and things_apart (on the canonical stems),
    qualifier_apart (forms), measure_replaced (stems, measure_words its known words), judged_apart and
    counts_apart (stems) of the pairs (ia, ib: codes into both) as columns: one call in features.py, whose module stays under its
    size bound."""
    i, j = pairs.ia, pairs.ib
    return np.column_stack(
        [
            periods_apart(forms, i, j),
            new_apart(stems, i, j),
            things_apart(stems, i, j),
            qualifier_apart(forms, i, j),
            measure_replaced(stems, i, j, measure_words),
            judged_apart(stems, i, j),
            counts_apart(stems, i, j),
        ]
    )


# For the 理由 only (features.py does not read these): the words behind measure_swap, items_apart and a rate of
# change, read in a text the review has (the differing segments of the two names).
_CHANGE_WORD = re.compile(r"变动|增长|下降|减少|增加|降低|节约|超支|变化|[增降]幅")


def named_words(text: str, words: tuple[str, ...], alike: dict[str, str]) -> dict[str, str]:
    """The words of `words` the text holds, in its order, keyed by the word they stand for (alike: 执行 is
    完成); the first spelling of each kind is kept."""
    found = sorted((text.find(w), -len(w), w) for w in words if w in text)
    out: dict[str, str] = {}
    for _, _, word in found:
        out.setdefault(alike.get(word, word), word)
    return out


def measure_words_reader(measure_words: tuple[str, ...]) -> Callable[[str], dict[str, str]]:
    """A reader of the measure words (two characters or more, as measure_swap reads them) in a text, by kind."""
    return partial(named_words, words=tuple(w for w in measure_words if len(w) >= 2), alike=MEASURE_ALIKE)


def cost_items_named(text: str) -> dict[str, str]:
    """The cost items (COST_ITEMS, as items_apart reads them) in a text."""
    return named_words(text, COST_ITEMS, {})


def change_word(text: str) -> str:
    """The word of a rate of change (变动, 增长 … 增幅) in a text, "" for none."""
    found = _CHANGE_WORD.search(text)
    return found.group() if found else ""
