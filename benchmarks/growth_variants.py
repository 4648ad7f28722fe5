"""What another storage choice would cost in the repo: a growth run's releases replayed into scratch repos.

    python -m benchmarks.growth_variants --repo DIR/growth-100000-0.05 [--variants base,xlsx-stored,...]
        [--prefix library/] [--gc "gc -q"]

benchmarks.git_growth publishes real releases into one repo (slow: every year is rebuilt). To try a storage
choice — Parquet pages without dictionaries, workbooks stored without deflate, another repack — it is
enough to take those releases' files, transform them, and commit them in order into a new repo, packing
after each release as git_growth does: the packed growth per release is then measured for both choices on
the same content, one after the other on the same machine. Variants:

  base           the files as published (the replay's own baseline: it must match git_growth's figures)
  xlsx-stored    every .xlsx rewritten with its parts stored, not deflated (git then deltas and compresses
                 the XML itself)
  review-stored  only review.xlsx stored (its tables carry over from year to year; merge_review's pairs do not)
  pq-plain       Parquet pages without dictionaries (plain values, byte-aligned: deltas see shifted rows)
  pq-dict-low    dictionaries only for text columns with under 256 distinct values
  pq-plain-stable  no dictionaries for the columns an indicator's rows keep from year to year (id, names,
                 project, department, definition): the layout git deltas best file by file, yet git's
                 choice of delta bases (by path name) then pairs a file with another class's of that year
  pq-plain-stable-file  the same and source_file (new texts every year) without a dictionary too
  pq-cdc         pages cut where the content says (pyarrow's content-defined chunking, 8–32 KiB), so a
                 changed row changes its page only
  pq-plain-indicators  indicators/ without dictionaries (rewritten every release under the same name)
  pq-slots       usages/<Y>/ dictionaries in last year's order: a value keeps its index, a vanished
                 value's place goes to the next new one (a year's file then depends on last year's)
  pq-slots-set-aside, pq-slots-indicators, pq-slots-all  the same for set_aside/<Y> (against <Y-1>),
                 indicators/<part> (against last release's file), or all three
  pq-slots-cols:A+B  usages numbered so (store/slots.py) in the columns named only
  numbered       usages and set_aside as publish writes them since store/slots.Numbering
  usages-by-dept usages rows ordered by department, project, indicator instead of indicator first
  xlsx-l9        every .xlsx with its parts deflated at level 9 (xlsxwriter's zip: 6)
  review-l9      only review.xlsx at level 9 (what the report writes since xlsx_zip.redeflated)
  rows-bare      every .xlsx at level 9 and a <row> that follows the row before it without its r="N"
                 (optional in ECMA-376 as a cell's reference is): what that would save, not built
  review-bare    review.xlsx alone so (what the report writes since xlsx_zip.redeflated's bare_rows)
  pq-idblocks-N  usages/ with a row group per block of N consecutive indicator numbers (N = 64, 256, 1024):
                 a changed row changes its group only, but every group has its own dictionaries
  review-inline  review.xlsx with inline texts (no shared-string numbers) and stored parts (_inlined): last
                 year's unchanged rows the same bytes, for git's delta
  merge-inline   merge_review.xlsx so
  page-blocks    library.html written before its documents were cut by id blocks (library_page/blocks.py)
                 and its year documents wrote repeated targets once: rewritten so (the page as now written)

Each release is committed, its pages packed as the product's publish packs them (store/page_pack.py;
`--no-page-pack`: left to gc, as before it), then
`--gc` is how the repo is packed after each release (git_growth: `gc -q`); e.g. `repack -a -d -f -q`
recomputes every delta instead of reusing the last pack's. `--pairwise`: the last release only, each file
committed after its own counterpart of the year before — the layout's cost if git paired files so, which
it need not (see pairwise).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import re
import shutil
import subprocess
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.store.publish import WRITER_OPTIONS

# (path, bytes as published, the previous release's transformed files by path) → bytes to commit
Transform = Callable[[str, bytes, dict[str, bytes]], bytes]


def _git(repo: Path, *args: str) -> bytes:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True).stdout


def _stored(data: bytes) -> bytes:
    """The same zip package with every part stored (ZIP_STORED) and the same names, order and times."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            part = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            target.writestr(part, source.read(info.filename))
    return out.getvalue()


