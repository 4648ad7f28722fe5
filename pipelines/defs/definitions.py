"""The code location `dagster dev` loads (pyproject [tool.dagster]); settings from the environment.

INDICATORS_REPO: the deployment repo (default: the current folder); INDICATORS_INBOX: the inbox
(default: <repo>/inbox, or `inbox` of indicators.toml); INDICATORS_FINANCE_DEPT: the bureau's code
(default: indicators.toml's finance_dept). Each is handed to the resources as dg.EnvVar: Dagster reads
its value when a run starts (a changed value needs no reload), and shows the variable, not the value.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path

import dagster as dg

from pipelines.defs.assets import ASSETS
from pipelines.defs.checks import CHECKS
from pipelines.defs.evaluation import (
    EVALUATION_ASSETS,
    EVALUATION_CHECKS,
    evaluation_schedule,
    self_evaluation_job,
)
from pipelines.defs.io_release import ReleasingIOManager
from pipelines.defs.jobs import annual_rebuild
from pipelines.defs.resources import (
    FanoutResource,
    FinanceBureauResource,
    InboxResource,
    LibraryRepoResource,
)
from pipelines.defs.schedules import annual_rebuild_schedule
from pipelines.defs.sensors import inbox_sensor

ENV_REPO, ENV_INBOX, ENV_FINANCE_DEPT = "INDICATORS_REPO", "INDICATORS_INBOX", "INDICATORS_FINANCE_DEPT"
Setting = str | Path | dg.EnvVar


def make_definitions(
    repo: Setting,
    inbox: Setting | None = None,
    finance_dept: str | dg.EnvVar | None = None,
    *,
    in_memory: bool = False,
    shards: int = 1,
    workers: int = 0,
    keep: Collection[str] | None = None,
) -> dg.Definitions:
    """in_memory: hand asset values from step to step in memory (the CLI's in-process run), instead of
    pickling each to DAGSTER_HOME storage, which a province's run would pay for in time and memory.
    `dagster dev` and the multiprocess executor keep the default filesystem IO manager (any asset can be
    re-run on its own; each step's process reads its inputs from there). shards, workers: how the
    per-workbook work is spread (FanoutResource). In memory, each value is let go after its last reader
    in the run (pipelines/defs/io_release.py) but the assets named in `keep` (None: every asset) stay."""
    repo_path = repo if isinstance(repo, dg.EnvVar) else str(Path(repo).resolve())
    inbox_path = inbox if isinstance(inbox, dg.EnvVar) else str(Path(inbox).resolve()) if inbox else ""
    return dg.Definitions(
        assets=[*ASSETS, *EVALUATION_ASSETS],
        asset_checks=[*CHECKS, *EVALUATION_CHECKS],
        jobs=[annual_rebuild, self_evaluation_job],
        schedules=[annual_rebuild_schedule, evaluation_schedule(repo_path)],
        sensors=[inbox_sensor],
        resources={
            "inbox": InboxResource(path=inbox_path, repo=repo_path),
            "library_repo": LibraryRepoResource(path=repo_path),
            "finance_bureau": FinanceBureauResource(dept_code=finance_dept or ""),
            "fanout": FanoutResource(shards=shards, workers=workers),
            **({"io_manager": ReleasingIOManager(keep)} if in_memory else {}),
        },
    )


def _from_environment(name: str, default: str | None) -> dg.EnvVar | str | None:
    """The variable as Dagster config when it is set (Dagster reads its value at each run), else the
    default: Dagster refuses to start a run whose EnvVar is not set at all."""
    return dg.EnvVar(name) if name in os.environ else default


defs = make_definitions(
    _from_environment(ENV_REPO, ".") or ".",
    _from_environment(ENV_INBOX, None),
    _from_environment(ENV_FINANCE_DEPT, None),
)
