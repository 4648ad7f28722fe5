"""One catalogue (issue 11, point 9): the rule registry, the finding codes CSV, the code and the documents agree."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import openpyxl

from pipelines.intake.template import INSTRUCTIONS_SHEET, instruction_blocks, write_template
from pipelines.validate.catalogue import readme_code_table
from pipelines.validate.rules import REGISTRY, declared_codes
from schemas.vocab import reference

ROOT = Path(__file__).resolve().parents[1]
CODE = re.compile(r"^[FRWXIE]\d{3}$")
SELF_EVAL = (
    "E"  # the self-evaluation workbook's codes: raised by pipelines/evaluate/reader.py, no filing rule
)


def _filing(codes: object) -> set[str]:
    return {c for c in codes if not c.startswith(SELF_EVAL)}  # type: ignore[attr-defined]


def _source_codes() -> dict[str, set[tuple[str, str]]]:
    """code → {(module, enclosing function)} for every string literal that is exactly a finding code in
    pipelines/ and schemas/. Decorators count as their function's."""
    found: dict[str, set[tuple[str, str]]] = {}
    files = sorted((ROOT / "pipelines").rglob("*.py")) + sorted((ROOT / "schemas").glob("*.py"))
    for path in files:
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)

        def visit(node: ast.AST, function: str, module: str = module) -> None:
            for child in ast.iter_child_nodes(node):
                inner = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
                if (
                    isinstance(child, ast.Constant)
                    and isinstance(child.value, str)
                    and CODE.match(child.value)
                ):
                    found.setdefault(child.value, set()).add((module, function))
                visit(child, inner)

        visit(ast.parse(path.read_text(encoding="utf-8")), "<module>")
    return found


def test_registry_equals_catalogue() -> None:
    catalogue = reference().findings
    declared = declared_codes()  # also asserts each code is declared by one rule only
    assert set(declared) == _filing(catalogue)
    assert catalogue.keys() - declared.keys() == {c for c in catalogue if c.startswith(SELF_EVAL)} != set()
    for code, rule in declared.items():
        assert catalogue[code].severity == rule.severity, code


def test_every_catalogue_code_is_raised_and_nothing_else_is() -> None:
    raised = _source_codes()
    assert set(raised) == set(reference().findings), (
        f"never raised: {sorted(set(reference().findings) - set(raised))}; "
        f"not in the catalogue: {sorted(set(raised) - set(reference().findings))}"
    )


def test_each_code_is_written_only_where_its_rule_is_declared() -> None:
    """An intake rule's code is written in the function its declaration names (and only in pipelines/intake
    and the declaration);
    a registry rule's codes only in its own module, and — unless pandera raises it under the code's name
    (a cells rule: one code) — in its check function or a private helper of it."""
    declared = declared_codes()
    for code, places in _source_codes().items():
        if code.startswith(SELF_EVAL):  # no filing rule: written in the reader only
            assert {m for m, _ in places} == {"pipelines.evaluate.reader"}, (code, places)
            continue
        rule = declared[code]
        modules = {m for m, _ in places}
        if rule.stage == "intake":
            readers = {m for m in modules if m.startswith("pipelines.intake.")}
            assert modules - readers == {"pipelines.validate.rules.intake"}, (code, places)
            assert tuple(rule.raised_in.split(":")) in places, f"{code} is not written in {rule.raised_in}"
            continue
        module, function = rule.raised_by.split(":")
        assert modules == {module}, (code, places)
        if rule.stage == "cells":
            assert rule.codes == (code,), rule.name
        else:
            # the check itself, or a private helper of its module
            helpers = {f for _, f in places if f.startswith("_") and f != "<module>"}
            assert function in {f for _, f in places} or helpers, f"{code} is not written in {rule.raised_by}"


def test_every_rule_names_a_check_that_exists() -> None:
    for rule in REGISTRY:
        module_name, function = rule.raised_by.split(":")
        assert callable(getattr(importlib.import_module(module_name), function, None)), rule.raised_by
        assert rule.stage == "intake" or rule.check is not None, rule.name


def test_readme_code_table_is_the_catalogue() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_code_table() in readme
    covered: set[str] = set()
    for first, last in re.findall(r"`([FRWXIE]\d{3})`(?:–`([FRWXIE]\d{3})`)?", readme_code_table()):
        end = last or first
        covered |= {f"{first[0]}{n:03d}" for n in range(int(first[1:]), int(end[1:]) + 1)}
    assert covered == set(reference().findings)
    assert {"R114", "W216", "R115", "R116", "W217", "W218", "W219", "I403", "I404", "F012", "E501"} <= covered
    self_eval_row = next(line for line in readme_code_table().splitlines() if "E501" in line)
    assert not re.search(r"`[FRWXI]\d{3}`", self_eval_row)  # the filing codes keep their rows


def test_template_instructions_list_exactly_the_catalogue(tmp_path: Path) -> None:
    rules_block = next(b for b in instruction_blocks() if "审核规则" in b.title)
    assert {row[0] for row in rules_block.rows} == set(declared_codes())
    path = write_template(tmp_path)
    ws = openpyxl.load_workbook(path)[INSTRUCTIONS_SHEET]
    shown = {
        c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str) and CODE.match(c.value)
    }
    assert shown == set(declared_codes())
    assert "F011" not in shown  # nothing inspects macros: the template no longer promises a check


def test_docs_finding_catalogue_is_generated_from_the_registry() -> None:
    from pathlib import Path

    from pipelines.validate.catalogue import findings_markdown

    doc = Path(__file__).resolve().parents[1] / "docs" / "FINDINGS.md"
    assert doc.read_text(encoding="utf-8") == findings_markdown()