def _level9(data: bytes, rows_bare: bool = False) -> bytes:
    from pipelines.common.xlsx_zip import redeflated

    return redeflated(data, 9, bare_rows=rows_bare)


def _parquet(
    data: bytes, use_dictionary: bool | Callable[[pa.Table], list[str]] = True, **more: object
) -> bytes:
    table = pq.read_table(io.BytesIO(data))
    options = dict(WRITER_OPTIONS, **more)
    options["use_dictionary"] = use_dictionary(table) if callable(use_dictionary) else use_dictionary
    buf = pa.BufferOutputStream()
    pq.write_table(table, buf, **options)
    return bytes(buf.getvalue().to_pybytes())


def _low_cardinality(table: pa.Table) -> list[str]:
    return [
        name
        for name in table.column_names
        if pa.types.is_string(table.schema.field(name).type) and len(pc.unique(table.column(name))) < 256
    ]


_SI = re.compile(rb"<si>(.*?)</si>", re.DOTALL)
_SST_CELL = re.compile(rb'<c((?: [a-z]+="[^"]*")*?) t="s"><v>(\d+)</v></c>')
_SST_LEFT = re.compile(rb'<c [^>]*t="s"')  # "<" in a text is escaped: only a tag matches
_SST_TYPE = re.compile(rb'<Override PartName="/xl/sharedStrings\.xml" ContentType="[^"]*"/>')
_SST_REL = re.compile(rb'<Relationship Id="[^"]*" Type="[^"]*/sharedStrings" Target="sharedStrings\.xml"/>')


def _inlined(data: bytes) -> bytes:
    """The package with every text cell holding its text (t="inlineStr", ECMA-376 18.3.1.4: <is> takes
    the <si> content), no sharedStrings.xml (nor its content type and relationship), every part stored:
    a row unchanged from last year is the same bytes whatever texts came before it. openpyxl (normal and
    read-only) and calamine read the same cells from it (a 2026 review.xlsx: 16 sheets, 25,595 rows)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        texts = _SI.findall(source.read("xl/sharedStrings.xml"))

        def inline(match: re.Match[bytes]) -> bytes:
            return b'<c%s t="inlineStr"><is>%s</is></c>' % (match.group(1), texts[int(match.group(2))])

        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/sharedStrings.xml":
                continue
            if info.filename.startswith("xl/worksheets/sheet"):
                content = _SST_CELL.sub(inline, content)
                assert not _SST_LEFT.search(content), "a shared-string cell in another form"
            content = _SST_REL.sub(b"", _SST_TYPE.sub(b"", content))
            part = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            part.external_attr, part.create_system = info.external_attr, info.create_system
            target.writestr(part, content, zipfile.ZIP_STORED)
    return out.getvalue()


_DATA = re.compile(r'<script type="application/octet-stream" id="([^"]+)">([^<]*)</script>\n')


def _inflated(packed: str) -> object:
    return json.loads(zlib.decompress(base64.b64decode(packed)))


def _repeats_once(years: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Year documents written before a repeated target was [department] alone and ids were runs
    (cards.year_document), rewritten so; documents already so are left as they are."""
    from pipelines.report.library_page.cards import id_runs
    from pipelines.report.library_page.data import safe_json
    from pipelines.report.library_page.page import packed

    out, before = [], {}
    for year, text in years:
        doc: dict = _inflated(text)  # type: ignore[assignment]
        if not all(isinstance(i, str) for i in doc["ids"]):  # ids as runs: written by this code
            return years
        now = {}
        for iid, row in zip(doc["ids"], doc["se"], strict=True):
            for entry in row or []:
                key = (iid, doc["dept"][entry[0]])
                now[key] = entry[1]
                if before.get(key) == entry[1]:
                    del entry[1:]
        before = now
        doc["ids"] = id_runs(doc["ids"])
        out.append((year, packed(safe_json(doc))))
    return out


