"""The code's own checks, run with the tests so CI enforces them: ruff (lint and format) and mypy (the
[tool.mypy] section of pyproject.toml: pipelines/ and schemas/)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_ruff_lint_and_format() -> None:
    lint = _run("ruff", "check", "pipelines", "schemas", "tests", "benchmarks")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = _run("ruff", "format", "--check", "pipelines", "schemas", "tests", "benchmarks")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy() -> None:
    typed = _run("mypy", "--cache-dir", str(ROOT / ".mypy_cache"))
    assert typed.returncode == 0 and "Success" in typed.stdout, typed.stdout + typed.stderr
