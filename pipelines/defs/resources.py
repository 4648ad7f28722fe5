"""Resources: where submissions arrive, the deployment repo, and the finance bureau's code.

Their values are Dagster config: the code location (definitions.py) gives them as dg.EnvVar, which
Dagster reads when a run starts; the CLI gives the command's arguments.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pipelines.common.config import load_settings
from pipelines.intake.inbox import submission_files
from pipelines.rebuild import Deployment


class FanoutResource(dg.ConfigurableResource):
    """How the per-workbook work (pipelines/defs/fanout_ops.py) is spread: `shards` executor steps (1 for
    the in-process executor; one per process, pod or worker for the multiprocess, k8s or celery
    executors), each running its batches on `workers` processes (0: automatic). The results are the same
    whatever the two numbers."""

    shards: int = 1
    workers: int = 0


class InboxResource(dg.ConfigurableResource):
    """The inbox: workbooks of year Y in `<path>/<Y>/`, or directly in `<path>` (the CLI's --submissions).
    Without a path: `<repo>/<inbox of indicators.toml>` (default <repo>/inbox)."""

    path: str = ""
    repo: str = "."

    def folder(self) -> Path:
        return Path(self.path) if self.path else Path(self.repo) / load_settings(Path(self.repo)).inbox

    def folder_for(self, year: int | str) -> Path:
        yearly = self.folder() / str(year)
        return yearly if yearly.is_dir() else self.folder()

    def files_for(self, year: int | str) -> list[Path]:
        folder = self.folder_for(year)
        return submission_files([folder]) if folder.is_dir() else []


class LibraryRepoResource(dg.ConfigurableResource):
    """The bureau's deployment repo: library/, reports/, rules/, indicators.toml; created when missing."""

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path).resolve()

    def deployment(self, finance_dept: str = "") -> Deployment:
        """The repo with its settings read now (indicators.toml may change between runs)."""
        return Deployment.open(self.root, finance_dept or None)


class FinanceBureauResource(dg.ConfigurableResource):
    """The finance bureau's 部门编码: only its workbook may carry 共性指标. Empty: from indicators.toml."""

    dept_code: str = ""