def _page_blocks(data: bytes) -> bytes:
    """A library.html written before the id-order blocks (one list, text and card document each) with
    its documents cut as the page now embeds them (library_page.blocks), everything else as it was: the
    bytes a release of the same library would now commit. A page already cut is left as it is."""
    from pipelines.report.library_page.page import split_documents

    html = data.decode("utf-8")
    parts = dict(_DATA.findall(html))
    if "lib-text" not in parts:
        return data
    doc = _inflated(parts["lib-list"])
    doc.pop("fold", None)  # type: ignore[union-attr]  # its own element now
    cards = [_inflated(parts[f"lib-card-{k}"]) for k in range(sum(p.startswith("lib-card-") for p in parts))]
    card = {k: [v for c in cards for v in c[k]] for k in cards[0]}  # type: ignore[index, union-attr]
    years = _repeats_once(sorted((int(k[9:]), v) for k, v in parts.items() if k.startswith("lib-year-")))
    page = split_documents(doc, _inflated(parts["lib-text"]), card, years)  # type: ignore[arg-type]
    elements = [("lib-fold", page.fold_json)]
    for prefix, docs in (("lb", page.list_blocks), ("tb", page.text_blocks), ("card", page.card_json)):
        elements += [(f"lib-{prefix}-{k}", d) for k, d in enumerate(docs)]
    elements += [(f"lib-cb-{k}", d) for k, d in enumerate(page.card_blocks)]
    elements += [(f"lib-year-{y}", d) for y, d in page.year_json]
    body = f'<script type="application/json" id="lib-list">{page.list_json}</script>\n'
    body += "".join(f'<script type="application/octet-stream" id="{k}">{v}</script>\n' for k, v in elements)
    first = _DATA.search(html)
    assert first is not None
    rest = _DATA.sub("", html)
    return (rest[: first.start()] + body + rest[first.start() :]).encode("utf-8")


STABLE_USAGE_COLUMNS = (
    "indicator_id",
    "dept_code",
    "dept_name",
    "project",
    "name",
    "definition",
    "function_code",
)


def _plain_stable(table: pa.Table) -> list[str]:
    return [c for c in table.column_names if c not in STABLE_USAGE_COLUMNS]


def _dictionaries(data: bytes) -> dict[str, pa.Array]:
    """Every dictionary-encoded column's dictionary, in the file's order (one row group)."""
    schema = pq.ParquetFile(io.BytesIO(data)).schema_arrow
    names = [
        f.name
        for f in schema
        if pa.types.is_string(f.type)
        or (pa.types.is_dictionary(f.type) and pa.types.is_string(f.type.value_type))
    ]
    table = pq.ParquetFile(io.BytesIO(data), read_dictionary=names).read()
    return {c: table[c].combine_chunks().dictionary for c in names if pa.types.is_dictionary(table[c].type)}


def _slotted(column: pa.Array, before: pa.Array | None) -> pa.Array:
    """column dictionary-encoded with last year's dictionary order (None: first-appearance order)."""
    encoded = pc.dictionary_encode(column)
    if before is None:
        return encoded
    values, slots = encoded.dictionary.to_pylist(), before.to_pylist()
    place = {v: i for i, v in enumerate(slots)}
    present = set(values)
    free = iter([i for i, v in enumerate(slots) if v not in present])
    for v in values:
        if v not in place:
            place[v] = next(free, len(slots))
            if place[v] == len(slots):
                slots.append(v)
            else:
                slots[place[v]] = v
    remap = pa.array([place[v] for v in values], type=pa.int32())
    indices = pc.take(remap, encoded.indices)
    return pa.DictionaryArray.from_arrays(indices, pa.array(slots, type=column.type))


def _slots(path: str, data: bytes, previous: dict[str, bytes]) -> bytes:
    parts = path.split("/")
    if len(parts) != 4 or parts[1] != "usages" or not parts[2].isdigit():
        return data
    return _slotted_file(data, previous.get(f"library/usages/{int(parts[2]) - 1}/{parts[3]}"))


def _built_slots(columns: tuple[str, ...] | None) -> Transform:
    """usages/<Y>/ texts numbered against last year's file of the part (store/slots.py); only `columns`
    (None: every text column)."""

    def transform(path: str, data: bytes, previous: dict[str, bytes]) -> bytes:
        from pipelines.store.slots import slotted_parquet

        parts = path.split("/")
        if len(parts) != 4 or parts[1] != "usages" or not parts[2].isdigit():
            return data
        last = previous.get(f"library/usages/{int(parts[2]) - 1}/{parts[3]}")
        before = _dictionaries(last) if last is not None else {}
        table = pq.read_table(io.BytesIO(data))
        return slotted_parquet(table, before, WRITER_OPTIONS, columns)[0]

    return transform


