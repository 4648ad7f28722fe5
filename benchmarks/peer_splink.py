"""Splink 5 with DuckDB, the record-linkage tool a data team would reach for, against the library's
dedupe: on the labelled pairs and on the distinct indicator records of a corpus (see benchmarks.baselines).
Peers are imported only by the benchmarks, never by the product."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.baselines import (
    SPLINK_AUTO,
    SPLINK_REVIEW,
    _accepted,
    _joint_pairs,
    _pairs,
    _pr,
    _scored_product_dedupe,
    _timed,
)


def _splink_linker(records: pd.DataFrame, comparisons: list, predict_rules: list):
    import logging

    from splink import DuckDBAPI, Linker, SettingsCreator

    for name in ("splink", "duckdb"):
        logging.getLogger(name).setLevel(logging.ERROR)
    db = DuckDBAPI()
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=predict_rules,
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(db.register(records), settings, log_level=logging.ERROR)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    return linker


def splink_pairs_worker() -> dict:
    """Precision / recall on the labelled pairs: the library's key and candidates vs Splink."""
    import warnings

    from benchmarks.eval_match import label_pairs, load_pairs, metrics

    warnings.filterwarnings("ignore")
    pairs = load_pairs()
    label_pairs(pairs.head(5))  # warm the shared caches outside the timing
    labelled, product_s = _timed(lambda: label_pairs(pairs))
    out: dict[str, object] = {"pairs": len(pairs), "positives": int((pairs["label"] == "1").sum())}
    probability, splink_s = _timed(lambda: _pair_probabilities(pairs))
    labelled["splink_auto"] = probability >= SPLINK_AUTO
    labelled["splink_review"] = probability >= SPLINK_REVIEW
    for split in ("all", "holdout"):
        part = labelled if split == "all" else labelled[labelled["split"] == "holdout"]
        out[split] = {
            "pairs": len(part),
            "product_auto": metrics(part, "auto"),
            "product_review": metrics(part, "flagged"),
            "splink_auto": metrics(part, "splink_auto"),
            "splink_review": metrics(part, "splink_review"),
        }
    out.update(product_s=product_s, splink_s=splink_s, ratio_time=splink_s / product_s)
    return out


def _pair_records(pairs: pd.DataFrame) -> tuple[pd.DataFrame, dict[tuple[str, str], int]]:
    """Both sides of every pair as distinct (name, unit) records, the longest definition kept; their ids."""
    from schemas.text import clean_text

    sides = pd.concat(
        [
            pairs[["name_a", "definition_a", "unit_a"]].set_axis(["name", "definition", "unit"], axis=1),
            pairs[["name_b", "definition_b", "unit_b"]].set_axis(["name", "definition", "unit"], axis=1),
        ],
        ignore_index=True,
    )
    sides["_len"] = sides["definition"].str.len()
    records = (
        sides.sort_values(["name", "unit", "_len"], ascending=[True, True, False], kind="stable")
        .drop_duplicates(["name", "unit"])
        .drop(columns="_len")
        .reset_index(drop=True)
    )
    records["unique_id"] = np.arange(len(records))
    ident = {
        (n, u): i for n, u, i in zip(records["name"], records["unit"], records["unique_id"], strict=True)
    }
    for column in ("name", "definition", "unit"):
        records[column] = [clean_text(v) or None for v in records[column]]
    return records, ident


def _pair_probabilities(pairs: pd.DataFrame) -> pd.Series:
    """Splink's match probability of every labelled pair (m from the tune split's positive pairs)."""
    import splink.comparison_library as cl

    records, ident = _pair_records(pairs)
    linker = _splink_linker(
        records,
        [
            cl.JaroWinklerAtThresholds("name", [0.95, 0.9, 0.8, 0.7]),
            cl.JaroWinklerAtThresholds("definition", [0.95, 0.85, 0.7]),
            cl.ExactMatch("unit"),
        ],
        ["1=1"],  # a few hundred records: score every pair
    )
    # m from the tune split's positive pairs — the split the library's thresholds were tuned on —
    # so the holdout split is unseen by both.
    tune = pairs[(pairs["split"] == "tune") & (pairs["label"] == "1")]
    source = "__splink__input_table_0"
    labels = pd.DataFrame(
        {
            "source_dataset_l": source,
            "unique_id_l": [ident[(n, u)] for n, u in zip(tune["name_a"], tune["unit_a"], strict=True)],
            "source_dataset_r": source,
            "unique_id_r": [ident[(n, u)] for n, u in zip(tune["name_b"], tune["unit_b"], strict=True)],
        }
    )
    linker.table_management.register_table(labels, "tune_labels", overwrite=True)
    linker.training.estimate_m_from_pairwise_labels("tune_labels")
    linker.training.estimate_probability_two_random_records_match(
        ["jaro_winkler_similarity(l.name, r.name) >= 0.9"], recall=0.6
    )
    predictions = linker.inference.predict().as_pandas_dataframe()
    prob = {
        frozenset((int(a), int(b))): p
        for a, b, p in zip(
            predictions["unique_id_l"],
            predictions["unique_id_r"],
            predictions["match_probability"],
            strict=True,
        )
    }
    return pd.Series(
        [
            prob.get(frozenset((ident[(na, ua)], ident[(nb, ub)])), 0.0)
            for na, ua, nb, ub in zip(
                pairs["name_a"], pairs["unit_a"], pairs["name_b"], pairs["unit_b"], strict=True
            )
        ],
        index=pairs.index,
    )


