"""Resources: where submissions arrive, the deployment repo, and the finance bureau's code."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd

from pipelines.common.config import Settings, load_settings
from pipelines.validate.runner import submission_files


class UpstreamError(RuntimeError):
    """A county repo's pulled city release is missing or not the one indicators.toml asks for."""


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


def upstream_release(repo: LibraryRepoResource) -> tuple[pd.DataFrame | None, str]:
    """A county repo (indicators.toml names an upstream): the pulled city release's indicators and tag."""
    from pipelines.county.pull import upstream_indicators, upstream_state

    settings = repo.settings()
    if not settings.upstream:
        return None, ""
    into = repo.root / settings.upstream_dir
    state = upstream_state(into) or {}
    tag = str(state.get("tag", ""))
    if settings.upstream_ref and tag != settings.upstream_ref:
        raise UpstreamError(
            f"indicators.toml 要求上级版本 {settings.upstream_ref}，本地副本是 {tag or '（无）'}：请先运行 indicators pull {settings.upstream} --ref {settings.upstream_ref} --into {into}"
        )
    return upstream_indicators(into), tag