def _numbered(path: str, data: bytes, previous: dict[str, bytes]) -> bytes:
    """usages/<Y>/<part> and set_aside/<Y> as publish now writes them (store/slots.Numbering): texts
    numbered as last year's file of the chain (taken from the previous release: past years' files do
    not change between the growth run's releases)."""
    from pipelines.store.slots import Numbering

    parts = path.split("/")
    if len(parts) == 4 and parts[1] == "usages" and parts[2].isdigit():
        name, last = "usages", f"library/usages/{int(parts[2]) - 1}/{parts[3]}"
    elif len(parts) == 3 and parts[1] == "set_aside" and parts[2][:4].isdigit():
        name, last = "set_aside", f"library/set_aside/{int(parts[2][:4]) - 1}.parquet"
    else:
        return data
    numbering = Numbering(WRITER_OPTIONS)
    if last in previous:
        numbering.last[numbering.chain(name, path)] = _dictionaries(previous[last])
    return numbering.file_bytes(name, path, pq.read_table(io.BytesIO(data)))


def _slots_set_aside(path: str, data: bytes, previous: dict[str, bytes]) -> bytes:
    parts = path.split("/")
    if len(parts) != 3 or parts[1] != "set_aside" or not parts[2][:4].isdigit():
        return data
    return _slotted_file(data, previous.get(f"library/set_aside/{int(parts[2][:4]) - 1}.parquet"))


def _slots_indicators(path: str, data: bytes, previous: dict[str, bytes]) -> bytes:
    if not path.startswith("library/indicators/"):
        return data
    return _slotted_file(data, previous.get(path))


def _slotted_file(data: bytes, last: bytes | None) -> bytes:
    before = _dictionaries(last) if last is not None else {}
    table = pq.read_table(io.BytesIO(data))
    arrays = [
        _slotted(table[c].combine_chunks(), before.get(c))
        if pa.types.is_string(table[c].type)  # the writer keeps the order of a text dictionary only
        else table[c].combine_chunks()
        for c in table.column_names
    ]
    buf = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_arrays(arrays, names=table.column_names), buf, **WRITER_OPTIONS)
    return bytes(buf.getvalue().to_pybytes())


def _by_dept(data: bytes) -> bytes:
    table = pq.read_table(io.BytesIO(data))
    keys = ("dept_code", "project", "indicator_id", "source_row")
    buf = pa.BufferOutputStream()
    pq.write_table(
        table.take(pc.sort_indices(table, [(k, "ascending") for k in keys])), buf, **WRITER_OPTIONS
    )
    return bytes(buf.getvalue().to_pybytes())


def _id_blocks(data: bytes, ids: int) -> bytes:
    """The same rows (sorted by indicator id, as published) with a row group per block of `ids`
    consecutive indicator numbers: each group its own dictionaries and bit-packed pages, so a row
    added or dropped changes its block's group only."""
    table = pq.read_table(io.BytesIO(data))
    number = pc.cast(pc.utf8_slice_codeunits(table["indicator_id"], 4), pa.int64())
    block = pc.divide(number, ids).to_numpy(zero_copy_only=False)
    cuts = [0] + [i for i in range(1, len(block)) if block[i] != block[i - 1]] + [len(block)]
    buf = pa.BufferOutputStream()
    options = {k: v for k, v in WRITER_OPTIONS.items() if k != "row_group_size"}
    with pq.ParquetWriter(buf, table.schema, **options) as writer:
        for a, z in zip(cuts, cuts[1:], strict=False):
            writer.write_table(table.slice(a, z - a), row_group_size=1 << 22)
    return bytes(buf.getvalue().to_pybytes())


def _usages(path: str) -> bool:
    return path.startswith("library/usages/") and path.endswith(".parquet")


def _blocks_variant(ids: int) -> Transform:
    return lambda path, data, _: _id_blocks(data, ids) if _usages(path) else data


