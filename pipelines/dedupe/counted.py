"""Counts of two things with nothing in common (issue 11, round 11): a conflict read from the canonical stems of
a pair's names, a pair-model feature listed only when likely (objects.LIKELY_ONLY_CONFLICTS; objects.periods_and_new
computes it with the others), and its 理由 clause.

Both names count something by a count's ending (…数量, …人数, …次数, …户数) and the things counted — what stands
before the ending — are each at least THING_MIN characters and share no character: 补贴渔船数量 / 培训学员数量,
基本医疗保险参保人数 / 管理人员数量, 综合宣传次数 / 调度中心接警次数 count two things. A duplicate counts one thing in
two wordings, which keep a character (新车采购数量 / 公务用车购置数量, 派车次数 / 救护车出车次数, 组织 / 开展宣传活动次数).
A thing of two characters is mostly the act, not what is counted (发放人数 / 领取补助人数 is one count, 保障人数 /
发放人数 another pair of acts): such a pair is left to the model (objects.count_conflict, which reads two characters).
"""

from __future__ import annotations

import re

import numpy as np

# A count's ending (the stems write 数量 as 数 and 人次 as 人数); 指数, 系数, 分数 and the like are not counts.
_COUNT = re.compile(r"(?:总?数量|人次数|人数|户数|个数|次数|件数|家数|项数|场次|(?<![指系分倍函参])数)$")
THING_MIN = 3


def counted_thing(stem: str) -> str:
    """What a count counts (the text before its ending), "" when the stem is not a count or the thing is
    shorter than THING_MIN."""
    found = _COUNT.search(stem)
    return stem[: found.start()] if found and found.start() >= THING_MIN else ""


def counts_apart(stems: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Both names count a thing of THING_MIN characters or more and the two things share no character: one
    reading per distinct stem, a set intersection only for pairs of two counts (a few among many)."""
    things = [counted_thing(str(s)) for s in stems]
    counted = np.array([bool(t) for t in things], dtype=bool)
    out = counted[i] & counted[j] & (i != j)
    chars = [frozenset(t) for t in things]
    for n in np.flatnonzero(out).tolist():
        out[n] = chars[int(i[n])].isdisjoint(chars[int(j[n])])
    return out


def counts_said(
    out: np.ndarray, x: np.ndarray, column: int, stem_a: np.ndarray | None, stem_b: np.ndarray | None
) -> np.ndarray:
    """计数对象不同 quoting the two things counted (A计“补贴渔船”，B计“培训学员”) where counts_apart (x's column)
    is on, in place of the general 计数对象不同 clause of count_conflict (out: that column's texts); the general
    words where the stems are not given."""
    rows = np.flatnonzero(x[:, column] != 0)
    for k in rows.tolist():
        ta = counted_thing(str(stem_a[k])) if stem_a is not None else ""
        tb = counted_thing(str(stem_b[k])) if stem_b is not None else ""
        said = (
            f"计数对象不同：A计“{ta}”，B计“{tb}”，两者没有共同的字，多为不同的指标"
            if ta and tb
            else "计数对象不同：两个名称统计的事物没有共同的字，多为不同的指标"
        )
        rest = [p for p in str(out[k]).split("；") if p and not p.startswith("计数对象不同")]
        out[k] = "；".join([said, *rest])
    return out
