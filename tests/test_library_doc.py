"""docs/LIBRARY.md is generated from the library's pandera models and must match them."""

from __future__ import annotations

from pathlib import Path

from schemas.library import TITLES_ZH, IndicatorTable, UsageTable
from schemas.library_doc import library_markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "LIBRARY.md"


def test_library_doc_is_generated_from_the_models() -> None:
    assert DOC.read_text(encoding="utf-8") == library_markdown(), (
        "run: python -m schemas.library_doc > docs/LIBRARY.md"
    )


def test_every_published_column_is_documented_with_its_chinese_title() -> None:
    text = library_markdown()
    for model in (IndicatorTable, UsageTable):
        for column in model.to_schema().columns:
            assert f"| `{column}` | {TITLES_ZH[column]} |" in text