VARIANTS: dict[str, Transform] = {
    "base": lambda path, data, _: data,
    "xlsx-stored": lambda path, data, _: _stored(data) if path.endswith(".xlsx") else data,
    "review-stored": lambda path, data, _: _stored(data) if path.endswith("/review.xlsx") else data,
    "pq-plain": lambda path, data, _: _parquet(data, False) if path.endswith(".parquet") else data,
    "pq-dict-low": lambda path, data, _: (
        _parquet(data, _low_cardinality) if path.endswith(".parquet") else data
    ),
    "pq-plain-stable": lambda path, data, _: _parquet(data, _plain_stable) if _usages(path) else data,
    "pq-plain-stable-file": lambda path, data, _: (
        _parquet(data, lambda t: [c for c in _plain_stable(t) if c != "source_file"])
        if _usages(path)
        else data
    ),
    "pq-cdc": lambda path, data, _: (
        _parquet(data, use_content_defined_chunking={"min_chunk_size": 8192, "max_chunk_size": 32768})
        if path.endswith(".parquet")
        else data
    ),
    "pq-plain-indicators": lambda path, data, _: (
        _parquet(data, False) if path.startswith("library/indicators/") else data
    ),
    "pq-slots": _slots,
    "pq-slots-set-aside": _slots_set_aside,
    "numbered": _numbered,
    "pq-slots-indicators": _slots_indicators,
    "pq-slots-all": lambda path, data, previous: _slots_indicators(
        path, _slots_set_aside(path, _slots(path, data, previous), previous), previous
    ),
    "usages-by-dept": lambda path, data, _: _by_dept(data) if _usages(path) else data,
    "xlsx-l9": lambda path, data, _: _level9(data) if path.endswith(".xlsx") else data,
    "review-l9": lambda path, data, _: _level9(data) if path.endswith("/review.xlsx") else data,
    "rows-bare": lambda path, data, _: _level9(data, rows_bare=True) if path.endswith(".xlsx") else data,
    "review-bare": lambda path, data, _: (
        _level9(data, rows_bare=True) if path.endswith("/review.xlsx") else data
    ),
    "review-inline": lambda path, data, _: _inlined(data) if path.endswith("/review.xlsx") else data,
    **{f"pq-idblocks-{n}": _blocks_variant(n) for n in (64, 256, 1024)},
    "merge-inline": lambda path, data, _: _inlined(data) if path.endswith("/merge_review.xlsx") else data,
    "page-blocks": lambda path, data, _: _page_blocks(data) if path.endswith("/library.html") else data,
}


