"""Candidate generation gives the same pairs, scores (bit for bit) and order as the code it replaced.

The fixture tests/data/candidates_frozen.csv.gz holds, per corpus, every listed pair in order: its ids, its
numbers as float.hex (bit-exact), likely, and a digest of its text columns (reason, pattern, flags …). It was
written by the per-pair code before the vectorized features (commit 8090d24) and checked equal to today's on
the generated benchmark corpus at 100k and 1M rows as well. Refreeze only when the meaning of a feature, the
model or the word lists change on purpose:

    .venv/bin/python -m tests.test_candidates_identity --freeze
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks.bench_match import generate, key_clusters
from pipelines.dedupe.candidates import CANDIDATE_COLUMNS, find_candidates
from pipelines.dedupe.features import FEATURES, Sides, pair_features
from pipelines.dedupe.model import load_model
from pipelines.dedupe.scoring import HandScoring
from pipelines.dedupe.vocabulary import distinct_objects, generic_pair
from pipelines.normalize.canonical import default_rules
from pipelines.normalize.keys import normalize_rows
from pipelines.validate.markers import strip_markers

DATA = Path(__file__).parent / "data"
FROZEN = DATA / "candidates_frozen.csv.gz"
NUMBERS = ("score", "name_score", "definition_score", "cosine")
TEXTS = [c for c in CANDIDATE_COLUMNS if c not in (*NUMBERS, "id_a", "id_b", "likely")]


def _names(path: Path) -> pd.DataFrame:
    """A names file as one library year, one indicator per key (as benchmarks/eval_match.py reads it)."""
    names = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows = names.rename(columns={"row_id": "id"})[
        ["id", "scope", "level1", "level2", "name", "definition", "unit", "function_code"]
    ]
    rows = rows.assign(name=[strip_markers(n).name for n in rows["name"]])
    normalized = normalize_rows(rows, default_rules()).sort_values("id", kind="stable")
    return normalized.drop_duplicates("key").reset_index(drop=True)


def _generated(rows: int) -> pd.DataFrame:
    clusters = key_clusters(normalize_rows(generate(rows, 7), default_rules()), "key").reset_index(drop=True)
    clusters["id"] = [f"N{i:07d}" for i in range(len(clusters))]
    return clusters


def _cases() -> dict[str, Callable[[], pd.DataFrame]]:
    """Each corpus once with only new indicators and once with its first half as the last release."""

    def run(frame: Callable[[], pd.DataFrame], split: bool, hand: bool) -> Callable[[], pd.DataFrame]:
        def go() -> pd.DataFrame:
            f = frame()
            new, old = (f.iloc[len(f) // 2 :], f.iloc[: len(f) // 2]) if split else (f, None)
            return find_candidates(new, old, default_rules(), scoring=HandScoring() if hand else None)

        return go

    corpora = {
        "real": lambda: _names(DATA / "real_names.csv"),
        "fresh2": lambda: _names(DATA / "fresh2_names.csv"),
        "generated3000": lambda: _generated(3000),
    }
    return {
        f"{name}/{'split' if split else 'new'}/{'hand' if hand else 'model'}": run(frame, split, hand)
        for name, frame in corpora.items()
        for split in (False, True)
        for hand in (False, True)
    }


def _digest(row: tuple[str, ...]) -> str:
    return hashlib.sha256("\x1f".join(row).encode("utf-8")).hexdigest()[:16]


def fingerprint(candidates: pd.DataFrame) -> pd.DataFrame:
    """The candidates as comparable text: ids, bit-exact numbers, likely, a digest of the text columns."""
    out = pd.DataFrame({"id_a": candidates["id_a"].astype(str), "id_b": candidates["id_b"].astype(str)})
    for column in NUMBERS:
        out[column] = [float(v).hex() for v in candidates[column].to_numpy(dtype=float)]
    out["likely"] = candidates["likely"].map({True: "1", False: "0"})
    texts = candidates[TEXTS].astype(str).itertuples(index=False, name=None)
    out["text"] = [_digest(r) for r in texts]
    return out.reset_index(drop=True)


def freeze() -> None:
    parts = [fingerprint(go()).assign(case=case) for case, go in _cases().items()]
    pd.concat(parts, ignore_index=True).to_csv(FROZEN, index=False, compression="gzip")


@pytest.fixture(scope="module")
def frozen() -> pd.DataFrame:
    return pd.read_csv(FROZEN, dtype=str, keep_default_na=False)


@pytest.mark.parametrize("case", list(_cases()))
def test_candidates_equal_the_frozen_ones(case: str, frozen: pd.DataFrame) -> None:
    expected = frozen[frozen["case"] == case].drop(columns="case").reset_index(drop=True)
    got = fingerprint(_cases()[case]())
    assert len(expected) > 0 or case.endswith("hand")
    assert len(got) == len(expected), case
    for column in expected.columns:
        differ = np.flatnonzero(got[column].to_numpy() != expected[column].to_numpy())
        assert not len(differ), f"{case}: {column} differs first at row {differ[:1]}"


def test_segments_equal_the_cached_reading() -> None:
    from pipelines.dedupe.patterns import diff_spans, spans_of  # noqa: PLC0415 (the freeze runs older code)

    rng = np.random.default_rng(3)
    alphabet = list("培训会议档案整理完成率合格新增满意度人次及时")
    for _ in range(3000):
        a = "".join(rng.choice(alphabet, rng.integers(0, 12)))
        b = "".join(rng.choice(alphabet, rng.integers(0, 12)))
        assert spans_of(b, a) == diff_spans(b, a)
        # Replacing each segment of B by its A text gives A: the segments are the whole difference.
        rebuilt, last = [], 0
        for seg_b, seg_a, start, end in spans_of(b, a):
            assert b[start:end] == seg_b
            rebuilt += [b[last:start], seg_a]
            last = end
        assert "".join(rebuilt) + b[last:] == a


def test_vectorized_name_tests_equal_the_per_pair_ones() -> None:
    from pipelines.dedupe.vocabulary import distinct_objects_many, generic_pairs  # noqa: PLC0415

    words = [
        "服务对象",
        "受益人群",
        "受益人",
        "满意度",
        "满意",
        "率",
        "接种率",
        "儿童",
        "政府",
        "患者",
        "完成率",
        "按时",
    ]
    rng = np.random.default_rng(1)
    stems = np.array(
        sorted({"".join(rng.choice(words, rng.integers(0, 4))) for _ in range(1500)}), dtype=object
    )
    i, j = rng.integers(0, len(stems), 40_000), rng.integers(0, len(stems), 40_000)
    generic = generic_pairs(stems, i, j)
    assert generic.tolist() == [generic_pair(stems[p], stems[q]) for p, q in zip(i, j, strict=True)]
    assert generic.any()
    shared = np.array([len(_common_end(stems[p], stems[q])) for p, q in zip(i, j, strict=True)])
    distinct = distinct_objects_many(stems, i, j, shared)
    assert distinct.tolist() == [distinct_objects(stems[p], stems[q]) for p, q in zip(i, j, strict=True)]
    assert distinct.any()


def _common_end(a: str, b: str) -> str:
    k = 0
    while k < min(len(a), len(b)) and a[-1 - k] == b[-1 - k]:
        k += 1
    return a[len(a) - k :]


def test_features_of_one_pair_do_not_depend_on_the_batch() -> None:
    """Per-name work is shared across a batch: a pair's features are the same alone and among others."""
    names = _names(DATA / "real_names.csv")["match_name"].to_numpy(dtype=object)[:300]
    a, b = names[:-1], names[1:]

    def sides(m: np.ndarray) -> Sides:
        same = np.array(["x"] * len(m), dtype=object)
        return Sides(m, same, same, same, same, same)

    words = load_model().words
    together = pair_features(words, sides(a), sides(b))
    for k in range(0, len(a), 37):
        alone = pair_features(words, sides(a[k : k + 1]), sides(b[k : k + 1]))
        assert alone.tobytes() == together[k : k + 1].tobytes(), dict(zip(FEATURES, alone[0], strict=True))


if __name__ == "__main__" and "--freeze" in sys.argv:
    freeze()
