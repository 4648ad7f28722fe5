"""xlsx_table's numbering of texts and numbers for merge_review.xlsx: factorize_texts (objects by address,
then by hash, texts of one hash compared) gives pd.factorize's codes and distinct values, whatever objects
hold the texts; _numbers_table writes each shared-string number in decimal as str() does."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.common import xlsx_table


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
    codes, distinct = xlsx_table.factorize_texts(array)
    expected_codes, expected = pd.factorize(array)
    assert len(array) > xlsx_table._KEYS_CHUNK  # the address path, not the small one
    assert codes.tolist() == expected_codes.tolist()
    assert list(distinct) == list(expected)
    first = {value: at for at, value in reversed(list(enumerate(values)))}
    assert all(d is values[first[d]] for d in distinct)  # each distinct text: its first object


def test_missing_and_other_values_left_to_the_object_table() -> None:
    base = [f"名称{k}" for k in range(500)]
    values = [None if k % 97 == 0 else float("nan") if k % 89 == 0 else base[k % 500] for k in range(100_000)]
    values[5] = 3.5
    array = _objects(values)
    codes, distinct = xlsx_table.factorize_texts(array)
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
    codes, distinct = xlsx_table.factorize_texts(array)
    expected_codes, expected = _expected(array)
    assert codes.tolist() == expected_codes
    assert list(distinct) == expected == [f"理由{k}" for k in range(40)]


def test_numbers_written_as_str_writes_them() -> None:
    numbers = np.array([-1, 0, 1, 9, 10, 99, 100, 101, 1000, 123456, 3_063_163, 0, 7], dtype=np.int64)
    table = xlsx_table._numbers_table(b"<v>", numbers, b"</v>", np.arange(len(numbers)))
    written = [row.tobytes().replace(b"\0", b"").decode() for row in table.table]
    assert written == [f"<v>{max(n, 0)}</v>" for n in numbers.tolist()]
