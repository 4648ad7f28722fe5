"""The 理由 of a candidate pair in words a finance clerk reads: what differs, what agrees, what to check.

Written for all listed pairs at once (hundreds of thousands in a province): each clause is a column of
texts, "" where it does not apply, and the clauses are joined column by column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import repeat

import numpy as np

from pipelines.dedupe.counted import counts_said
from pipelines.dedupe.features import COLUMN
from pipelines.dedupe.measured import judged, replaced_measure
from pipelines.dedupe.model import load_model
from pipelines.dedupe.objects import (
    LIKELY_ONLY_CONFLICTS,
    change_word,
    cost_items_named,
    measure_words_reader,
    period_words,
    qualifier_words,
    thing_words,
)
from pipelines.dedupe.patterns import EMPTY, SAME_NAME
from pipelines.normalize.suffixes import suffix_table

_SEP = "；"
GROUP_CONFLICT = "对象不同：两个名称所指的人群或机构不同，多为不同的指标"
COUNT_CONFLICT = "计数对象不同：两个名称统计的不是同一种事物，多为不同的指标"
# Round 7's conflicts (objects.py), said in general where the differing words cannot be quoted.
KIND_CONFLICT = "计量类型不同：两个名称计量的不是同一类量（如比率与数量、时间与比率），多为不同的指标"
MEASURE_SWAP = "衡量内容不同：两个名称各有对方没有的计量方式（如及时、合格），多为不同的指标"
ITEMS_APART = "费用项目不同：两项费用用于不同的事项，多为不同的指标"
PERIODS_APART = "期间不同：两个名称所指的月份、季度或半年不同，多为不同的指标"
NEW_APART = "增量与总量不同：一个名称计新增量，另一个计总量，多为不同的指标"
# Round 9's conflicts (objects.py), said in general where the forms or stems are not given.
THINGS_APART = "所指事物不同：两个名称所指的作物、畜禽或病种不同，多为不同的指标"
QUALIFIER_APART = "限定条件不同：一个名称限定了足额、免费、一次性、规范或电子等，另一个没有，多为不同的指标"
# Round 10's conflicts (objects.measure_replaced, judged_apart), said in general where the stems are not given.
MEASURE_REPLACED = "衡量方式不同：同一对象的两种计量（如办结率与回访率），多为不同的指标"
JUDGED_APART = (
    "计量类型不同：一个名称为评判或程度（如及时性、完成度），另一个为时间、数量或金额，多为不同的指标"
)
MEASURE_WORD = "差异词说明计量方式或口径（如及时、足额、合格、平均），可能是不同的指标"
# A measure family (schemas/reference/metric_suffixes.csv) in a clerk's word; the others (人数, 人次, 时间 …) as named.
_KIND_WORDS = {"率": "比率", "数": "数量", "量": "数量", "是否": "是否（判断）"}


@dataclass(frozen=True)
class Side:
    """What the reason says about one side of the pairs: object arrays of text, one entry per pair."""

    unit: np.ndarray
    suffix: np.ndarray
    scope: np.ndarray
    level2: np.ndarray
    fclass: np.ndarray
    origin: np.ndarray
    groups: np.ndarray  # the groups of people its name names (objects.group_words), "" for none
    # Its matching form and canonical stem (None: not given): the periods and, where the difference pattern
    # does not show a round-7 conflict's words, the words themselves are read on them.
    form: np.ndarray | None = None
    stem: np.ndarray | None = None


@dataclass(frozen=True)
class Difference:
    """How the two names of each pair differ (patterns.py): the pattern text, the number of differing
    segments, the characters they change, and the first segment's text (what a qualifier adds)."""

    pattern: np.ndarray
    segments: np.ndarray
    changed: np.ndarray
    first: np.ndarray


def _texts(n: int) -> np.ndarray:
    return np.full(n, "", dtype=object)


def _put(out: np.ndarray, cond: np.ndarray, *pieces: str | np.ndarray) -> np.ndarray:
    """Write "".join(pieces) where cond holds; a piece is a string or one text per pair (only the pairs
    written are formatted)."""
    rows = np.flatnonzero(cond)
    if not len(rows):
        return out
    if all(isinstance(p, str) for p in pieces):
        out[rows] = "".join(pieces)  # type: ignore[arg-type]
        return out
    columns = [p[rows] if isinstance(p, np.ndarray) else repeat(p, len(rows)) for p in pieces]
    out[rows] = list(map("".join, zip(*columns, strict=False)))
    return out