def replay(
    source: Path,
    transform: Transform,
    prefix: str,
    gc: list[str],
    work: Path,
    rename: Callable[[str], str] = str,
    page_pack: bool = True,
) -> list[int]:
    """Pack size (bytes) after each of source's release tags vYYYY, its files under prefix transformed
    and committed at rename(path) (growth_names: another file name, another year). page_pack: each
    commit followed by the publish's packing of the pages (store/page_pack.py), as the product does;
    False: as releases before it (the pages left to gc)."""
    from pipelines.store.page_pack import store_pages

    tags = sorted(t for t in _git(source, "tag").decode().split() if t[1:].isdigit())
    repo = work / "repo"
    shutil.rmtree(repo, ignore_errors=True)
    repo.mkdir(parents=True)
    _git(repo, "init", "-q")
    sizes = []
    done: dict[tuple[str, str], bytes] = {}  # (path, blob): a file carried over is transformed once
    previous: dict[str, bytes] = {}
    for tag in tags:
        for top in ("library", "reports"):
            shutil.rmtree(repo / top, ignore_errors=True)
        files: dict[str, bytes] = {}
        for line in _git(source, "ls-tree", "-r", tag).decode().splitlines():
            meta, name = line.split("\t", 1)
            if not name.startswith(prefix) or not name.startswith(("library/", "reports/")):
                continue
            key = (name, meta.split()[2])
            if key not in done:
                done[key] = transform(name, _git(source, "cat-file", "blob", key[1]), previous)
            files[name] = done[key]
            target = repo / rename(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(files[name])
        previous = files
        _git(repo, "add", "-A")
        _git(repo, "-c", "user.name=growth", "-c", "user.email=growth@localhost", "commit", "-q", "-m", tag)
        if page_pack:
            store_pages(repo)
        _git(repo, *gc)
        sizes.append(sum(p.stat().st_size for p in (repo / ".git" / "objects" / "pack").glob("*.pack")))
    return sizes


def _pack_after(repo: Path, blobs: list[bytes]) -> int:
    """Pack growth (bytes) of the last blob committed at one path after the ones before it, gc after each."""
    _git(repo.parent, "init", "-q", repo.name)
    sizes = [0]
    for blob in blobs:
        (repo / "f").write_bytes(blob)
        _git(repo, "add", "-A")
        _git(repo, "-c", "user.name=growth", "-c", "user.email=growth@localhost", "commit", "-q", "-m", "r")
        _git(repo, "gc", "-q")
        sizes.append(sum(p.stat().st_size for p in (repo / ".git" / "objects" / "pack").glob("*.pack")))
    shutil.rmtree(repo)
    return sizes[-1] - sizes[-2]


def pairwise(source: Path, transform: Transform, prefix: str, work: Path) -> int:
    """The last release's growth (bytes) if git paired every file with its counterpart: each changed or
    new file committed after last year's file of the same path (usages/<Y>/x after usages/<Y-1>/x) in a
    repo of its own. git does not promise that pairing: it sorts by the last 16 characters of the path,
    then size, and a new file takes the best base in a window of 10 — another class's file of the same
    year when that delta is under half its size (replay shows which it took)."""
    tags = sorted(t for t in _git(source, "tag").decode().split() if t[1:].isdigit())
    trees = [
        dict(reversed(x.split("\t", 1)) for x in _git(source, "ls-tree", "-r", t).decode().splitlines())
        for t in tags[-2:]
    ]
    before, now = ({p: m.split()[2] for p, m in t.items()} for t in trees)
    year, total = tags[-1][1:], 0
    for path, blob in sorted(now.items()):
        if not path.startswith(prefix) or not path.startswith(("library/", "reports/")):
            continue
        old = before.get(path.replace(f"/{year}/", f"/{int(year) - 1}/"), before.get(path))
        if old == blob:
            continue
        blobs = [] if old is None else [transform(path, _git(source, "cat-file", "blob", old), {})]
        blobs.append(transform(path, _git(source, "cat-file", "blob", blob), {}))
        total += _pack_after(work / "pair", blobs)
    return total


def later_growth(sizes: list[int]) -> tuple[list[int], float]:
    """Each later release's packed growth (bytes) and their mean in MiB, from the repo's size after each."""
    later = [b - a for a, b in zip(sizes, sizes[1:], strict=False)]
    return later, (sum(later) / len(later) / 2**20 if later else 0.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="以另一种存储方式重放增长测试的各版本，比较每版仓库增长")
    parser.add_argument("--repo", type=Path, required=True, help="benchmarks.git_growth 生成的仓库")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--prefix", default="", help="只重放此路径下的文件（如 library/）")
    parser.add_argument("--gc", default="gc -q", help="每版之后的打包命令")
    parser.add_argument("--pairwise", action="store_true", help="另算末版各文件与上年同名文件逐对的增长")
    parser.add_argument(
        "--no-page-pack", action="store_true", help="发布后不单独打包 library.html（此前各版本的做法）"
    )
    args = parser.parse_args(argv)
    for name in args.variants.split(","):
        if name.startswith("pq-slots-cols:"):  # e.g. pq-slots-cols:project+name: those columns only
            VARIANTS[name] = _built_slots(tuple(name.split(":", 1)[1].split("+")))
    if args.pairwise:
        print("| variant | prefix | last release KiB, each file after its own counterpart |")
        print("|---|---|---:|")
        for name in args.variants.split(","):
            with tempfile.TemporaryDirectory() as tmp:
                grew = pairwise(args.repo, VARIANTS[name], args.prefix, Path(tmp))
            print(f"| {name} | {args.prefix or 'all'} | {grew // 1024:,} |", flush=True)
        return 0
    print("| variant | prefix | gc | first release KiB | later releases KiB | mean later MiB |")
    print("|---|---|---|---:|---|---:|")
    for name in args.variants.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            sizes = replay(
                args.repo,
                VARIANTS[name],
                args.prefix,
                args.gc.split(),
                Path(tmp),
                page_pack=not args.no_page_pack,
            )
        later, mean = later_growth(sizes)
        print(
            f"| {name} | {args.prefix or 'all'} | `{args.gc}` | {sizes[0] // 1024:,} | "
            f"{' / '.join(f'{g // 1024:,}' for g in later)} | {mean:.2f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
