"""Consolidate: accepted rows + the last release → the new release's tables (CONTRACT §3, §5).

The step, in order (consolidate):
  1. the released indicators as records (records.py); a county lays its city's release over them
     (upstream.py);
  2. released indicators that become one: reviewers' 合并 and 设为共性指标 decisions, shared keys, healing
     (merges.py);
  3. which indicator each row is a usage of — most certain first (identity.py, continuity.py), new
     indicators issued for the rest (new_indicators.py);
  4. what the rows do to their indicators: 修改, departments and wordings, 退出, retirement for want of
     use, reactivation (usage.py);
  5. the review list for merge_review.xlsx (review_pairs.py) and the release's tables (tables.py).
The Chinese reasons it records are in reasons.py; the change set against the last release in changes.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd

from pipelines.common import halves
from pipelines.common.frames import combination_codes, release_free_memory
from pipelines.consolidate.changes import ChangeSet, diff_indicators
from pipelines.consolidate.identity import RowIdentity
from pipelines.consolidate.key_index import release_key_index
from pipelines.consolidate.merges import apply_review_decisions, heal_identities
from pipelines.consolidate.new_indicators import IdAllocator, create_new
from pipelines.consolidate.records import Records, empty_indicators, indicator_table, records_of
from pipelines.consolidate.review_pairs import identity_pairs, review_candidates, with_identity_pairs
from pipelines.consolidate.tables import departments_table, set_aside_table, usages_table
from pipelines.consolidate.upstream import Overlay, check_namespace, overlay_report, overlay_upstream
from pipelines.consolidate.usage import apply_changes, apply_usage
from pipelines.dedupe.ordering import sort_order
from pipelines.dedupe.same_table import drop_one_table_pairs, one_table_pairs
from pipelines.normalize.canonical import MatchRules
from pipelines.normalize.keys import NameForms, normalize_rows
from schemas.library import LibraryTables
from schemas.vocab import reference

if TYPE_CHECKING:  # a type only: consolidation runs on any object with these fields
    from pipelines.validate.runner import ValidationResult

# The columns of an accepted row that normalization and consolidation read (the rest stays in validation).
ROW_COLUMNS = (
    "scope", "sheet_kind", "level1", "level2", "name", "definition", "formula", "symbol", "target", "target_value",
    "target_unit", "unit", "nature", "national_standard", "industry_standard", "history_json", "data_source",
    "keywords", "change_type", "change_reason", "library_id", "project", "project_category", "function_code",
    "weight_value", "dept_code", "dept_name", "source_file", "source_sheet", "source_row",
    "name_as_written",  # the wording before template markers were stripped (validation), kept as an alias
    # Carried to the usage as written (schemas/library.py UsageTable, minor 1): nothing a department wrote is
    # dropped. standard_source and indicator_source are also shared fields of a new indicator.
    "standard_source", "indicator_source", "value_basis", "value_method", "scoring_rule", "project_goal",
    "project_nature", "sector", "industry", "fund_use", "strategic_goal", "phased", "extra_json",
)  # fmt: skip
# Drop-down columns a usage keeps as the department wrote them when the list does not know the value (W213):
# validation leaves the canonical value, or "" and the text in <column>_raw.
AS_WRITTEN_WHEN_UNKNOWN = ("value_basis", "value_method", "project_nature")
# Columns normalize_rows adds that consolidation reads, and the provenance columns: an empty year has them.
_EMPTY_YEAR_COLUMNS = {
    "scope", "dept_code", "dept_name", "sheet_kind", "source_file", "source_sheet", "history_json",
    "target_unit", "key", "common_key", "name_norm", "unit_norm", "function_class", "match_name",
    "weight_value", "extra_json",
}  # fmt: skip


def normalize_accepted(rows: pd.DataFrame, rules: MatchRules | None = None) -> pd.DataFrame:
    """The normalize step: the rows bound for the library, cleaned and keyed.

    A year with no accepted row (every workbook unreadable) still has every column consolidation reads.
    """
    keep = [c for c in ROW_COLUMNS if c in rows.columns]  # a narrow copy: a province holds millions
    accepted = rows.loc[rows["outcome"] == "library", keep] if "outcome" in rows else rows.iloc[0:0]
    if accepted.empty:
        columns = {c.column for specs in reference().columns.values() for c in specs} | _EMPTY_YEAR_COLUMNS
        frame = pd.DataFrame({c: pd.Series(dtype=str) for c in sorted(columns)})
        frame["source_row"] = pd.Series(dtype="int64")
        frame["target_value"] = pd.Series(dtype=float)
        return frame
    accepted = accepted.assign(
        **{
            c: _or_written(accepted[c], rows.loc[accepted.index, f"{c}_raw"])
            for c in AS_WRITTEN_WHEN_UNKNOWN
            if c in accepted and f"{c}_raw" in rows
        }
    )
    normalized = normalize_rows(accepted, rules, compact=True)
    release_free_memory()  # the per-value work above leaves freed pages the next step can use
    return normalized


def _or_written(canonical: pd.Series, written: pd.Series) -> pd.Series:
    """The canonical value, or the text as written where there is none (columns may be categorical): chosen
    once per distinct (canonical, written) combination and taken back as text (1M rows: ≈ 1.4 s of per-row
    conversions, a few distinct combinations)."""
    codes, first = combination_codes([canonical, written])
    value = canonical.iloc[first].astype(str).to_numpy(dtype=object)
    raw = written.iloc[first].astype(str).to_numpy(dtype=object)
    distinct = pd.array(np.where(value != "", value, raw), dtype=str)
    return pd.Series(distinct.take(codes), index=canonical.index, dtype=str)


@dataclass
class Consolidation:
    """The consolidate step's result: the new release's tables and what the report and publication need."""

    tables: LibraryTables
    candidates: pd.DataFrame  # likely duplicates for a person to decide (merge_review.xlsx)
    row_ids: pd.Series  # indicator_id of every accepted row, indexed like the validation rows
    year: int = 0
    new_ids: list[str] = field(default_factory=list)
    previous: LibraryTables | None = None  # the release this one was built on
    base_sha: str = ""  # the commit of that release ("" when none): publishing refuses if HEAD moved
    baseline: pd.DataFrame | None = None  # indicators of the last release of an earlier year
    baseline_tag: str = ""
    overlay: Overlay | None = None  # a county library's relation to its upstream (city) release

    def changes(self) -> ChangeSet:
        """What this year changed: against the last release of an earlier year (see PreviousRelease)."""
        return diff_indicators(self.baseline, self.tables.indicators, self.baseline_tag, f"{self.year} 年度")


class ReleaseBase(Protocol):
    """What a year is built on (pipelines.store.release.PreviousRelease is one): the latest release's
    tables and commit, and the indicators and tag of the last release of an earlier year."""

    @property
    def tables(self) -> LibraryTables | None: ...
    @property
    def base_sha(self) -> str: ...
    @property
    def baseline(self) -> pd.DataFrame | None: ...
    @property
    def baseline_tag(self) -> str: ...


def set_aside_departments(validation: ValidationResult) -> list[str]:
    """Departments whose workbook was set aside this year: their indicators are not retired for want of a
    usage they could not submit."""
    return [f.dept_code for f in validation.files if f.set_aside and f.dept_code]


def consolidate_year(
    validation: ValidationResult,
    normalized: pd.DataFrame,
    prior: ReleaseBase,
    *,
    year: int,
    rules: MatchRules,
    namespace: str = "ZB",
    upstream: pd.DataFrame | None = None,
    upstream_tag: str = "",
) -> Consolidation:
    """The consolidate step of a rebuild: the year's validated and normalized rows on the release `prior`
    (and, for a county, its city's release `upstream`). The result carries the base commit and the
    baseline its change set and publication need."""
    result = consolidate(
        validation.rows,
        validation.departments,
        year=year,
        previous=prior.tables,
        namespace=namespace,
        rules=rules,
        pending_departments=set_aside_departments(validation),
        normalized=normalized,
        upstream=upstream,
        upstream_tag=upstream_tag,
    )
    result.base_sha, result.baseline, result.baseline_tag = prior.base_sha, prior.baseline, prior.baseline_tag
    return result


def consolidate(
    rows: pd.DataFrame,
    departments: pd.DataFrame,
    *,
    year: int,
    previous: LibraryTables | None,
    namespace: str = "ZB",
    rules: MatchRules | None = None,
    pending_departments: Iterable[str] = (),
    normalized: pd.DataFrame | None = None,
    upstream: pd.DataFrame | None = None,
    upstream_tag: str = "",
) -> Consolidation:
    """Build the release for `year`. `pending_departments`: departments whose workbook was set aside
    this year — their indicators are not auto-retired for want of a usage they could not submit.
    `upstream`: a county's pulled city release (its indicators); see pipelines/consolidate/upstream.py."""
    prev = previous.indicators.copy() if previous is not None else empty_indicators()
    inherited = pd.DataFrame(columns=["indicator_id", "name", "field", "old", "new"])
    if upstream is not None:
        check_namespace(upstream, namespace)
        prev, inherited = overlay_upstream(prev, upstream)
    norm = normalized if normalized is not None else normalize_accepted(rows, rules)
    norm = norm.assign(indicator_id="")  # our own frame: the asset's input stays as it was

    key_index, merged_into = release_key_index(prev, rules)
    records = records_of(prev)
    apply_review_decisions(records, key_index, merged_into, rules, year)
    heal_identities(records, key_index, merged_into, year)
    history = previous.usages if previous is not None else None
    identity = RowIdentity(norm, records, key_index, merged_into, year, history, rules)
    _identify(identity, norm, records, namespace)
    apply_changes(records, norm, year)
    collapsed = apply_usage(records, norm, year, pending_departments, rules)

    indicators = indicator_table(records)
    new_ids, kept_apart = identity.new_ids, identity.kept_apart
    # The identity's per-row arrays and maps (keys by department, name …) are not read again: freed before
    # the review list, whose pair scoring is the step's peak.
    del records, identity
    # Found before the usage table is built: their working memory and that table's are not needed at once.
    candidates = _review_list(indicators, norm, previous, year, kept_apart, collapsed, rules)
    release_free_memory()  # the pair scoring's pages, for the usage table's text
    tables = LibraryTables(
        indicators=indicators,
        usages=usages_table(norm, year, previous),
        departments=departments_table(departments, year, previous),
        set_aside=set_aside_table(rows, year, previous),
    )
    result = Consolidation(tables, candidates, norm["indicator_id"], year, new_ids, previous)
    if upstream is not None:
        result.overlay = overlay_report(indicators, norm, inherited, upstream_tag)
    return result


def _identify(identity: RowIdentity, norm: pd.DataFrame, records: Records, namespace: str) -> None:
    """Every row's indicator (norm's indicator_id); new indicators created in `records`."""
    identity.promote_common()
    identity.assign()
    identity.follow_usage()
    identity.issue_new(IdAllocator(namespace, records.keys()))
    norm["indicator_id"] = identity.ids
    create_new(records, norm, identity.new_ids, identity.year, identity.new_scope)
    identity.merge_into_common()


def _usage_tables(norm: pd.DataFrame, previous: LibraryTables | None, year: int) -> pd.DataFrame:
    """Which project table each usage comes from, every year so far: a pair inside one table is not listed."""
    cols = ["indicator_id", "year", "dept_code", "scope", "project"]
    usages = norm.assign(year=year)[cols]
    if previous is None or previous.usages.empty:
        return usages
    earlier = previous.usages[previous.usages["year"] != year]  # a rerun replaces its own year
    return pd.concat([earlier[cols], usages], ignore_index=True)


# What the identity pairs' child adds to the process tree: the parent's pages it touches (the indicator and
# row tables it reads, ≈ 0.3 GiB at 1M rows) while the matcher's first steps run beside it.
IDENTITY_PAIRS_CHILD_ADDS_MIB = 400.0


def _review_list(
    indicators: pd.DataFrame,
    norm: pd.DataFrame,
    previous: LibraryTables | None,
    year: int,
    kept_apart: list[tuple[str, str]],
    collapsed: dict[str, list[str]],
    rules: MatchRules | None,
) -> pd.DataFrame:
    """merge_review.xlsx's pairs: indicators first seen this year against all others (the same list on a
    rerun), with the pairs only consolidation sees."""
    new_this_year = indicators.loc[indicators["first_year"] == year, "indicator_id"].tolist()
    # The identity's pairs need none of the matcher's: at a province's size (from halves.SPLIT_MIN
    # indicators) they are found in a forked child while the matcher runs here, its memory counted with
    # this process's (halves.child_beside); a city's in turn (1M rows: 1.4 s, 100k rows: 0.1 s).
    split = halves.child_beside(len(indicators), IDENTITY_PAIRS_CHILD_ADDS_MIB, most=len(indicators))
    mine, found = halves.beside(
        lambda: identity_pairs(indicators, norm, previous, year, kept_apart, collapsed, rules),
        # The indicators' names are mostly the rows' names: their forms looked up, not made again.
        lambda: review_candidates(indicators, new_this_year, rules, ordered=False, known=NameForms.of(norm)),
        split,
    )
    usages = _usage_tables(norm, previous, year)
    if not mine.empty:  # with_identity_pairs sorts the whole list
        return with_identity_pairs(drop_one_table_pairs(found, usages), mine)
    return _sorted_without(found, one_table_pairs(found, usages))


def _sorted_without(found: pd.DataFrame, drop: np.ndarray | None) -> pd.DataFrame:
    """sort_candidates(found) without the `drop` pairs, as drop_one_table_pairs leaves it: the sort's order of
    the whole list, the kept rows taken once (1M rows: 1.4M pairs x 25 columns taken once, not twice)."""
    if found.empty:
        return found
    order = sort_order(found)
    if drop is not None:
        order = order[~drop[order]]
    return found.iloc[order].reset_index(drop=True)