def _when(cond: np.ndarray, *pieces: str | np.ndarray) -> np.ndarray:
    """The pieces joined where cond holds, "" elsewhere."""
    return _put(_texts(len(cond)), cond, *pieces)


def _or(values: np.ndarray, fallback: str) -> np.ndarray:
    return np.where(values != "", values, fallback)


def percent(values: np.ndarray) -> np.ndarray:
    """f"{v:.0f}" of each value: rint rounds half to even as Python's formatting does."""
    distinct, inverse = np.unique(np.rint(values), return_inverse=True)
    return np.array([f"{v:.0f}" for v in distinct.tolist()], dtype=object)[inverse.ravel()]


def _joined(parts: list[np.ndarray], sep: str) -> list[str]:
    """Each pair's non-empty parts, in order, joined by sep."""
    return [sep.join(filter(None, row)) for row in zip(*parts, strict=True)]


def _name_part(d: Difference, x: np.ndarray) -> np.ndarray:
    said = np.select(
        [
            d.segments == 0,
            x[:, COLUMN["order_ratio"]] == 1.0,
            x[:, COLUMN["near_synonym"]] != 0,
            (x[:, COLUMN["prefix_added"]] != 0) | (x[:, COLUMN["inner_added"]] != 0),
            d.changed == 1,
        ],
        [0, 1, 2, 3, 4],
        5,
    )
    out = _when(said == 0, "规范化后名称相同")
    _put(out, said == 1, "名称用字相同，仅语序不同：", d.pattern)
    _put(out, said == 2, "名称仅近义词不同：", d.pattern)
    _put(out, said == 3, "名称仅多一个限定词“", d.first, "”：", d.pattern)
    _put(out, said == 4, "名称仅差一字：", d.pattern)
    other = said == 5
    similarity = _texts(len(out))
    similarity[other] = percent(100 * x[other, COLUMN["name_ratio"]])
    return _put(out, other, "名称相似度", similarity, "，差异：", d.pattern)


def _groups(x: np.ndarray, a: Side, b: Side) -> np.ndarray:
    """对象不同, quoting each side's groups where both are read (the feature reads the same stems). It also
    says groups_apart (groups with none in common), which only holds where group_conflict does."""
    conflict = x[:, COLUMN["group_conflict"]] != 0
    named = conflict & (a.groups != "") & (b.groups != "")
    clause = _when(conflict & ~named, GROUP_CONFLICT)
    return _put(clause, named, "对象不同：A为“", a.groups, "”，B为“", b.groups, "”，多为不同的指标")


def _differing(patterns: np.ndarray) -> tuple[list[str], list[str]]:
    """Each pattern's differing text of A and of B (a pattern reads "B's→A's；…"), segments parted by "|" so
    that no word is read across two. The review has no names here, only how they differ."""
    a_text, b_text = [], []
    for pattern in patterns.tolist():
        pieces = [s.split("→", 1) for s in pattern.split(_SEP)] if pattern != SAME_NAME else []
        b_text.append("|".join(p[0] for p in pieces).replace(EMPTY, ""))
        a_text.append("|".join(p[-1] for p in pieces).replace(EMPTY, ""))
    return a_text, b_text


def _apart(a_text: list[str], b_text: list[str], read: Callable[[str], dict[str, str]]) -> list[np.ndarray]:
    """The words (read: text -> {kind: word}) of each side's differing text that the other's lacks, "、"-joined."""
    out = [_texts(len(a_text)), _texts(len(a_text))]
    for k, (ta, tb) in enumerate(zip(a_text, b_text, strict=True)):
        wa, wb = read(ta), read(tb)
        out[0][k] = "、".join(w for kind, w in wa.items() if kind not in wb)
        out[1][k] = "、".join(w for kind, w in wb.items() if kind not in wa)
    return out


