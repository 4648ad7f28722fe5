"""The code's own checks, run with the tests so CI enforces them: ruff (lint and format) and mypy (the
[tool.mypy] section of pyproject.toml: pipelines/ and schemas/)."""

from __future__ import annotations

import ast
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


# The code's shape (issue 12; docs/ARCHITECTURE.md): small modules, short functions, schemas/ a leaf, no cycles.
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted([*(ROOT / "pipelines").rglob("*.py"), *(ROOT / "schemas").rglob("*.py")]):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        found[name] = path
    return found


def _imports(tree: ast.AST, modules: dict[str, Path]) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.update(
                c for c in (node.module, *(f"{node.module}.{a.name}" for a in node.names)) if c in modules
            )
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in modules)
    return out


def test_modules_and_functions_stay_small() -> None:
    too_long = []
    for name, path in _modules().items():
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > MAX_MODULE_LINES:
            too_long.append(f"{name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{name}.{node.name}: {length} lines")
    assert not too_long, too_long


def test_schemas_import_nothing_from_pipelines_and_no_module_cycles() -> None:
    modules = _modules()
    graph = {m: _imports(ast.parse(p.read_text(encoding="utf-8")), modules) - {m} for m, p in modules.items()}
    upward = sorted(
        (m, d)
        for m, deps in graph.items()
        if m.startswith("schemas")
        for d in deps
        if d.startswith("pipelines")
    )
    assert not upward, upward
    # a cycle exists iff a depth-first search meets a module still on its own path
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for dep in sorted(graph[module]):
            if state.get(dep) == 1:
                cycles.append([*path[path.index(dep) :], dep])
            elif dep not in state:
                visit(dep, [*path, dep])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, cycles


# The data's journey, upstream first (docs/ARCHITECTURE.md): a package imports only packages before it.
LAYERS = [
    "schemas",
    "common",
    "intake",
    "normalize",
    "validate",
    "dedupe",
    "consolidate",
    "store",
    "evaluate",
    "report",
    "county",
    "demo",
    "fanout",
    "rebuild",
    "defs",
    "cli_evaluate",
    "cli_validate",
    "cli_rebuild",
    "cli",
]


def _package(module: str) -> str:
    parts = module.split(".")
    return "schemas" if parts[0] == "schemas" else (parts[1] if len(parts) > 1 else "pipelines")


def test_packages_import_only_upstream_of_themselves() -> None:
    modules = _modules()
    order = {name: i for i, name in enumerate(LAYERS)}
    wrong = []
    for module, path in modules.items():
        here = _package(module)
        for dep in _imports(ast.parse(path.read_text(encoding="utf-8")), modules):
            there = _package(dep)
            if there in ("pipelines", "textconv") or here in ("pipelines", "textconv") or there == here:
                continue
            if here not in order or there not in order or order[there] > order[here]:
                wrong.append(f"{module} → {dep}")
    assert not wrong, wrong