def splink_corpus_worker(validated: Path, corpus: Path) -> dict:
    """The distinct indicator records of a corpus deduplicated by the library's key and by Splink."""
    import warnings

    warnings.filterwarnings("ignore")
    rows = _accepted(validated, corpus)
    rows["fclass"] = rows["function_code"].str[:3].where(rows["scope"] == "项目", "")
    fields = ["scope", "level1", "level2", "fclass", "name", "unit"]
    records = (
        rows.groupby(fields, sort=True)
        .agg(
            truth=("truth", lambda s: s.value_counts().index[0]),
            function_code=("function_code", "first"),
            definition=("definition", "first"),
            target_unit=("target_unit", "first"),
            n=("truth", "size"),
        )
        .reset_index()
    )
    records["unique_id"] = np.arange(len(records))
    truth, _ = pd.factorize(records["truth"])
    positives = _pairs(truth)
    codes, product_s, product, product_review = _scored_product_dedupe(records, truth, positives)
    clustered, splink_s = _timed(lambda: _corpus_clusters(records))
    result = {
        "rows": len(rows),
        "records": len(records),
        "true_pairs": positives,
        "product_s": product_s,
        "splink_s": splink_s,
        "ratio_time": splink_s / product_s,
        "product_auto": product,
        "product_review": product_review,
    }
    for label, labels in clustered.items():
        result[f"splink_{label}"] = _pr(_joint_pairs(labels, truth), _pairs(labels), positives)
    return result


def _corpus_clusters(records: pd.DataFrame) -> dict[str, np.ndarray]:
    """Splink's clusters of the records at the automatic and the review threshold (cluster codes)."""
    import splink.comparison_library as cl
    from splink import block_on

    data = records[["unique_id", "scope", "level2", "fclass", "name", "unit"]].copy()
    for column in ("scope", "level2", "fclass", "unit"):
        data[column] = data[column].replace("", None)
    # The library's identity requires scope, 二级指标, 类 and unit to agree: Splink gets the same rule as
    # its blocking rule and compares the names within blocks (JW levels); the four fields enter as
    # exact-match comparisons with m fixed near 1. Without labels for a whole corpus: λ from a
    # near-deterministic rule, the name's m by EM — the usual recipe.
    within = ["scope", "level2", "fclass", "unit"]
    linker = _splink_linker(
        data,
        [
            cl.JaroWinklerAtThresholds("name", [0.95, 0.9, 0.8, 0.7]),
            # the same indicator never differs in these (m fixed, u estimated from random pairs)
            *[cl.ExactMatch(c).configure(m_probabilities=[0.999, 0.001]) for c in within],
        ],
        [block_on(*within)],
    )
    linker.training.estimate_probability_two_random_records_match(
        [
            " and ".join(f"l.{c} = r.{c}" for c in within)
            + " and jaro_winkler_similarity(l.name, r.name) >= 0.9"
        ],
        recall=0.6,
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on(*within), estimate_without_term_frequencies=True
    )
    predictions = linker.inference.predict(threshold_match_probability=SPLINK_REVIEW)
    out = {}
    for label, threshold in (("auto", SPLINK_AUTO), ("review", SPLINK_REVIEW)):
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold
        ).as_pandas_dataframe()
        cluster_of = dict(zip(clusters["unique_id"], clusters["cluster_id"], strict=True))
        labels = [cluster_of.get(i, f"single-{i}") for i in records["unique_id"]]
        out[label] = pd.factorize(pd.Series(labels, dtype=str))[0]
    return out