def _kinds(sa: np.ndarray, sb: np.ndarray, a_text: list[str], b_text: list[str]) -> list[np.ndarray]:
    """Each side's kind of quantity where the suffix table tells the two apart (比率 / 数量, 人次 / 人数), or a
    rate of change against a rate (变化率 / 比率, its change word in the differing text); "" where not read."""
    wa = np.array([_KIND_WORDS.get(s, s) for s in sa.tolist()], dtype=object)
    wb = np.array([_KIND_WORDS.get(s, s) for s in sb.tolist()], dtype=object)
    alike = suffix_table().compatible_many(sa, sb)
    wa[alike], wb[alike] = "", ""
    for k in np.flatnonzero(alike).tolist():
        ca, cb = change_word(a_text[k]), change_word(b_text[k])
        if ca and not cb and sb[k] == "率":
            wa[k], wb[k] = "变化率", "比率"
        elif cb and not ca and sa[k] == "率":
            wa[k], wb[k] = "比率", "变化率"
    return [wa, wb]


# Round 7's clauses: (feature, general clause, the frame around A's and B's words).
_ROUND7 = (
    ("measure_swap", MEASURE_SWAP, ("衡量内容不同：A含“", "”，B含“", "”，多为不同的指标")),
    ("kind_conflict", KIND_CONFLICT, ("计量类型不同：A为", "，B为", "，多为不同的指标")),
    ("items_apart", ITEMS_APART, ("费用项目不同：A为“", "”，B为“", "”，多为不同的指标")),
)


def _round7(d: Difference, x: np.ndarray, a: Side, b: Side) -> list[np.ndarray]:
    """衡量内容不同 / 计量类型不同 / 费用项目不同 (measure_swap, kind_conflict, items_apart), quoting what each
    side has where its differing text shows both sides' words, the general clause where not. Each clause
    reads only its conflict's pairs (a province lists hundreds of thousands, a few with a conflict)."""
    out = [_texts(len(x)) for _ in _ROUND7]
    for clause, (feature, general, frame) in zip(out, _ROUND7, strict=True):
        rows = np.flatnonzero(x[:, COLUMN[feature]] != 0)
        if not len(rows):
            continue
        a_text, b_text = _differing(d.pattern[rows])
        if feature == "kind_conflict":
            wa, wb = _kinds(a.suffix[rows], b.suffix[rows], a_text, b_text)
        else:
            read = (
                measure_words_reader(load_model().words.measure_words)
                if feature == "measure_swap"
                else cost_items_named
            )
            wa, wb = _apart(a_text, b_text, read)
        named = (wa != "") & (wb != "") & (wa != wb)
        clause[rows[~named]] = general
        clause[rows[named]] = [
            f"{frame[0]}{p}{frame[1]}{q}{frame[2]}" for p, q in zip(wa[named], wb[named], strict=True)
        ]
        if feature != "kind_conflict":
            _on_stems(clause, rows[~named], a, b, read, frame)
    return out


def _on_stems(
    clause: np.ndarray,
    rows: np.ndarray,
    a: Side,
    b: Side,
    read: Callable[[str], dict[str, str]],
    frame: tuple[str, str, str],
) -> None:
    """Where the difference pattern (the names as written) does not show the words, a near-synonym rewrite
    made them (使用率 is read as 执行率): quote them from the canonical stems, saying so."""
    if a.stem is None or b.stem is None or not len(rows):
        return
    wa, wb = _apart(list(a.stem[rows]), list(b.stem[rows]), read)
    named = (wa != "") & (wb != "") & (wa != wb)
    head = frame[0].replace("：", "（按近义词归一后）：", 1)
    clause[rows[named]] = [
        f"{head}{p}{frame[1]}{q}{frame[2]}" for p, q in zip(wa[named], wb[named], strict=True)
    ]


def _warnings(d: Difference, x: np.ndarray, a: Side, b: Side) -> list[np.ndarray]:
    both = x[:, COLUMN["def_both"]] != 0
    similarity = _texts(len(both))
    similarity[both] = percent(100 * x[both, COLUMN["def_sim"]])
    definition = _when(both, "指标解释相似度", similarity)
    definition[~both] = "指标解释缺失，无法比较"
    swap, kind, items = _round7(d, x, a, b)
    # One clause per difference: a measure swap's clause names the measure words the general one only hints at,
    # and a rate of change's 计量类型不同 its change word (变动率 / 率).
    general = (x[:, COLUMN["measure_word"]] != 0) & (d.segments > 0) & (x[:, COLUMN["measure_swap"]] == 0)
    quoted = np.flatnonzero(general & (x[:, COLUMN["kind_conflict"]] != 0))
    general[quoted] = ["变化率" not in k for k in kind[quoted].tolist()]
    return [
        _put(swap, general, MEASURE_WORD),
        _round10(_contrast(x, a, b), x, a, b),
        _numbers(x, a, b),
        # objects.py: the pair model scores these pairs lower; the clerk reads why.
        _groups(x, a, b),
        counts_said(_counted(x, kind, items), x, COLUMN["counts_apart"], a.stem, b.stem),
        definition,
    ]


