"""Blocking checks on the release candidate: publishing stops when any fails (CONTRACT §3, §5).

One multi-check runs the rebuild's `check` step (pipelines/store/verify.py: the staged files, not the
in-memory tables, so what is checked is what would be published) and reports each blocking check on its
own; the problems go into the check's metadata so the UI shows which rows or files.
"""

# No `from __future__ import annotations`: Dagster reads the check function's annotations.
import warnings
from collections.abc import Iterator

import dagster as dg

from pipelines import rebuild
from pipelines.defs.assets import release_candidate
from pipelines.defs.partitions import yearly_partitions
from pipelines.store.release import StagedRelease
from pipelines.store.verify import CHECKS as CHECK_DESCRIPTIONS
from pipelines.store.verify import CheckResult

MAX_SHOWN = 50
# Partitioned asset checks are a Dagster "preview" feature; without partitions_def a check would load
# every year's partition (see the issue). The API is pinned with dagster==1.13.27.
warnings.filterwarnings(
    "ignore", message="Specifying a partitions_def on an AssetCheckSpec", category=Warning
)


def _metadata(result: CheckResult) -> dict[str, dg.MetadataValue]:
    rows = {f"rows_{k}": dg.MetadataValue.int(v) for k, v in result.rows.items()}
    return {
        "problems": dg.MetadataValue.json(result.problems[:MAX_SHOWN]),
        "problem_count": dg.MetadataValue.int(len(result.problems)),
        **rows,
    }


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            name,
            asset=release_candidate,
            blocking=True,
            description=description,
            partitions_def=yearly_partitions,
        )
        for name, description in CHECK_DESCRIPTIONS.items()
    ],
    name="release_candidate_checks",
)
def release_candidate_checks(release_candidate: StagedRelease) -> Iterator[dg.AssetCheckResult]:
    for result in rebuild.check(release_candidate):
        yield dg.AssetCheckResult(
            check_name=result.name,
            asset_key=dg.AssetKey("release_candidate"),
            passed=result.passed,
            metadata=_metadata(result),
        )


CHECKS = [release_candidate_checks]
