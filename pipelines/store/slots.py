"""A year's usages and set-aside files number their wide text columns as the year before's file did.

Every text column is dictionary-encoded (publish.WRITER_OPTIONS) and the writer numbers a column's texts
in the order they first appear, so a text added or gone near the top renumbers most texts below it and
the file's dictionary pages and index runs differ from last year's more than its rows do. Here a year's
file keeps the numbering of the file before it in its chain (a usages part's years; the set-aside years):
a text kept from last year keeps its slot, a new text takes a gone text's slot, else one at the end
(slotted). A gone text's slot that no new text took keeps the text: readers see the same rows, values,
Arrow schema (with_schema) and pandas frame as from the writer's own numbering, while the dictionary page
may hold a few texts no row uses and the column's min/max statistics, taken over the dictionary, are then
looser bounds (Parquet's statistics are bounds). Filling those holes with the last slots' texts instead
(no unused text) saved less: 78 against 92 KiB a release.

The numbering is a function of the tables alone: a chain's files are written year after year from its
first year (the writer's own order), each against the file before it written in the same release, so an
unchanged year's file comes out byte-identical in every release. Ten releases of 100k rows replayed
(`benchmarks.growth_variants --variants numbered`): the repo grows ≈ 92 KiB less a release.

Only text columns: pyarrow's writer keeps the order of a dictionary of texts it is given, and re-encodes
numbers in its own order anyway.
"""

from __future__ import annotations

import base64
import struct

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

# A dictionary whose slots would be mostly of gone texts starts again in first-appearance order (a chain
# whose rows were largely replaced): the stale texts would outweigh what the kept numbering saves.
_MAX_STALE_SHARE = 0.5
_PARQUET_MAGIC = b"PAR1"
_SCHEMA_KEY = b"ARROW:schema"


def slotted(column: pa.Array, before: pa.Array | None) -> pa.DictionaryArray:
    """column dictionary-encoded with `before`'s numbering (None or empty: first-appearance order): a
    text of before keeps its slot, new texts (in the order they first appear) take the slots of gone
    texts in order, then slots at the end; a gone text's slot no new text took keeps its text."""
    if before is None or len(before) == 0:
        return pc.dictionary_encode(column)
    found = pc.index_in(column, value_set=before)  # one hash probe per row
    at = np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    used = np.zeros(len(before), dtype=bool)
    used[at[at >= 0]] = True
    if found.null_count == 0:  # every row a text of last year's (most columns): the slots as they are
        if len(before) - int(used.sum()) > _MAX_STALE_SHARE * len(before):
            return pc.dictionary_encode(column)
        return pa.DictionaryArray.from_arrays(found, before.cast(column.type))
    valid = np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    new_rows = valid & (at < 0)
    fresh = pc.dictionary_encode(column.filter(pa.array(new_rows)))
    new = len(fresh.dictionary)
    new_slot = np.concatenate([np.flatnonzero(~used), np.arange(len(before), len(before) + new)])[:new]
    size = max(len(before), int(new_slot.max(initial=-1)) + 1)
    if size - int(used.sum()) - new > _MAX_STALE_SHARE * size:
        return pc.dictionary_encode(column)
    source = np.arange(size, dtype=np.int64)  # slot -> its text in before + fresh texts
    source[new_slot] = len(before) + np.arange(new)
    at[new_rows] = new_slot[fresh.indices.to_numpy(zero_copy_only=False)]
    indices = pa.array(np.where(valid, at, 0).astype(np.int32), mask=~valid)
    dictionary = pa.concat_arrays([before.cast(column.type), fresh.dictionary]).take(pa.array(source))
    return pa.DictionaryArray.from_arrays(indices, dictionary)


def slotted_table(
    table: pa.Table, before: dict[str, pa.Array], only: tuple[str, ...] | None = None
) -> pa.Table:
    """table with every text column (of `only`, when given) slotted against before's dictionary of it."""
    columns = [
        slotted(table.column(i).combine_chunks(), before.get(name))
        if pa.types.is_string(table.schema.field(i).type) and (only is None or name in only)
        else table.column(i)
        for i, name in enumerate(table.column_names)
    ]
    return pa.Table.from_arrays(columns, names=table.column_names)