def _contrast(x: np.ndarray, a: Side, b: Side) -> np.ndarray:
    """The known contrasts' clause; for an addition against a stock (new_apart) without one, 增量与总量不同
    naming the side that says 新增 (read on the canonical stems where given)."""
    contrast = x[:, COLUMN["contrast"]] != 0
    out = _when(contrast, "差异词常表示不同的计量内容（如开工/完工、增/减、城市/农村），请核对")
    rows = np.flatnonzero((x[:, COLUMN["new_apart"]] != 0) & ~contrast)
    if not len(rows):
        return _round9(out, x, a, b)
    out[rows] = NEW_APART
    if a.stem is not None and b.stem is not None:
        a_new = np.array(["新增" in str(t) for t in a.stem[rows].tolist()], dtype=bool)
        out[rows[a_new]] = "增量与总量不同：A为新增量（含“新增”），B为总量，多为不同的指标"
        out[rows[~a_new]] = "增量与总量不同：A为总量，B为新增量（含“新增”），多为不同的指标"
    return _round9(out, x, a, b)


def _round9(out: np.ndarray, x: np.ndarray, a: Side, b: Side) -> np.ndarray:
    """所指事物不同 (things_apart, read on the canonical stems as the feature is) and 限定条件不同
    (qualifier_apart, on the matching forms), each quoting both sides where given, joined to the contrast
    column's text of the few pairs that have one (the join of every pair's clauses reads no more columns)."""
    things = x[:, COLUMN["things_apart"]] != 0
    qualified = x[:, COLUMN["qualifier_apart"]] != 0
    for k in np.flatnonzero(things | qualified).tolist():
        said = [str(out[k])] if out[k] else []
        if things[k]:
            ta = thing_words(str(a.stem[k])) if a.stem is not None else ""
            tb = thing_words(str(b.stem[k])) if b.stem is not None else ""
            said.append(f"所指事物不同：A为“{ta}”，B为“{tb}”，多为不同的指标" if ta and tb else THINGS_APART)
        if qualified[k]:
            said.append(_qualifier_clause(a, b, k))
        out[k] = _SEP.join(said)
    return out


def _round10(out: np.ndarray, x: np.ndarray, a: Side, b: Side) -> np.ndarray:
    """衡量方式不同 (measure_replaced), each side's measure word and ending as read on the canonical stems (saying
    so where a near-synonym made a word: 运转率 is read as 运行率), and 计量类型不同 (judged_apart), joined to the
    contrast column's text as round 9's clauses are."""
    replaced = x[:, COLUMN["measure_replaced"]] != 0
    apart = x[:, COLUMN["judged_apart"]] != 0
    for k in np.flatnonzero(apart).tolist():
        out[k] = _SEP.join(filter(None, (str(out[k]), _judged_clause(a, b, k))))
    rows = np.flatnonzero(replaced)
    if not len(rows):
        return out
    known = frozenset(load_model().words.measure_words)
    for k in rows.tolist():
        said = [str(out[k])] if out[k] else []
        wa, wb = (
            ("", "")
            if a.stem is None or b.stem is None
            else replaced_measure(str(a.stem[k]), str(b.stem[k]), known)
        )
        if not wa:
            said.append(MEASURE_REPLACED)
        else:
            as_written = a.form is None or b.form is None or (wa in str(a.form[k]) and wb in str(b.form[k]))
            head = "衡量方式不同" if as_written else "衡量方式不同（按近义词归一后）"
            said.append(f"{head}：同一对象，A为“{wa}”，B为“{wb}”，多为不同的指标")
        out[k] = _SEP.join(said)
    return out


