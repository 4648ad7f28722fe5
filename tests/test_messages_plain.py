"""Messages are for finance officials and clerks: no command names, no zip or parser internals (standards)."""

from __future__ import annotations

import re

from schemas.vocab import reference

JARGON = re.compile(r"indicators |\.xml|zip|calamine|Traceback|Error\b|sharedStrings|python", re.IGNORECASE)


def test_catalogue_texts_name_no_command_and_no_internals() -> None:
    offenders = [
        f"{spec.code}: {text}"
        for spec in reference().findings.values()
        for text in (spec.rule_zh, spec.fix_zh)
        if JARGON.search(text)
    ]
    assert offenders == []
