"""A text's screen width (xlsx_width.display_width, the column widths of every sheet auto_width sizes):
the translate table gives each character's east_asian_width verdict, every code
point, and mixed texts add up as the per-character sum did."""

from __future__ import annotations

import random
import unicodedata

from pipelines.common.xlsx_out import auto_width
from pipelines.common.xlsx_width import display_width


def _by_character(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def test_every_code_point_is_told_as_east_asian_width_tells_it() -> None:
    wrong = [p for p in range(0x110000) if display_width(chr(p)) != _by_character(chr(p))]
    assert wrong == []


def test_mixed_texts_add_up() -> None:
    rng = random.Random(7)
    pools = [(0x20, 0x7E), (0x4E00, 0x9FFF), (0xFF01, 0xFF60), (0x3000, 0x303F), (0x80, 0x2FFFF)]
    for _ in range(5000):
        text = "".join(chr(rng.randint(*rng.choice(pools))) for _ in range(rng.randint(0, 20)))
        assert display_width(text) == _by_character(text), text
    assert display_width("预算 budget ＡＢ") == 4 + 1 + 6 + 1 + 4
    assert auto_width("指标名称", ["项目支出绩效目标完成率", "ab"]) == 2 * 11 + 2
