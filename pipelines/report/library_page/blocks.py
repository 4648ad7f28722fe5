"""The page's documents cut so that last year's bytes repeat: what an indicator keeps from one release to
the next (its id, name, symbol, texts, standards) in blocks of consecutive ids, the rest in the list's
order.

Why: every release commits a new library.html and git stores it as a delta against last year's page, but
a deflated document is all new bytes once any of its rows changes — and with ≈ 5 % of indicators added,
retired or used by other departments each year, every whole-library document changed, every year. An
indicator keeps its id for ever (rows are never deleted) and new ids come after the old ones, so a block of
ids (same prefix, same thousand: ZB-X012000 … ZB-X012999) holds the same rows with the same texts next
year: deflated on its own, it is the same bytes, and git copies it. Only blocks with a new or edited
indicator are new. What changes for many indicators every year (status, departments, last year of use,
the list's order, label indexes) stays in the page-order documents; `runs` maps the list's rows onto id
order (runs of consecutive id-order places: active indicators first, so few runs).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

BLOCK_IDS = 1000  # ids per block: ≈ 1,000 rows, deflated well enough, and few blocks touched a year
LIST_STABLE = ("id", "name", "sym")  # list columns in id-order blocks (the rest: page order)
CARD_STABLE = ("formula", "nature", "fcode", "nat", "indstd", "ssrc", "isrc", "fy")
_TAIL = re.compile(r"\d+$")


def block_key(indicator_id: str) -> tuple[str, int]:
    """The block of an id: its prefix and its trailing number's thousand (an id without a trailing
    number: the block of the ids around it)."""
    m = _TAIL.search(indicator_id)
    if m is None:
        return ("", -1)
    return (indicator_id[: m.start()], int(m.group()) // BLOCK_IDS)


@dataclass(frozen=True)
class IdOrder:
    order: list[int]  # the page row at each id-order place
    sizes: list[int]  # rows of each block, in id order
    runs: list[int]  # the page's rows as runs of id-order places: start, length, start, length, …


def id_order(ids: Sequence[str]) -> IdOrder:
    """Id order of the page's rows (ties, if any, by page row) and its blocks."""
    order = sorted(range(len(ids)), key=ids.__getitem__)
    place = [0] * len(ids)
    for p, row in enumerate(order):
        place[row] = p
    sizes: list[int] = []
    last: tuple[str, int] | None = None
    for row in order:
        key = block_key(ids[row])
        if key != last:
            sizes.append(0)
            last = key
        sizes[-1] += 1
    runs: list[int] = []
    for p in place:
        if runs and runs[-2] + runs[-1] == p:
            runs[-1] += 1
        else:
            runs += [p, 1]
    return IdOrder(order, sizes or [0], runs)  # no rows: one empty block, so the page knows the columns


def cut_blocks(columns: dict[str, list[object]], ids: IdOrder) -> list[dict[str, list[object]]]:
    """Page-order columns as id-order blocks: block k holds its rows of every column."""
    out = []
    start = 0
    for size in ids.sizes:
        rows = ids.order[start : start + size]
        out.append({k: [values[r] for r in rows] for k, values in columns.items()})
        start += size
    return out