def _judged_clause(a: Side, b: Side, k: int) -> str:
    """计量类型不同 for judged_apart: A为评判（“及时性”），B为时间 — the judged side's ending as written (else as
    its stem reads it), the other side's kind of quantity (its suffix class in a clerk's word)."""
    if a.stem is None or b.stem is None:
        return JUDGED_APART
    sa, sb = str(a.stem[k]), str(b.stem[k])
    a_judged = judged(sa)
    text, kind = (sa, str(b.suffix[k])) if a_judged else (sb, str(a.suffix[k]))
    form = a.form if a_judged else b.form
    if form is not None and judged(str(form[k])):
        text = str(form[k])  # as written where the name ends so (及时性, not the stem's 按时性)
    said = "程度（“完成度”）" if text.endswith("完成度") else f"评判（“{text[-3:]}”）"
    other = _KIND_WORDS.get(kind, kind) or "数量"
    pa, pb = (said, other) if a_judged else (other, said)
    return f"计量类型不同：A为{pa}，B为{pb}，多为不同的指标"


def _qualifier_clause(a: Side, b: Side, k: int) -> str:
    """限定条件不同 quoting the qualifiers each side has and the other lacks (A含“免费”，B无此限定)."""
    if a.form is None or b.form is None:
        return QUALIFIER_APART
    qa, qb = qualifier_words(str(a.form[k])), qualifier_words(str(b.form[k]))
    wa = "、".join(w for kind, w in qa.items() if kind not in qb)
    wb = "、".join(w for kind, w in qb.items() if kind not in qa)
    if not wa and not wb:
        return QUALIFIER_APART
    pa = f"A含“{wa}”" if wa else "A无此限定"
    pb = f"B含“{wb}”" if wb else "B无此限定"
    return f"限定条件不同：{pa}，{pb}，多为不同的指标"


def _numbers(x: np.ndarray, a: Side, b: Side) -> np.ndarray:
    """期间不同 (periods_apart), quoting each side's periods where the forms are given, else the general clause;
    差异含数字 for the other pairs whose difference holds a number (one clause per difference)."""
    apart = x[:, COLUMN["periods_apart"]] != 0
    out = _when(
        (x[:, COLUMN["number_diff"]] != 0) & ~apart, "差异含数字（期间、序号或数量不同），多为不同指标"
    )
    rows = np.flatnonzero(apart)
    if not len(rows):
        return out
    out[rows] = PERIODS_APART
    if a.form is None or b.form is None:
        return out
    for k in rows.tolist():
        pa, pb = period_words(str(a.form[k])), period_words(str(b.form[k]))
        if pa and pb:
            out[k] = f"期间不同：A为“{pa}”，B为“{pb}”，多为不同的指标"
    return out


def _counted(x: np.ndarray, kind: np.ndarray, items: np.ndarray) -> np.ndarray:
    """计数对象不同, then 计量类型不同 and 费用项目不同 in one column: the few pairs with the last two joined
    here, so the join of every pair's clauses (_joined) reads no more columns than before."""
    out = _when(x[:, COLUMN["count_conflict"]] != 0, COUNT_CONFLICT)
    rows = np.flatnonzero((x[:, COLUMN["kind_conflict"]] != 0) | (x[:, COLUMN["items_apart"]] != 0))
    out[rows] = [_SEP.join(filter(None, t)) for t in zip(out[rows], kind[rows], items[rows], strict=True)]
    return out


def _unit_and_suffix(x: np.ndarray, a: Side, b: Side) -> list[np.ndarray]:
    has_a, has_b = a.unit != "", b.unit != ""
    same = a.unit == b.unit
    unit = _when(has_a & has_b & same, "单位相同（", a.unit, "）")
    # Two units of one family (万元 / 元) are one quantity in two scales; of two families (人 / 个), two quantities.
    family = x[:, COLUMN["unit_family_conflict"]] != 0  # both given, so never same
    one_family = has_a & has_b & ~same & ~family
    _put(unit, one_family, "单位不同：A为“", a.unit, "”，B为“", b.unit, "”，不能自动合并")
    _put(unit, family, "单位类别不同：A为“", a.unit, "”，B为“", b.unit, "”，计量的不是同一种量，不能自动合并")
    # Money per something against a total (per_unit_apart): not two scales of one quantity either.
    per = x[:, COLUMN["per_unit_apart"]] != 0
    a_per = np.array(["/" in u for u in a.unit.tolist()], dtype=bool)
    _put(
        unit,
        per & a_per,
        "单位口径不同：A为“",
        a.unit,
        "”（单价或标准），B为“",
        b.unit,
        "”（总额），多为不同的指标",
    )
    _put(
        unit,
        per & ~a_per,
        "单位口径不同：A为“",
        a.unit,
        "”（总额），B为“",
        b.unit,
        "”（单价或标准），多为不同的指标",
    )
    _put(unit, has_a & ~has_b, "B未填单位")
    _put(unit, ~has_a & has_b, "A未填单位")
    _put(unit, ~has_a & ~has_b, "双方均未填单位")
    alike = (a.suffix != "") & (a.suffix == b.suffix)
    conflict = ~alike & (x[:, COLUMN["suffix_conflict"]] != 0)
    compatible = ~alike & ~conflict & ((a.suffix != "") | (b.suffix != ""))
    suffix = _when(alike, "后缀同为“", a.suffix, "”")
    _put(suffix, conflict, "后缀不同：“", a.suffix, "”与“", b.suffix, "”，多为不同的计量对象")
    _put(suffix, compatible, "后缀相容：“", _or(a.suffix, "未识别"), "”与“", _or(b.suffix, "未识别"), "”")
    # Two kinds of quantity (kind_conflict): its 计量类型不同 clause says what the suffix clause would.
    suffix[x[:, COLUMN["kind_conflict"]] != 0] = ""
    return [unit, suffix]


