"""Resources: where submissions arrive, the deployment repo, and the finance bureau's code."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pipelines.config import Settings, load_settings
from pipelines.validate import submission_files


class InboxResource(dg.ConfigurableResource):
    """The inbox: workbooks of year Y in `<path>/<Y>/`, or directly in `<path>` (the CLI's --submissions)."""

    path: str

    def folder_for(self, year: int | str) -> Path:
        yearly = Path(self.path) / str(year)
        return yearly if yearly.is_dir() else Path(self.path)

    def files_for(self, year: int | str) -> list[Path]:
        folder = self.folder_for(year)
        return submission_files([folder]) if folder.is_dir() else []


class LibraryRepoResource(dg.ConfigurableResource):
    """The bureau's deployment repo: library/, reports/, rules/, indicators.toml; created when missing."""

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path).resolve()

    def settings(self) -> Settings:
        return load_settings(self.root)

    @property
    def cache_dir(self) -> Path:
        return self.root / ".indicators-cache" / "parsed"

    @property
    def rules_dir(self) -> Path:
        return self.root / "rules"


class FinanceBureauResource(dg.ConfigurableResource):
    """The finance bureau's 部门编码: only its workbook may carry 共性指标. Empty: from indicators.toml."""

    dept_code: str = ""

    def code(self, repo: LibraryRepoResource) -> str | None:
        return self.dept_code or repo.settings().finance_dept
