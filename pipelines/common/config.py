"""The deployment repo's settings: PATH/indicators.toml (CONTRACT §2, §4; county overlay in §5)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

CONFIG_FILE = "indicators.toml"


@dataclass(frozen=True)
class Settings:
    finance_dept: str | None = None  # the bureau's 部门编码: only it may write 共性指标
    id_namespace: str = "ZB"  # prefix of indicator_id: a county uses its own (e.g. "TZ")
    inbox: str = "inbox"  # where submissions arrive, relative to the repo
    upstream: str | None = None  # a county's city repo (path or URL)
    upstream_ref: str | None = None  # the city's release tag the county builds on
    upstream_dir: str = "upstream"  # where `indicators pull` put the city's release (relative to the repo)
    level_name: str = ""  # shown in reports, e.g. "某市财政局"
    # MM-DD of the year after the one evaluated: self-evaluation workbooks are due then; the Dagster schedule
    # scores and publishes the year the morning after (pipelines/defs/evaluation.py)
    self_eval_deadline: str = "03-31"


class ConfigError(ValueError):
    """indicators.toml cannot be read (exit 2, Chinese)."""


def load_settings(repo: Path) -> Settings:
    """Settings from PATH/indicators.toml; defaults when the file is absent. ConfigError when unreadable."""
    path = Path(repo) / CONFIG_FILE
    if not path.is_file():
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"部署配置 {path} 无法读取（应为 UTF-8 编码的 TOML 文件）：{exc}。请改正后重新运行"
        ) from None
    known = {k: v for k, v in data.items() if k in Settings.__dataclass_fields__}
    if "finance_dept" in known and known["finance_dept"] is not None:
        known["finance_dept"] = str(known["finance_dept"])
    return Settings(**known)