def dictionaries(slotted_columns: pa.Table) -> dict[str, pa.Array]:
    """The text dictionaries of a slotted table (what next year's file of the part is numbered against)."""
    return {
        name: column.chunk(0).dictionary
        for name, column in zip(slotted_columns.column_names, slotted_columns.columns, strict=True)
        if pa.types.is_dictionary(column.type) and column.num_chunks == 1
    }


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _schema_text(schema: pa.Schema) -> bytes:
    """The ARROW:schema value pyarrow's writer stores (store_schema=True): the IPC schema, base64."""
    return base64.b64encode(schema.serialize().to_pybytes())


def with_schema(data: bytes, written: pa.Schema, schema: pa.Schema) -> bytes:
    """A Parquet file written from dictionary columns (`written`) with the Arrow schema it stores for
    readers set to `schema` (plain texts), as writing the plain table stores it: readers then read texts,
    not dictionaries (pandas: str, not category). The value is one thrift string of the footer (compact
    protocol: its length as a varint, then its bytes), replaced whole; the footer's length is rewritten.
    The pages, their offsets (all before the footer) and statistics are those the writer wrote."""
    (footer_length,) = struct.unpack("<I", data[-8:-4])
    start = len(data) - 8 - footer_length
    footer = data[start:-8]
    old, new = _schema_text(written), _schema_text(schema)
    old_field, new_field = _varint(len(old)) + old, _varint(len(new)) + new
    if data[-4:] != _PARQUET_MAGIC or footer.count(old_field) != 1 or _SCHEMA_KEY not in footer:
        raise ValueError("Parquet 文件尾部的 Arrow 架构无法唯一定位")
    footer = footer.replace(old_field, new_field)
    return data[:start] + footer + struct.pack("<I", len(footer)) + _PARQUET_MAGIC


def slotted_parquet(
    table: pa.Table, before: dict[str, pa.Array], options: dict, only: tuple[str, ...] | None = None
) -> tuple[bytes, dict[str, pa.Array]]:
    """The file's bytes (table's rows, values and Arrow schema, its texts numbered against `before`)
    and its dictionaries for next year's file of the part."""
    encoded = slotted_table(table, before, only)
    buf = pa.BufferOutputStream()
    pq.write_table(encoded, buf, **options)
    data = with_schema(buf.getvalue().to_pybytes(), encoded.schema, table.schema)
    return data, dictionaries(encoded)


# The columns numbered along a chain: those with hundreds to thousands of texts a file. Replaying the ten
# releases' usages (growth_variants, --prefix library/usages/): these eight 1.04 MiB a release, every text
# column 1.04, the four widest alone 1.08, none 1.12; the narrow columns (under ≈ 100 texts) change their
# numbering seldom and cost the writer a pass each. source_file is left out by design: a workbook's name
# carries its year (185108_市科学技术局_2026.xlsx), so every text is new every year.
NUMBERED: dict[str, tuple[str, ...]] = {
    "usages": (
        "indicator_id",
        "dept_code",
        "dept_name",
        "project",
        "function_code",
        "name",
        "target",
        "definition",
    ),
    "set_aside": ("dept_code", "project", "name", "target"),
}


class Numbering:
    """The bytes of each file of a release, numbered file after file along its chain: a usages part's
    years, the set-aside years (each chain's files come in year order from publish._parts); other
    tables' files as the plain writer writes them."""

    def __init__(self, options: dict) -> None:
        self.options = options
        self.last: dict[str, dict[str, pa.Array]] = {}  # chain -> dictionaries of its last file written

    @staticmethod
    def chain(table_name: str, rel: str) -> str | None:
        """The chain a file is numbered along (None: written plain)."""
        return {"usages": f"usages:{rel.rsplit('/', 1)[-1]}", "set_aside": "set_aside"}.get(table_name)

    def file_bytes(self, table_name: str, rel: str, table: pa.Table) -> bytes:
        chain = self.chain(table_name, rel)
        if chain is None:
            buf = pa.BufferOutputStream()
            pq.write_table(table, buf, **self.options)
            return bytes(buf.getvalue().to_pybytes())
        columns = NUMBERED[table_name]
        data, self.last[chain] = slotted_parquet(table, self.last.get(chain, {}), self.options, columns)
        return data
