"""Inputs shared by the dedupe tests: generated key clusters with ids, and do-not-merge rules that refuse a few of
a candidate list's patterns and one of its pairs (so the refusals fall in several halves or chunks)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from benchmarks.bench_match import generate, key_clusters
from pipelines.dedupe import blocking
from pipelines.dedupe.blocking import BlockingConfig, generate_pairs
from pipelines.dedupe.model import load_model
from pipelines.normalize.canonical import MatchRules, default_rules, load_rules, write_rules_csv
from pipelines.normalize.keys import normalize_rows


def clusters(rows: int = 1500, seed: int = 3) -> pd.DataFrame:
    found = key_clusters(normalize_rows(generate(rows, seed), default_rules()), "key").reset_index(drop=True)
    found["id"] = [f"N{i:07d}" for i in range(len(found))]
    return found


def refusing_rules(tmp_path: Path, candidates: pd.DataFrame) -> MatchRules:
    """do-not-merge rules for four of the list's patterns and its last pair."""
    patterns = candidates["pattern"].drop_duplicates().iloc[[0, 3, 7, -2]].tolist()
    rows = [{"rule_id": f"N2025-{k:04d}", "kind": "pattern", "pattern": p} for k, p in enumerate(patterns)]
    last = candidates.iloc[-1]
    rows.append({"rule_id": "N2025-0099", "kind": "pair", "id_a": last["id_a"], "id_b": last["id_b"]})
    columns = ("rule_id", "kind", "id_a", "name_a", "id_b", "name_b", "pattern", "year", "source", "note")
    write_rules_csv(tmp_path / "do_not_merge.csv", columns, rows, "test")
    return load_rules(tmp_path)


def alternate_rows() -> pd.DataFrame:
    """clusters() as blocking sees it: even rows new, odd rows existing (the similarity-pass split tests)."""
    from pipelines.dedupe.blocking import prepare_rows

    frame = clusters()
    return pd.concat(
        [
            prepare_rows(frame.iloc[::2], "new", default_rules()),
            prepare_rows(frame.iloc[1::2], "existing", default_rules()),
        ],
        ignore_index=True,
    )


def random_pairs(rows: int, pairs: int, same: int, seed: int) -> tuple[Any, Any, np.ndarray, np.ndarray]:
    """The model's words, the RowTable of clusters()' first `rows` rows and `pairs` random row pairs, the first `same`
    of one row twice (one name: no segment) — the pair-feature tests' inputs."""
    from pipelines.dedupe.blocking import prepare_rows
    from pipelines.dedupe.model import load_model
    from pipelines.dedupe.table import RowTable

    words = load_model().words
    prepared = prepare_rows(clusters().iloc[:rows], "new", default_rules())
    table = RowTable.of(prepared, words.near_synonyms)
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, len(prepared), pairs), rng.integers(0, len(prepared), pairs)
    a[:same] = b[:same]
    return words, table, a, b


def record_passes(monkeypatch: Any) -> list[tuple[int, int]]:
    """(process, thread) of every similarity pass blocking runs from now on (the pass-split tests' recorder)."""
    import os
    import threading

    from pipelines.dedupe import blocking

    callers: list[tuple[int, int]] = []
    similar = blocking._similar_pairs

    def counted(*args: Any) -> Any:
        callers.append((os.getpid(), threading.get_ident()))
        return similar(*args)

    monkeypatch.setattr(blocking, "_similar_pairs", counted)
    return callers


def first_pass_in_a_child_same_pairs(monkeypatch: pytest.MonkeyPatch, in_process: Callable[[], None]) -> None:
    """generate_pairs with its first similarity pass in a forked child (as the caller set the gates), then
    in_process() and again with every pass here: the same pairs."""
    rows = alternate_rows()
    words = load_model().words
    pids: list[int] = []
    similar = blocking._similar_pairs

    def counted(*args: object) -> object:
        pids.append(os.getpid())
        return similar(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(blocking, "_similar_pairs", counted)
    split = generate_pairs(rows, BlockingConfig(), words.near_synonyms)
    assert len(pids) == 2  # the first pass ran in the child: its call is not seen here
    in_process()
    pids.clear()
    one = generate_pairs(rows, BlockingConfig(), words.near_synonyms)
    assert len(pids) == 3  # in-process: every pass seen here
    assert len(split) > 300
    pd.testing.assert_frame_equal(split, one, check_exact=True)
