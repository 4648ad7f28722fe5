"""xlsx_table's numbering of texts and numbers for merge_review.xlsx: factorize_texts (objects by address,
then by hash, texts of one hash compared) gives pd.factorize's codes and distinct values, whatever objects
hold the texts; _numbers_table writes each shared-string number in decimal as str() does."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.common import xlsx_numbering, xlsx_table


def _objects(values: list[object]) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _expected(values: np.ndarray) -> tuple[list[int], list[object]]:
    """Codes in order of first appearance, by equality (a dict), missing values -1."""
    seen: dict[object, int] = {}
    firsts: list[object] = []
    codes = []
    for value in values.tolist():
        if value is None or value != value:
            codes.append(-1)
            continue
        if value not in seen:
            seen[value] = len(firsts)
            firsts.append(value)
        codes.append(seen[value])
    return codes, firsts


def test_many_texts_numbered_as_pd_factorize() -> None:
    rng = np.random.default_rng(7)
    names = [f"指标{k}（万元）" for k in range(3000)]
    # the same text as one object repeated, and as distinct equal objects (never the same address)
    values = [names[k] if k % 3 else "".join(list(names[k])) for k in rng.integers(0, 3000, 150_000)]
    array = _objects(values)
    codes, distinct = xlsx_numbering.factorize_texts(array)
    expected_codes, expected = pd.factorize(array)
    assert len(array) > xlsx_numbering._KEYS_CHUNK  # the address path, not the small one
    assert codes.tolist() == expected_codes.tolist()
    assert list(distinct) == list(expected)
    first = {value: at for at, value in reversed(list(enumerate(values)))}
    assert all(d is values[first[d]] for d in distinct)  # each distinct text: its first object


def test_missing_and_other_values_left_to_the_object_table() -> None:
    base = [f"名称{k}" for k in range(500)]
    values = [None if k % 97 == 0 else float("nan") if k % 89 == 0 else base[k % 500] for k in range(100_000)]
    values[5] = 3.5
    array = _objects(values)
    codes, distinct = xlsx_numbering.factorize_texts(array)
    expected_codes, expected = _expected(array)
    assert codes.tolist() == expected_codes
    assert list(distinct) == expected


class _SameHash(str):
    """Texts whose hashes all collide: the texts of one hash must be compared, not taken as one."""

    def __hash__(self) -> int:
        return 1


def test_texts_of_one_hash_told_apart() -> None:
    values = [_SameHash(f"理由{k % 40}") for k in range(70_000)]
    array = _objects(values)
    codes, distinct = xlsx_numbering.factorize_texts(array)
    expected_codes, expected = _expected(array)
    assert codes.tolist() == expected_codes
    assert list(distinct) == expected == [f"理由{k}" for k in range(40)]


def test_numbers_written_as_str_writes_them() -> None:
    numbers = np.array([-1, 0, 1, 9, 10, 99, 100, 101, 1000, 123456, 3_063_163, 0, 7], dtype=np.int64)
    table = xlsx_table._numbers_table(b"<v>", numbers, b"</v>", np.arange(len(numbers)))
    written = [row.tobytes().replace(b"\0", b"").decode() for row in table.table]
    assert written == [f"<v>{max(n, 0)}</v>" for n in numbers.tolist()]


def _cell_by_cell(
    columns: list[xlsx_numbering.CodedColumn], spans: list[tuple[int, int]], added: list[str]
) -> tuple[list[str], int]:
    """What xlsxwriter's dict numbers, cell by cell: before each block the texts `added` (a header), then
    its rows left to right; the table and the number of text cells."""
    index: dict[str, int] = {}
    count = 0
    for a, z in spans:
        for text in added:
            index.setdefault(text, len(index))
            count += 1
        for row in range(a, z):
            for column in columns:
                value = column.values[int(column.codes[row])]
                if type(value) is str:
                    index.setdefault(value, len(index))
                    count += 1
    return list(index), count


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_table_is_xlsxwriters_whatever_the_columns(data: st.DataObject) -> None:
    """StringTable (each column's values registered once, cells numbered as integers) gives the table and
    numbers of the cell-by-cell writes: texts equal across columns as one object or two, a column of
    numbers and texts, a values object shared by two columns, blocks of rows, header texts between them."""
    words = st.sampled_from(["甲", "乙", "丙", "a", "b", "", "=x", "甲乙"])
    rows = data.draw(st.integers(1, 40))
    pool = data.draw(st.lists(words, min_size=1, max_size=6))
    columns: list[xlsx_numbering.CodedColumn] = []
    for _ in range(data.draw(st.integers(1, 4))):
        if columns and data.draw(st.booleans()):  # the same values object as an earlier column
            values = columns[-1].values
        else:
            k = data.draw(st.integers(1, len(pool)))
            # "".join: an equal text as a new object; a float among the texts now and then
            values = ["".join(list(w)) if data.draw(st.booleans()) else w for w in pool[:k]]
            if data.draw(st.booleans()):
                values = [*values, 2.5]
        codes = np.array(data.draw(st.lists(st.integers(0, len(values) - 1), min_size=rows, max_size=rows)))
        columns.append(xlsx_numbering.CodedColumn(codes, values, texts=all(type(v) is str for v in values)))
    cuts = sorted(set(data.draw(st.lists(st.integers(1, rows - 1), max_size=3)) if rows > 1 else []))
    spans = list(zip([0, *cuts], [*cuts, rows], strict=True))
    added = data.draw(st.lists(words, max_size=2))
    table = xlsx_numbering.StringTable()
    blocks = []
    for a, z in spans:
        for text in added:
            table.add(text)
        blocks.append(table.number_block(columns, a, z))
    table.finish()
    expected, count = _cell_by_cell(columns, spans, added)
    assert table.texts == expected
    assert table.count == count
    number = {text: k for k, text in enumerate(expected)}
    for block, (a, z) in zip(blocks, spans, strict=True):
        for j, column in enumerate(columns):
            shown = block.numbers[j]
            for row in range(a, z):
                value = column.values[int(column.codes[row])]
                if type(value) is str:
                    assert shown is not None and shown[int(column.codes[row])] == number[value]
    assert all(table.index[t] == number[t] for t in added)