def _filing(x: np.ndarray, a: Side, b: Side) -> list[np.ndarray]:
    level2 = _when(
        a.level2 != b.level2,
        "二级指标不同：A在“",
        _or(a.level2, "未填"),
        "”，B在“",
        _or(b.level2, "未填"),
        "”",
    )
    differs = a.scope != b.scope
    scope = _when(differs, "范围不同：A为", _or(a.scope, "未填"), "指标，B为", _or(b.scope, "未填"), "指标")
    _put(
        scope,
        ~differs & (x[:, COLUMN["class_diff"]] != 0),
        "功能分类不同（",
        a.fclass,
        "类、",
        b.fclass,
        "类）：若为同一指标，可合并，或设为共性指标供各部门使用",
    )
    return [
        level2,
        scope,
        _when(a.origin == "existing", "A为上一版指标库中的指标"),
        _when(a.scope == "共性", "A为共性指标：若相同，B应作为该共性指标的使用"),
    ]


def reasons(d: Difference, x: np.ndarray, a: Side, b: Side, score: np.ndarray) -> np.ndarray:
    """The 理由 of each pair (x: its features, FEATURES columns; score: 0–100, clipped)."""
    clipped = np.where(np.isnan(score), 100.0, np.clip(score, 0.0, 100.0))  # as max(0, min(100, v))
    parts = [
        _name_part(d, x),
        *_warnings(d, x, a, b),
        *_unit_and_suffix(x, a, b),
        *_filing(x, a, b),
        _when(np.ones(len(clipped), dtype=bool), "估计为同一指标的可能性", percent(clipped), "%"),
    ]
    return np.array(_joined(parts, _SEP), dtype=object)


CONFLICT_FLAGS = ("group_conflict", "count_conflict", "unit_family_conflict", *LIKELY_ONLY_CONFLICTS)


def flags(x: np.ndarray, a: Side, b: Side) -> np.ndarray:
    """The machine-readable flags of each pair, ";"-joined (unit_conflict, level2_diff …)."""
    on = [
        ("unit_conflict", x[:, COLUMN["unit_conflict"]] != 0),
        ("unit_missing", x[:, COLUMN["unit_missing"]] != 0),
        ("number", x[:, COLUMN["number_diff"]] != 0),
        ("suffix_conflict", x[:, COLUMN["suffix_conflict"]] != 0),
        ("contrast", x[:, COLUMN["contrast"]] != 0),
        ("level2_diff", a.level2 != b.level2),
        ("scope_diff", a.scope != b.scope),
        ("class_diff", x[:, COLUMN["class_diff"]] != 0),
        # The conflicts of objects.py, measured.py and counted.py (rounds 5 to 11), each under its feature's name.
        *((name, x[:, COLUMN[name]] != 0) for name in CONFLICT_FLAGS),
    ]
    # A bit per flag and one text per distinct combination (a few dozen among hundreds of thousands of pairs):
    # no Python step per pair.
    bits = np.zeros(len(x), dtype=np.int64)
    for k, (_, cond) in enumerate(on):
        bits |= cond.astype(np.int64) << k
    combos, at = np.unique(bits, return_inverse=True)
    said = [";".join(name for k, (name, _) in enumerate(on) if int(c) >> k & 1) for c in combos.tolist()]
    return np.array(said, dtype=object)[at.ravel()] if len(x) else np.array([], dtype=object)
