"""The code location `dagster dev` loads (pyproject [tool.dagster]); settings from the environment.

INDICATORS_REPO: the deployment repo (default: the current folder); INDICATORS_INBOX: the inbox
(default: <repo>/inbox, or `inbox` of indicators.toml); INDICATORS_FINANCE_DEPT: the bureau's code
(default: indicators.toml's finance_dept).
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from pipelines.common.config import load_settings
from pipelines.defs.assets import ASSETS
from pipelines.defs.checks import CHECKS
from pipelines.defs.jobs import annual_rebuild
from pipelines.defs.resources import FinanceBureauResource, InboxResource, LibraryRepoResource
from pipelines.defs.schedules import annual_rebuild_schedule
from pipelines.defs.sensors import inbox_sensor


def make_definitions(
    repo: str | Path,
    inbox: str | Path | None = None,
    finance_dept: str | None = None,
    *,
    in_memory: bool = False,
) -> dg.Definitions:
    """in_memory: hand asset values from step to step in memory (the CLI's single-process run), instead of
    pickling each to DAGSTER_HOME storage, which a province's run would pay for in time and memory.
    `dagster dev` keeps the default filesystem IO manager, so any asset can be re-run on its own."""
    repo = Path(repo).resolve()
    settings = load_settings(repo)
    inbox_path = Path(inbox) if inbox else repo / settings.inbox
    return dg.Definitions(
        assets=ASSETS,
        asset_checks=CHECKS,
        jobs=[annual_rebuild],
        schedules=[annual_rebuild_schedule],
        sensors=[inbox_sensor],
        resources={
            "inbox": InboxResource(path=str(inbox_path.resolve())),
            "library_repo": LibraryRepoResource(path=str(repo)),
            "finance_bureau": FinanceBureauResource(dept_code=finance_dept or ""),
            **({"io_manager": dg.InMemoryIOManager()} if in_memory else {}),
        },
    )


defs = make_definitions(
    os.environ.get("INDICATORS_REPO", "."),
    os.environ.get("INDICATORS_INBOX") or None,
    os.environ.get("INDICATORS_FINANCE_DEPT") or None,
)
