"""Read: a department workbook → rows with provenance. Nothing is evaluated; sizes are bounded first.

The workbook is untrusted. Before any spreadsheet parser sees it, the file is checked as a plain zip:
file size, entry count, and every member stream-decompressed with a running byte count (declared sizes can
lie), so a zip bomb is refused after reading at most the bound. The worksheet XML is scanned on the way for
cell references beyond the row/column bounds and for a range (rows × columns) over the cell budget, because
calamine allocates a dense grid from the largest reference: one cell at XFD1048576 in a 5 KB file would
otherwise abort the whole process, and one at GR199999 would cost gigabytes. The shared-string table's
declared counts are checked against the bytes actually there (calamine reserves memory for uniqueCount
before reading an entry). Whatever a parser still raises on bad bytes is one file error (F001); what
Python cannot catch (a native abort, the OOM killer, a hang) is contained by pipelines.intake.safe_parse.

Then python-calamine reads the matched sheets (cached formula values only, macros ignored) and the grid is
turned into one text row per data row: headers found among the first rows whatever their spelling, merged
cells and "same as above" blanks filled, notes rows set aside with a reason, every value kept as typed.
Nothing is dropped unsaid: an unknown header is an info finding (I403), a field written twice a warning
(W217), and the values of those columns stay with each row in extra_json.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pyarrow as pa
import python_calamine

from pipelines.common.findings import Finding, make_finding
from pipelines.common.hashing import sha256_file
from schemas.text import cell_to_text, clean_text, compact
from schemas.vocab import REFERENCE_DIR, read_reference_csv, reference

HEADER_SCAN_ROWS = 15  # the header row is looked for among the first rows (title rows above it)
CHUNK_BYTES = 1 << 20  # zip members are decompressed in chunks of this size, never whole
RATIO_FLOOR_BYTES = 1 << 20  # tiny members can have a high ratio legitimately; judge ratio above this
PROVENANCE_COLUMNS = ("source_file", "source_sheet", "source_row")
PARSED_COLUMNS = ("target_symbol", "target_value", "target_text", "target_unit", "history_json")
# What the reader read but no field holds: the values of unknown columns and of the second column of a
# field written twice, as a JSON object {header as written: value} per row ("" when there is none). The
# header of a second column with the same text is suffixed with its letter: "备注（H列）".
EXTRA_COLUMN = "extra_json"
# Columns blanks in which mean "same as above" (officials leave them empty under the first row).
PROJECT_LEVEL_COLUMNS = (
    "project_category",
    "function_code",
    "sector",
    "industry",
    "fund_use",
    "project_goal",
    "project_nature",
)


@dataclass
class SheetRows:
    """The data rows of one indicator sheet."""

    kind: str  # "core" | "project" | "common"
    sheet_name: str  # as written in the workbook
    header_row: int  # Excel row number of the header row (0 when the sheet is blank)
    columns: dict[str, str]  # English column → Excel column letter, for the columns present
    unknown_headers: dict[str, str]  # unrecognised header text → column letter (kept, not an error)
    # One row per data row: every English column of columns.csv for this sheet ("" when absent or
    # empty, raw text as the official typed it), the parsed target (target_symbol, target_value,
    # target_text, target_unit), history_json, and provenance: source_file, source_sheet, source_row.
    frame: pd.DataFrame
    skipped_rows: list[tuple[int, str]] = field(default_factory=list)  # (Excel row, why): notes rows
    # A second column whose header maps to an English column already present (e.g. 指标解释 and 指标说明):
    # header text → column letter. Its values fill the first column's blanks and are kept in extra_json.
    duplicate_headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Workbook:
    path: Path
    file: str  # file name shown to officials
    sha256: str
    readable: bool  # False: not an xlsx, or over the bounds (exit 2 class)
    info: dict[str, str] = field(default_factory=dict)  # 部门信息: English key → raw text
    info_cells: dict[str, tuple[int, str]] = field(default_factory=dict)  # key → (Excel row, column letter)
    info_sheet: str = ""  # the 部门信息 sheet's name as written
    sheets: dict[str, SheetRows] = field(default_factory=dict)  # kind → rows
    findings: list[Finding] = field(default_factory=list)  # structural problems found while reading
    # Sheets that also matched a kind already taken (e.g. a copy "项目支出指标 (2)"): name → kind. Not read.
    ignored_sheets: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ParsedTarget:
    symbol: str  # canonical symbol (≥ ≤ = > < 定性) written in the target, "" when none
    value: float | None  # the number, None when the target is not a number (qualitative or garbled)
    unit: str  # unit written after the number (百分比 → %), else the unit hint
    text: str  # the whole target, cleaned (繁→简, half-width), nothing dropped


class _Refused(Exception):
    """The container check failed: the workbook is set aside with this finding."""

    def __init__(self, code: str, detail: str, sheet: str = "") -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.sheet = sheet  # the worksheet at fault, when one is


# --- public entry point ---------------------------------------------------------------------------------


def read_workbook(path: Path) -> Workbook:
    """Read one submission workbook. Problems become findings on the Workbook; nothing is raised for bad
    input (a missing file does raise FileNotFoundError: that is the caller's mistake, not the department's).

    Whatever a parser raises on bad bytes (a zip version zipfile does not know, an XML encoding expat
    refuses, a date calamine cannot convert…) is one file error for this workbook. MemoryError is left to
    the caller (pipelines.intake.safe_parse turns it into F012), as is a native abort, which no Python code here
    can catch: that is why workbooks are parsed in worker processes.
    """
    path = Path(path)
    book = Workbook(path=path, file=path.name, sha256="", readable=False)
    try:
        return _read_workbook(path, book)
    except (FileNotFoundError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - untrusted bytes: any parser failure is this file's error
        return _set_aside(book, "F001", f"工作簿内容无法解析，文件可能已损坏（{_short(exc)}）")


def _read_workbook(path: Path, book: Workbook) -> Workbook:
    limits = reference().limits
    size = path.stat().st_size
    if size > limits["max_file_bytes"]:
        book.findings.append(
            _refusal(book.file, "F002", f"{_limit_note('max_file_bytes')}；本文件 {_human_bytes(size)}")
        )
        return book
    book.sha256 = sha256_file(path)
    try:
        layout = _check_container(path, limits)
    except _Refused as refused:
        book.findings.append(_refusal(book.file, refused.code, refused.detail))
        return book
    try:
        calamine = python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # noqa: BLE001 - calamine raises CalamineError, ValueError, OverflowError…
        book.findings.append(_refusal(book.file, "F001", f"无法解析工作簿结构（{_short(exc)}）"))
        return book
    with calamine:
        try:
            _read_sheets(book, calamine, layout, limits)
        except _Refused as refused:
            return _set_aside(book, refused.code, refused.detail, refused.sheet)
    book.readable = True
    return book


def _set_aside(book: Workbook, code: str, detail: str, sheet: str = "") -> Workbook:
    """Forget whatever was read: the workbook is set aside with this one finding."""
    book.sheets.clear()
    book.info.clear()
    book.info_cells.clear()
    book.readable = False
    book.findings = [_refusal(book.file, code, detail, sheet)]
    return book


# --- target and history parsing -------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[+-]?\.\d+")
# Words written after the number that carry the comparison ("95%以上", "3天以内"); longest first.
_SUFFIX_SYMBOLS = (
    ("及以上", "≥"),
    ("及以下", "≤"),
    ("以上", "≥"),
    ("以下", "≤"),
    ("以内", "≤"),
    ("之内", "≤"),
    ("内", "≤"),
)
# Prefix words officials use that the vocabulary lacks (asked to be added to vocabularies.csv).
_UNIT_ALIASES = {"百分比": "%", "百分率": "%"}
# What cannot be a unit: another comparison, a range, or sentence words ("年底前完成", "95%左右").
_NOT_A_UNIT = re.compile(r"[≥≤<>=,;。]|^[\d.]|[-~～至到—]\d|前|后|底|完成|达到|确保|实现|左右|之间|以前")
_TRAILING_NOTE = re.compile(r"\s*\(([^()]*)\)\s*$")
_HISTORY_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*(?:年度|年)?\s*(?::|(?<=年)|(?<=年度))\s*")
_HISTORY_TRIM = " ;,、。.:"


def parse_target(text: str, unit_hint: str = "") -> ParsedTarget:
    """Split a target cell into symbol, number and unit: "≥95%", "不低于 90 %", "3天以内", "1,000"…

    A trailing parenthetical note ("≥99%（另一处写作≤99%）") is ignored for parsing; qualitative targets
    ("效果明显", "是") keep value None. Symbol words come from the symbol vocabulary.
    """
    return _parse_target(text or "", unit_hint or "")


@lru_cache(maxsize=65536)
def _parse_target(text: str, unit_hint: str) -> ParsedTarget:
    cleaned = clean_text(text)
    hint = _normalize_unit(compact(unit_hint))
    if not cleaned:
        return ParsedTarget("", None, hint, "")
    core = cleaned
    note_unit = ""
    while (m := _TRAILING_NOTE.search(core)) and m.start() > 0:
        note = m.group(1).replace(" ", "")
        if note and len(note) <= 4 and not re.search(r"\d", note):
            note_unit = note_unit or note  # "100(人次)": a short note without digits is the unit
        core = core[: m.start()]
    rest = core.replace(" ", "")
    symbol, rest = _symbol_prefix(rest)
    m = _NUMBER.match(rest)
    if not m:
        return ParsedTarget(symbol, None, hint, cleaned)
    value = float(m.group(0).replace(",", "")) + 0.0  # + 0.0 turns "-0" into 0.0
    unit = rest[m.end() :]
    suffix_symbol = ""
    for word, sym in _SUFFIX_SYMBOLS:
        if unit.endswith(word) and (word != "内" or len(unit) > 1):
            unit, suffix_symbol = unit[: -len(word)], sym
            break
    if unit and (len(unit) > 8 or _NOT_A_UNIT.search(unit)):
        return ParsedTarget(symbol, None, hint, cleaned)
    unit = _normalize_unit(unit or note_unit) or hint
    return ParsedTarget(symbol or suffix_symbol, value, unit, cleaned)


def _normalize_unit(unit: str) -> str:
    return _UNIT_ALIASES.get(unit, unit)


@cache
def _symbol_words() -> tuple[tuple[str, str], ...]:
    words = reference().vocab_lookup["symbol"]
    return tuple(sorted(words.items(), key=lambda kv: (-len(kv[0]), kv[0])))


def _symbol_prefix(text: str) -> tuple[str, str]:
    for word, symbol in _symbol_words():
        if word and text.startswith(word):
            rest = text[len(word) :]
            # A one-character Chinese word ("为") is a symbol only before a number ("为100%"), not in a sentence.
            if len(word) == 1 and not word.isascii() and word not in "≥≤—" and not _NUMBER.match(rest):
                continue
            return symbol, rest
    return "", text


def parse_history(text: str) -> dict[str, str]:
    """Historical values by year: "2024年:95%;2025年:97%", "2023年95%，2024年96%", "2024：90".

    A value without any year is kept under the key ""; empty text gives {}.
    """
    return dict(_parse_history(text or ""))


@lru_cache(maxsize=16384)
def _parse_history(text: str) -> tuple[tuple[str, str], ...]:
    cleaned = clean_text(text)
    if not cleaned:
        return ()
    marks = list(_HISTORY_YEAR.finditer(cleaned))
    if not marks:
        return (("", cleaned),)
    values: dict[str, str] = {}
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(cleaned)
        value = cleaned[m.end() : end].strip(_HISTORY_TRIM)
        values.setdefault(m.group(1), value)
    return tuple(values.items())


def history_json(text: str) -> str:
    """parse_history as sorted JSON, the form stored in the frame."""
    return _history_json(text or "")


@lru_cache(maxsize=16384)
def _history_json(text: str) -> str:
    return json.dumps(dict(sorted(_parse_history(text))), ensure_ascii=False)


# --- the container: bounded before any parser ---------------------------------------------------------


@dataclass
class _Layout:
    """What the container check learnt: sheet name → worksheet member, percent-format style indices."""

    sheet_members: dict[str, str]
    percent_styles: set[int]


def _check_container(path: Path, limits: dict[str, int]) -> _Layout:
    with path.open("rb") as fh:
        head = fh.read(4096)
    if not head.startswith(b"PK\x03\x04"):
        raise _Refused("F001", _describe_non_zip(head))
    try:
        zf = zipfile.ZipFile(path)
    except NotImplementedError as exc:
        # "zip file version 25.5", an unknown compression: written by no spreadsheet program.
        raise _Refused("F001", "文件的压缩格式不受支持，可能已损坏或不是由 Excel/WPS 保存的") from exc
    except Exception as exc:  # noqa: BLE001 - BadZipFile, struct.error, UnicodeDecodeError of a name…
        raise _Refused("F001", f"ZIP 结构损坏，文件可能不完整或已损坏（{_short(exc)}）") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > limits["max_zip_entries"]:
            raise _Refused("F002", f"{_limit_note('max_zip_entries')}；本文件 {len(infos)} 个")
        names = {info.filename.lower(): info.filename for info in infos}
        if "xl/workbook.xml" not in names:
            raise _Refused("F001", _describe_zip(zf, names))
        small = _stream_members(zf, infos, limits)
        return _Layout(_sheet_members(small, names), _percent_styles(small.get("xl/styles.xml", b"")))


# The smallest string entry is "<si/>": a table of N strings has at least 5·N bytes. calamine reserves
# memory for the declared uniqueCount before reading any entry (4294967295 → a 100 GB allocation that
# aborts the process), so the declared counts are checked against the bytes actually there.
_MIN_SHARED_STRING_BYTES = 5
_MIN_STRING_REFERENCE_BYTES = 20  # '<c r="A1" t="s"><v>0</v></c>' and more: what one use of a string takes
DEFAULT_MAX_SHARED_STRINGS = 10_000_000  # used when limits.csv has no max_shared_strings


def _shared_string_counts(head: bytes) -> dict[str, str]:
    """The count and uniqueCount attributes of the <sst> element, as written (from the member's start)."""
    end = head.find(b">", head.find(b"sst"))
    tag = head[: end + 1] if end >= 0 else head
    counts: dict[str, str] = {}
    for attribute in (b"count", b"uniqueCount"):
        m = re.search(rb"\s" + attribute + rb'\s*=\s*["\']\s*([^"\']*)["\']', tag)
        if m:
            counts[attribute.decode()] = m.group(1).decode("ascii", "replace").strip()
    return counts


def _check_shared_strings(
    counts: dict[str, str], member_bytes: int, total_bytes: int, limits: dict[str, int]
) -> None:
    cap = limits.get("max_shared_strings", DEFAULT_MAX_SHARED_STRINGS)
    for attribute, room in (
        ("uniqueCount", member_bytes // _MIN_SHARED_STRING_BYTES + 1),
        ("count", total_bytes // _MIN_STRING_REFERENCE_BYTES + 1),
    ):
        text = counts.get(attribute)
        if text is None:
            continue
        declared = int(text) if text.isdigit() and len(text) <= 30 else None
        if declared is None:
            raise _Refused("F001", f"工作簿的文字表声明的条目数“{text[:20]}”不是数字，文件可能已损坏")
        if declared > room:
            raise _Refused(
                "F001",
                f"工作簿声明含有 {declared} 条文字，远多于文件实际能容纳的数量，文件可能已损坏或被改动过",
            )
        if attribute == "uniqueCount" and declared > cap:
            raise _Refused("F002", f"{_limit_note('max_shared_strings')}；本文件声明 {declared} 条")


_SMALL_PARTS = ("xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml")
_SMALL_PART_MAX = 16 * CHUNK_BYTES  # structural parts kept in memory; larger ones are not plausible


def _stream_members(
    zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], limits: dict[str, int]
) -> dict[str, bytes]:
    """Decompress every member in chunks, counting bytes; keep only the small structural parts.

    Stops at the first chunk that crosses the total bound or a member's ratio bound. XML members are
    scanned for references beyond the row/column bounds (see module docstring).
    """
    max_total = limits["max_uncompressed_bytes"]
    max_ratio = limits["max_compression_ratio"]
    patterns = _scan_patterns(limits)
    total = 0
    kept: dict[str, bytes] = {}
    shared_strings: list[tuple[dict[str, str], int]] = []  # judged once every member's bytes are counted
    for info in infos:
        if info.is_dir():
            continue
        lower = info.filename.lower()
        keep = lower in _SMALL_PARTS
        is_shared_strings = lower.endswith("sharedstrings.xml")
        is_xml = lower.endswith(".xml") and not is_shared_strings
        sst_head = b""
        member_bytes = 0
        tail = b""
        parts: list[bytes] = []
        positional = False
        tallest = 0  # the largest row referenced beyond the "tall sheet" threshold
        try:
            with zf.open(info) as stream:
                while chunk := stream.read(CHUNK_BYTES):
                    member_bytes += len(chunk)
                    total += len(chunk)
                    if total > max_total:
                        raise _Refused(
                            "F002",
                            f"{_limit_note('max_uncompressed_bytes')}；读取到 {_human_bytes(total)} 时已停止",
                        )
                    if member_bytes > RATIO_FLOOR_BYTES and member_bytes > max_ratio * max(
                        info.compress_size, 1
                    ):
                        ratio = member_bytes // max(info.compress_size, 1)
                        raise _Refused(
                            "F002",
                            f"{_limit_note('max_compression_ratio')}；部件 {info.filename} 已超过 {ratio} 倍",
                        )
                    if keep:
                        parts.append(chunk)
                        keep = member_bytes <= _SMALL_PART_MAX
                    if is_shared_strings and len(sst_head) < 4096:
                        sst_head += chunk[: 4096 - len(sst_head)]
                    if is_xml:
                        window = tail + chunk
                        tall, found = _scan_extents(window, patterns, limits)
                        positional = positional or found
                        tallest = max(tallest, tall)
                        tail = window[-96:]
            if positional:
                rows, cols = _exact_extent(zf, info)
                _check_extent(rows, cols, limits)
                _check_cells(rows, cols, limits)
            elif tallest:
                _check_tall_sheet(zf, info, tallest, limits)
            if is_shared_strings:
                shared_strings.append((_shared_string_counts(sst_head), member_bytes))
        except (_Refused, MemoryError):
            raise
        except Exception as exc:  # noqa: BLE001 - BadZipFile, zlib.error, EOFError, NotImplementedError…
            raise _Refused(
                "F001", f"部件 {info.filename} 无法解压或解析，文件可能已损坏或加密（{_short(exc)}）"
            ) from exc
        if keep:
            kept[lower] = b"".join(parts)
    for counts, member_bytes in shared_strings:
        _check_shared_strings(counts, member_bytes, total, limits)
    return kept


@dataclass(frozen=True)
class _ScanPatterns:
    # A cell/row reference beyond the column bound or beyond the "tall" row threshold (each match is
    # re-checked exactly; in ordinary sheets nothing matches, so the scan runs at regex-engine speed).
    too_far: re.Pattern[bytes]
    positional: re.Pattern[bytes]  # a <row>/<c> whose first attribute is not r (position implied)
    tall_rows: int  # rows beyond which the cell budget can be exceeded (max_cells // max_columns)


DEFAULT_MAX_CELLS = 10_000_000  # used when limits.csv has no max_cells_per_sheet


def _max_cells(limits: dict[str, int]) -> int:
    return limits.get("max_cells_per_sheet", DEFAULT_MAX_CELLS)


@cache
def _scan_patterns_cached(max_rows: int, max_cols: int, max_cells: int) -> _ScanPatterns:
    tall_rows = min(max_rows, max_cells // max_cols)
    rows = _greater_than(str(tall_rows), "0123456789")
    cols = _greater_than(_col_letter(max_cols - 1), "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    # The literal ' r="' first lets the regex engine skip quickly.
    too_far = re.compile(rb' r="(?:(?:' + cols + rb")[0-9]|[A-Z]{0,3}(?:" + rows + rb")(?![0-9]))")
    positional = re.compile(rb'<(?:c|row)[\s/>](?!r=")')
    return _ScanPatterns(too_far, positional, tall_rows)


def _scan_patterns(limits: dict[str, int]) -> _ScanPatterns:
    return _scan_patterns_cached(
        limits["max_rows_per_sheet"], limits["max_columns_per_sheet"], _max_cells(limits)
    )


_REF = re.compile(rb' r="([A-Z]*)([0-9]*)')


def _scan_extents(window: bytes, patterns: _ScanPatterns, limits: dict[str, int]) -> tuple[int, bool]:
    """Refuse a reference beyond the bounds. Returns (largest row referenced beyond the tall threshold,
    whether the window has rows/cells placed by position)."""
    tallest = 0
    for m in patterns.too_far.finditer(window):
        ref = _REF.match(window, m.start())
        if ref:
            letters, digits = ref.group(1).decode(), ref.group(2).decode()
            row = int(digits or 0)
            _check_extent(row, _col_index(letters) + 1 if letters else 0, limits)
            if row > patterns.tall_rows:
                tallest = max(tallest, row)
    # A tag cut by the window's end cannot be judged yet: the next window starts 96 bytes earlier.
    positional = any(m.end() + 4 <= len(window) for m in patterns.positional.finditer(window))
    return tallest, positional


def _check_cells(rows: int, cols: int, limits: dict[str, int]) -> None:
    """A parser allocates rows × columns cells for a sheet, however few are filled."""
    if rows * cols > _max_cells(limits):
        raise _Refused("F002", f"{_limit_note('max_cells_per_sheet')}；本表范围为 {rows} 行 × {cols} 列")


def _check_tall_sheet(zf: zipfile.ZipFile, info: zipfile.ZipInfo, rows: int, limits: dict[str, int]) -> None:
    """A sheet reaching row `rows` may use only max_cells // rows columns: one more streaming pass over it
    looks for a reference beyond that column (only sheets taller than the threshold get here)."""
    allowed = _max_cells(limits) // rows
    if allowed >= limits["max_columns_per_sheet"]:
        return
    wide = re.compile(
        rb' r="(?:' + _greater_than(_col_letter(allowed - 1), "ABCDEFGHIJKLMNOPQRSTUVWXYZ") + rb")[0-9]"
    )
    tail = b""
    with zf.open(info) as stream:
        while chunk := stream.read(CHUNK_BYTES):
            window = tail + chunk
            m = wide.search(window)
            if m:
                ref = _REF.match(window, m.start())
                cols = _col_index(ref.group(1).decode()) + 1 if ref else allowed + 1
                _check_cells(rows, cols, limits)
            tail = window[-96:]


def _check_extent(rows: int, cols: int, limits: dict[str, int]) -> None:
    if cols > limits["max_columns_per_sheet"]:
        raise _Refused(
            "F002",
            f"{_limit_note('max_columns_per_sheet')}；有单元格在第 {cols} 列（{_col_letter(cols - 1)} 列）",
        )
    if rows > limits["max_rows_per_sheet"]:
        raise _Refused("F002", f"{_limit_note('max_rows_per_sheet')}；有单元格在第 {rows} 行")


def _greater_than(bound: str, alphabet: str) -> bytes:
    """A regex for strings of `alphabet` that compare greater than `bound` as numbers or column letters:
    longer, or the same length and greater at the first difference. Leading zeros ("0000001") also match;
    every match is re-checked exactly, so that only costs time in a crafted file."""
    n = len(bound)
    cls = f"[{alphabet[0]}-{alphabet[-1]}]"
    branches = [f"{cls}{{{n + 1},}}"]
    for i, ch in enumerate(bound):
        pos = alphabet.index(ch)
        if pos + 1 < len(alphabet):
            branches.append(f"{bound[:i]}[{alphabet[pos + 1]}-{alphabet[-1]}]{cls}{{{n - i - 1}}}")
    return "|".join(branches).encode()


def _exact_extent(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, int]:
    """(rows, columns) of worksheet XML that places rows/cells by position, streaming it (rare: no
    mainstream writer omits the references). Applies the same rules calamine does."""
    max_row = max_col = 0
    row = 0
    col = 0
    with zf.open(info) as stream:
        for event, elem in ElementTree.iterparse(stream, events=("start", "end")):
            tag = elem.tag.rsplit("}", 1)[-1]
            if event == "start" and tag == "row":
                r = elem.get("r")
                row = int(r) if r and r.isdigit() else row + 1
                col = 0
                max_row = max(max_row, row)
            elif event == "start" and tag == "c":
                ref = elem.get("r")
                letters = "".join(ch for ch in ref or "" if ch.isalpha())
                digits = "".join(ch for ch in ref or "" if ch.isdigit())
                col = _col_index(letters) + 1 if letters else col + 1
                if digits:
                    max_row = max(max_row, int(digits))
                max_col = max(max_col, col)
            elif event == "end" and tag == "row":
                elem.clear()
    return max_row, max_col


def _sheet_members(small: dict[str, bytes], names: dict[str, str]) -> dict[str, str]:
    """Sheet name → its worksheet member, from xl/workbook.xml and its relationships."""
    try:
        workbook = ElementTree.fromstring(small.get("xl/workbook.xml", b""))
        rels = ElementTree.fromstring(small.get("xl/_rels/workbook.xml.rels", b"<r/>"))
    except ValueError as exc:  # expat: "multi-byte encodings are not supported" (GBK, Big5… declared)
        raise _Refused(
            "F001", "工作簿目录声明了 Excel 不使用的字符编码（如 GBK），文件可能由其他程序生成或已被改动"
        ) from exc
    except Exception as exc:  # noqa: BLE001 - ParseError, or whatever else expat meets in bad bytes
        raise _Refused("F001", f"工作簿目录 xl/workbook.xml 无法解析（{_short(exc)}）") from exc
    targets = {}
    for rel in rels:
        target = rel.get("Target", "")
        targets[rel.get("Id", "")] = target[1:] if target.startswith("/") else "xl/" + target
    members: dict[str, str] = {}
    for elem in workbook.iter():
        if elem.tag.rsplit("}", 1)[-1] != "sheet":
            continue
        rid = next((v for k, v in elem.attrib.items() if k.rsplit("}", 1)[-1] == "id"), "")
        member = names.get(_normpath(targets.get(rid, "")).lower())
        if member:
            members[elem.get("name", "")] = member
    return members


def _normpath(target: str) -> str:
    parts: list[str] = []
    for part in target.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part and part != ".":
            parts.append(part)
    return "/".join(parts)


def _percent_styles(styles_xml: bytes) -> set[int]:
    """Indices of cell formats that display numbers as percentages (built-in 9/10 or a custom '%')."""
    if not styles_xml:
        return set()
    try:
        root = ElementTree.fromstring(styles_xml)
    except Exception:  # noqa: BLE001 - styles only refine how numbers show; calamine judges the file
        return set()
    percent_fmts = {9, 10}
    for elem in root.iter():
        if elem.tag.rsplit("}", 1)[-1] == "numFmt":
            code = re.sub(r'"[^"]*"|\\.', "", elem.get("formatCode", ""))
            if "%" in code and (fmt_id := elem.get("numFmtId") or "").isdigit():
                percent_fmts.add(int(fmt_id))
    result: set[int] = set()
    for elem in root.iter():
        if elem.tag.rsplit("}", 1)[-1] == "cellXfs":
            for i, xf in enumerate(elem):
                fmt = xf.get("numFmtId") or "0"
                if fmt.isdigit() and int(fmt) in percent_fmts:
                    result.add(i)
    return result


def _percent_cells(path: Path, member: str, style_ids: set[int]) -> set[tuple[int, int]]:
    """0-based (row, col) of cells carrying a percent style: Excel stores a typed "95%" as 0.95 with that
    style and the official sees 95%, so the reader must too. One streaming pass over that sheet only."""
    if not style_ids:
        return set()
    ids = b"|".join(str(i).encode() for i in sorted(style_ids))
    pattern = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"[^>]*?\ss="(?:' + ids + rb')"')
    found: set[tuple[int, int]] = set()
    with zipfile.ZipFile(path) as zf, zf.open(member) as stream:
        tail = b""
        while chunk := stream.read(CHUNK_BYTES):
            window = tail + chunk
            found.update(
                (int(m.group(2)) - 1, _col_index(m.group(1).decode())) for m in pattern.finditer(window)
            )
            tail = window[-512:]  # a tag cut at the border is found in the next window (the set dedupes)
    return found


# --- sheets -------------------------------------------------------------------------------------------


def _read_sheets(
    book: Workbook, calamine: python_calamine.CalamineWorkbook, layout: _Layout, limits: dict[str, int]
) -> None:
    ref = reference()
    names = [
        meta.name for meta in calamine.sheets_metadata if meta.typ == python_calamine.SheetTypeEnum.WorkSheet
    ]
    matched, ignored = match_sheets(names)
    book.ignored_sheets = ignored
    for kind, spec in ref.sheets.items():
        if kind not in matched and spec.required:
            book.findings.append(make_finding("F003", book.file, value=spec.name_zh))
    for kind, name in matched.items():
        grid, merges = _load_grid(calamine, name, limits)
        member = layout.sheet_members.get(name)
        if member and grid.size and layout.percent_styles:
            _apply_percent(grid, _percent_cells(book.path, member, layout.percent_styles))
        if kind == "info":
            book.info_sheet = name
            book.info, book.info_cells = info_from_grid(grid, merges)
        else:
            rows = sheet_rows_from_grid(book.file, kind, name, grid, merges, book.findings)
            if rows is not None:
                book.sheets[kind] = rows


def match_sheets(names: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Workbook sheet names → {kind: sheet name}, plus {ignored sheet name: kind} for extra matches.

    Exact (after 繁→简, full-width, spaces) first, then a name containing a known name ("表2 項目支出指標
    (2026)"), longest known name first.
    """
    lookup = reference().sheet_lookup
    known = sorted(lookup, key=lambda k: (-len(k), k))
    matched: dict[str, str] = {}
    ignored: dict[str, str] = {}
    keys = {name: compact(name) for name in names}
    for name in names:
        kind = lookup.get(keys[name])
        if kind and kind not in matched:
            matched[kind] = name
    for name in names:
        if name in matched.values():
            continue
        kind = lookup.get(keys[name]) or next((lookup[k] for k in known if k in keys[name]), None)
        if kind is None:
            continue
        if kind in matched:
            ignored[name] = kind
        else:
            matched[kind] = name
    return matched, ignored


def _load_grid(
    calamine: python_calamine.CalamineWorkbook, name: str, limits: dict[str, int]
) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """The sheet's cells from A1 (true Excel positions) and its merged ranges (r0, c0, r1, c1), 0-based."""
    try:
        sheet = calamine.get_sheet_by_name(name)
        merges = [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in sheet.merged_cell_ranges or []]
        end_row, end_col = sheet.end or (-1, -1)
        if end_row + 1 > limits["max_rows_per_sheet"]:
            raise _Refused("F002", f"{_limit_note('max_rows_per_sheet')}；工作表“{name}”有 {end_row + 1} 行")
        if end_col + 1 > limits["max_columns_per_sheet"]:
            raise _Refused(
                "F002", f"{_limit_note('max_columns_per_sheet')}；工作表“{name}”有 {end_col + 1} 列"
            )
        _check_cells(end_row + 1, end_col + 1, limits)
        if sheet.end is None or sheet.height == 0:
            return np.empty((0, 0), dtype=object), merges
        rows = sheet.to_python(skip_empty_area=False)
    except _Refused as refused:
        refused.sheet = name
        raise
    except MemoryError:
        raise
    except OverflowError as exc:  # a date or duration beyond what Python can hold (days=2147483647)
        raise _Refused("F001", f"工作表“{name}”中有超出范围的日期或时间值，文件可能已损坏", name) from exc
    except Exception as exc:  # noqa: BLE001 - CalamineError, ValueError… on bad bytes
        raise _Refused("F001", f"工作表“{name}”无法读取（{_short(exc)}）", name) from exc
    return as_grid(rows, none_is_empty=False), merges


def as_grid(rows: Sequence[Sequence[object]], none_is_empty: bool = True) -> np.ndarray:
    """Rows of cell values (calamine's "" or openpyxl's None for empty) → a 2-D object array, "" = empty."""
    if not rows:
        return np.empty((0, 0), dtype=object)
    width = max(len(r) for r in rows)
    grid = None
    if all(len(r) == width for r in rows):
        grid = np.array(rows, dtype=object)
        if grid.shape != (len(rows), width):  # a cell holding a sequence would change the shape
            grid = None
    if grid is None:
        grid = np.empty((len(rows), width), dtype=object)
        grid[:] = ""
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                grid[i, j] = value
    if none_is_empty:
        grid[grid == None] = ""  # noqa: E711 - elementwise on an object array
    return grid


def _apply_percent(grid: np.ndarray, cells: set[tuple[int, int]]) -> None:
    for r, c in cells:
        if r < grid.shape[0] and c < grid.shape[1]:
            v = grid[r, c]
            if isinstance(v, float) and not isinstance(v, bool):
                grid[r, c] = cell_to_text(round(v * 100, 10)) + "%"


def _fill_merges(grid: np.ndarray, merges: list[tuple[int, int, int, int]]) -> np.ndarray:
    """Every cell of a merged range gets the range's top-left value (Excel shows it across the range)."""
    if not merges or not grid.size:
        return grid
    filled = grid.copy()
    height, width = grid.shape
    for r0, c0, r1, c1 in merges:
        if r0 < height and c0 < width:
            filled[r0 : min(r1, height - 1) + 1, c0 : min(c1, width - 1) + 1] = grid[r0, c0]
    return filled


# --- 部门信息 ---------------------------------------------------------------------------------------------


def info_from_grid(
    grid: np.ndarray, merges: list[tuple[int, int, int, int]] | tuple = ()
) -> tuple[dict[str, str], dict[str, tuple[int, str]]]:
    """部门信息 from a sheet grid: rows 项目 | 内容 (title rows, a 序号 column and several pairs per row are
    allowed), the key matched by alias ("部门代码：", 繁体, full width), the value the first non-empty cell to
    its right that is not itself a key, or the text after a colon in the key cell ("联系电话：0571…").
    Returns (info, info_cells: key → (Excel row, column letter of the value)); the first occurrence wins."""
    grid = _fill_merges(grid, list(merges))
    lookup = reference().header_lookup["info"]
    info: dict[str, str] = {}
    cells: dict[str, tuple[int, str]] = {}

    def key_of(text: str) -> tuple[str | None, str]:
        key = _match_header(text, lookup) if len(text) <= 40 else None
        if key is None and ":" in (cleaned := clean_text(text)):
            label, _, inline = cleaned.partition(":")
            return _match_header(label, lookup), inline.strip()
        return key, ""

    for r in range(grid.shape[0]):
        texts = [cell_to_text(v) for v in grid[r]]
        c = 0
        while c < len(texts):
            text = texts[c]
            key, inline = key_of(text) if text else (None, "")
            if key is None:
                c += 1  # empty, a 序号, or a stray note before the key
                continue
            j = next((j for j in range(c + 1, len(texts)) if texts[j] and texts[j] != text), None)
            # The next cell is the value unless it is another key (pairs side by side, value left empty);
            # "职能依据 | 三定方案" stays a value although 三定方案 is an alias of the same key.
            value_col = j if j is not None and key_of(texts[j])[0] in (None, key) else None
            if key not in info:
                if value_col is not None:
                    info[key], cells[key] = texts[value_col], (r + 1, _col_letter(value_col))
                elif inline:
                    info[key], cells[key] = inline, (r + 1, _col_letter(c))
                else:
                    info[key], cells[key] = "", (r + 1, _col_letter(c + 1))  # present but empty: the blank
            c = value_col + 1 if value_col is not None else (j if j is not None else len(texts))
    return info, cells


# --- indicator sheets ---------------------------------------------------------------------------------

_DIGIT_LEVEL = re.compile(r"^([123])级")
_TRAILING_PAREN = re.compile(r"\([^()]*\)$")
_MARKS = "*※★☆:"
# Rows that are notes or signatures, not data: they start with one of these words. The short words must be
# followed by a colon, a number or nothing ("注：…", "注1", "说明") so that "注册企业数量" stays data.
_NOTES_WORDS = (
    "填表人", "填报人", "制表人", "审核人", "复核人", "审批人", "经办人", "单位负责人", "财务负责人", "部门负责人", "负责人",
    "分管领导", "联系人", "联系电话", "填报日期", "填表日期", "制表日期", "报送日期", "填报单位",
)  # fmt: skip
_NOTES_SHORT_WORDS = ("注意", "注", "备注", "说明", "附注", "日期", "签字", "盖章")
_NOTES_START = re.compile(
    "^(?:" + "|".join(_NOTES_WORDS) + "|(?:" + "|".join(_NOTES_SHORT_WORDS) + r")(?=$|[:\d(、.]))"
)
# First characters of those words as typed (simplified or traditional), a cheap pre-filter per row.
_NOTES_FIRST_CHARS = frozenset(w[0] for w in _NOTES_WORDS + _NOTES_SHORT_WORDS) | frozenset(
    "註備說審複經單財負聯簽蓋製塡"
)


def _header_candidates(text: str) -> list[str]:
    """Forms of a header to try, most literal first: as written, without marks ("*指标名称", "部门编码："),
    without a trailing note ("目标值(必填)"), and "3级指标" read as 三级指标."""
    key = compact(text)
    out = [key]
    stripped = key.strip(_MARKS)
    out.append(stripped)
    no_paren = _TRAILING_PAREN.sub("", stripped).strip(_MARKS)
    out.append(no_paren)
    for form in (stripped, no_paren):
        digit = _DIGIT_LEVEL.sub(lambda m: "一二三"[int(m.group(1)) - 1] + "级", form)
        out.append(digit)
    return out


@lru_cache(maxsize=8192)
def _match_header_cached(text: str, kind: str) -> str | None:
    return _match_header(text, reference().header_lookup[kind])


def _match_header(text: str, lookup: dict[str, str]) -> str | None:
    for candidate in _header_candidates(text):
        if candidate in lookup:
            return lookup[candidate]
    return None


def _find_header(grid: np.ndarray, kind: str) -> tuple[int, dict[int, str], dict[int, str]]:
    """The header row (0-based, -1 if none) among the first rows: the one recognising most columns (the
    first of equals: a repeated header below is skipped as such). A two-line header with merged cells is
    found on its lower line, which names more columns. Returns col → English, col → unknown text."""
    best, best_row, best_map, best_unknown = 0, -1, {}, {}
    for r in range(min(HEADER_SCAN_ROWS, grid.shape[0])):
        mapping: dict[int, str] = {}
        unknown: dict[int, str] = {}
        for c, value in enumerate(grid[r]):
            text = cell_to_text(value)
            if not text:
                continue
            column = _match_header_cached(text, kind) if len(text) <= 40 else None
            if column is None:
                unknown[c] = text
            else:
                mapping[c] = column
        score = len(set(mapping.values()))
        if score > best:
            best, best_row, best_map, best_unknown = score, r, mapping, unknown
    return best_row, best_map, best_unknown


def sheet_rows_from_grid(
    file: str,
    kind: str,
    name: str,
    raw: np.ndarray,
    merges: list[tuple[int, int, int, int]] | tuple = (),
    findings: list[Finding] | None = None,
) -> SheetRows | None:
    """One indicator sheet's grid (0-based, row 0 = Excel row 1; merges as (r0, c0, r1, c1)) → SheetRows.

    Structural problems (no header row F010, missing required column F004) are appended to `findings`;
    None is returned when no header row is found.
    """
    findings = [] if findings is None else findings
    merges = list(merges)
    raw = raw if isinstance(raw, np.ndarray) else as_grid(raw)
    ref = reference()
    specs = ref.columns[kind]
    english = [s.column for s in specs]
    if not raw.size or not (raw != "").any():
        # A blank sheet is allowed (the template says a sheet may be left empty).
        return SheetRows(kind, name, 0, {}, {}, _empty_frame(english))
    grid = _fill_merges(raw, merges)
    header, mapping, unknown = _find_header(grid, kind)
    required = [s for s in specs if s.required]
    if header < 0 or len(set(mapping.values())) < 2:
        wanted = "”“".join(s.header_zh for s in required[:3])
        findings.append(
            make_finding(
                "F010",
                file,
                sheet=name,
                detail=f"工作表“{name}”前 {HEADER_SCAN_ROWS} 行中没有包含“{wanted}”等列名的表头行",
            )
        )
        return None
    columns: dict[str, int] = {}
    duplicates: dict[str, list[int]] = {}
    duplicate_headers: dict[str, str] = {}
    for c in sorted(mapping):
        col = mapping[c]
        if col in columns:
            duplicates.setdefault(col, []).append(c)
            duplicate_headers[cell_to_text(grid[header, c])] = _col_letter(c)
        else:
            columns[col] = c
    findings += _header_findings(file, kind, name, raw, grid, header, columns, duplicates, unknown)
    for spec in required:
        if spec.column not in columns:
            findings.append(make_finding("F004", file, sheet=name, row=header + 1, field=spec.header_zh))

    rows, skipped = _data_rows(raw, grid, header, columns)
    n = len(rows)
    body = grid[rows]
    # Columns with nothing in them (sector, formula… are often left empty) cost nothing to convert.
    has_content = (body != "").any(axis=0) if n else np.zeros(grid.shape[1], dtype=bool)
    texts: dict[str, list[str]] = {}
    for col in english:
        sources = [columns[col], *duplicates.get(col, [])] if col in columns else []
        values: list[str] | None = None
        for c in sources:
            if not has_content[c]:
                continue
            more = _texts(body[:, c])
            values = more if values is None else [v or w for v, w in zip(values, more, strict=True)]
        texts[col] = values if values is not None else [""] * n
    _forward_fill(texts)
    parsed = [_parse_target(t, u) for t, u in zip(texts["target"], texts["unit"], strict=True)]
    text_columns: dict[str, list[str]] = {
        **texts,
        "source_file": [file] * n,
        "source_sheet": [name] * n,
        "target_symbol": [p.symbol for p in parsed],
        "target_text": [p.text for p in parsed],
        "target_unit": [p.unit for p in parsed],
        "history_json": [_history_json(h) for h in texts["history"]],
    }
    numbers = {
        "source_row": np.asarray(rows + 1, dtype="int64"),
        "target_value": np.array([np.nan if p.value is None else p.value for p in parsed], dtype="float64"),
    }
    text_columns[EXTRA_COLUMN] = _extra_json(grid, header, body, has_content, duplicates, unknown)
    frame = _frame(text_columns, numbers, [*english, *PROVENANCE_COLUMNS, *PARSED_COLUMNS, EXTRA_COLUMN])
    return SheetRows(
        kind=kind,
        sheet_name=name,
        header_row=header + 1,
        columns={col: _col_letter(c) for col, c in columns.items()},
        unknown_headers={text: _col_letter(c) for c, text in unknown.items()},
        frame=frame,
        skipped_rows=skipped,
        duplicate_headers=duplicate_headers,
    )


def _header_findings(
    file: str,
    kind: str,
    name: str,
    raw: np.ndarray,
    grid: np.ndarray,
    header: int,
    columns: dict[str, int],
    duplicates: dict[str, list[int]],
    unknown: dict[int, str],
) -> list[Finding]:
    """I403 for each unknown header, W217 for each second header of one field: nothing is dropped unsaid.
    A cell that only repeats a merged header to its left (one header over two columns) is not a header;
    one filled from a merge above (a two-line header) is."""

    def written(c: int) -> bool:
        written_here = c < raw.shape[1] and raw[header, c] != ""
        return written_here or not (c > 0 and grid[header, c - 1] == grid[header, c])

    out: list[Finding] = []
    for c in sorted(unknown):
        if written(c):
            letter = _col_letter(c)
            out.append(
                make_finding(
                    "I403",
                    file,
                    sheet=name,
                    row=header + 1,
                    column=letter,
                    value=unknown[c],
                    detail=f"{letter} 列",
                )
            )
    for col, others in duplicates.items():
        used = columns[col]
        used_text, used_letter = cell_to_text(grid[header, used]), _col_letter(used)
        for c in others:
            if not written(c):
                continue
            text, letter = cell_to_text(grid[header, c]), _col_letter(c)
            out.append(
                make_finding(
                    "W217",
                    file,
                    sheet=name,
                    row=header + 1,
                    column=letter,
                    field=reference().header_zh(kind, col),
                    value=text,
                    detail=(
                        f"{used_letter} 列“{used_text}”与 {letter} 列“{text}”；已采用 {used_letter} 列，"
                        f"{used_letter} 列为空的行取 {letter} 列的值，{letter} 列的原值已一并保留"
                    ),
                )
            )
    return out


def _extra_json(
    grid: np.ndarray,
    header: int,
    body: np.ndarray,
    has_content: np.ndarray,
    duplicates: dict[str, list[int]],
    unknown: dict[int, str],
) -> list[str]:
    """Per row, the values of unknown and second columns as {header: value} JSON; "" when none."""
    n = body.shape[0]
    sources = sorted({*unknown, *(c for cs in duplicates.values() for c in cs)})
    keyed: list[tuple[str, list[str]]] = []
    used: set[str] = set()
    for c in sources:
        text = cell_to_text(grid[header, c])
        key = text if text not in used else f"{text}（{_col_letter(c)}列）"
        used.add(key)
        if has_content[c]:
            keyed.append((key, _texts(body[:, c])))
    if not keyed:
        return [""] * n
    out: list[str] = []
    for i in range(n):
        record = {key: values[i] for key, values in keyed if values[i]}
        out.append(json.dumps(record, ensure_ascii=False) if record else "")
    return out


def _data_rows(
    raw: np.ndarray, grid: np.ndarray, header: int, columns: dict[str, int]
) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """0-based indices of the data rows below the header, and the rows set aside with a reason.

    Emptiness is judged on the cells as written (a row covered only by a merged range above it is empty);
    notes rows (填表人、备注…), repeated header rows and rows holding only a 序号 are set aside.
    """
    body = raw[header + 1 :]
    if not body.size:
        return np.empty(0, dtype=np.int64), []
    nonempty = body != ""
    counts = nonempty.sum(axis=1)
    candidates = np.flatnonzero(counts > 0)
    skipped: list[tuple[int, str]] = []
    keep = np.ones(len(candidates), dtype=bool)
    first_col = nonempty[candidates].argmax(axis=1)
    header_text = {c: grid[header, c] for c in columns.values()}
    seq_col = columns.get("seq")
    firsts = body[candidates, first_col].tolist()
    cand_counts = counts[candidates].tolist()
    # Only rows with few cells or starting like a note are looked at one by one.
    inspect = [
        i
        for i, (v, n_cells) in enumerate(zip(firsts, cand_counts, strict=True))
        if n_cells <= 3 or (v.__class__ is str and v.lstrip()[:1] in _NOTES_FIRST_CHARS)
    ]
    for i in inspect:
        r, c0, n_cells = int(candidates[i]), int(first_col[i]), cand_counts[i]
        values = body[r]
        row_texts = [cell_to_text(v) for v in values if v != ""]
        row_texts = [t for t in row_texts if t]
        excel_row = header + 2 + r
        if not row_texts:
            keep[i] = False  # only spaces: an empty row
            continue
        notes = [t for t in row_texts if _NOTES_START.match(compact(t))]
        if notes and _NOTES_START.match(compact(row_texts[0])) and len(notes) * 2 >= len(row_texts):
            keep[i] = False
            skipped.append((excel_row, f"备注或签名行：{row_texts[0][:30]}"))
            continue
        if n_cells == 1 and seq_col is not None and c0 == seq_col:
            keep[i] = False
            skipped.append((excel_row, "只有序号，没有指标内容"))
            continue
    rows = candidates[keep]
    # A header repeated below (printed tables, pasted blocks) is not data.
    if len(rows) and len(header_text) >= 2:
        same = np.zeros(len(rows), dtype=np.int64)
        for c, text in header_text.items():
            if text != "":
                same += body[rows, c] == text
        repeated = same >= max(2, (len(header_text) + 1) // 2)
        for r in rows[repeated].tolist():
            skipped.append((header + 2 + r, "重复的表头行"))
        rows = rows[~repeated]
    skipped.sort()
    return rows + header + 1, skipped


def _texts(values: np.ndarray) -> list[str]:
    """Cell values → the text an official sees, stripped. Strings (the bulk) skip the per-value call."""
    return [v.strip() if v.__class__ is str else _number_text(v) for v in values.tolist()]


def _number_text(value: object) -> str:
    if value.__class__ is float and value == value and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # the common case of cell_to_text, without its type ladder
    return cell_to_text(value)


def _forward_fill(texts: dict[str, list[str]]) -> None:
    """Blanks under 项目名称, 一级, 二级 and project-level columns mean "same as above" — within one project
    (and 二级 within one 一级): a new project never inherits the previous project's levels or category."""
    n = len(texts["level1"])
    if not n:
        return
    new_project = [True] * n
    if "project" in texts:
        project = texts["project"] = _ffill(texts["project"], None)
        new_project = [i == 0 or project[i] != project[i - 1] for i in range(n)]
        for col in PROJECT_LEVEL_COLUMNS:
            if col in texts:
                texts[col] = _ffill(texts[col], new_project)
        level1 = texts["level1"] = _ffill(texts["level1"], new_project)
    else:
        level1 = texts["level1"] = _ffill(texts["level1"], None)
        new_project = [i == 0 for i in range(n)]
    new_level1 = [new_project[i] or level1[i] != level1[i - 1] for i in range(n)]
    texts["level2"] = _ffill(texts["level2"], new_level1)


def _ffill(values: list[str], group_starts: list[bool] | None) -> list[str]:
    """Blank → the last non-blank value above it, not crossing a group start (True = a new group)."""
    if "" not in values:
        return values
    out: list[str] = []
    last = ""
    for i, value in enumerate(values):
        if group_starts is not None and group_starts[i]:
            last = ""
        if value:
            last = value
        out.append(last)
    return out


_STR_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas 3's default "str"


def _frame(texts: dict[str, list[str]], numbers: dict[str, np.ndarray], order: list[str]) -> pd.DataFrame:
    """Columns → DataFrame; text goes through Arrow, several times faster than pandas' own string checks.
    Columns that are entirely empty share one immutable Arrow array, each behind its own pandas array."""
    n = len(next(iter(numbers.values())))
    blank = pa.array([""] * n, type=pa.large_string())  # immutable; each column gets its own wrapper
    columns: dict[str, object] = {
        c: pd.array(pa.array(v, type=pa.large_string()) if any(v) else blank, dtype=_STR_DTYPE)
        for c, v in texts.items()
    }
    columns.update(numbers)
    return pd.DataFrame({c: columns[c] for c in order}, copy=False)


def _empty_frame(english: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="str") for c in (*english, "source_file", "source_sheet")})
    frame["source_row"] = pd.Series(dtype="int64")
    for c in PARSED_COLUMNS:
        frame[c] = pd.Series(dtype="float64" if c == "target_value" else "str")
    frame[EXTRA_COLUMN] = pd.Series(dtype="str")
    return frame[[*english, *PROVENANCE_COLUMNS, *PARSED_COLUMNS, EXTRA_COLUMN]]


# --- small helpers ------------------------------------------------------------------------------------


def _col_letter(index: int) -> str:
    """0-based column index → Excel letters (0 → A, 25 → Z, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _col_index(letters: str) -> int:
    """Excel letters → 0-based column index."""
    index = 0
    for ch in letters.upper():
        index = index * 26 + (ord(ch) - 64)
    return index - 1


@cache
def _limit_notes() -> dict[str, str]:
    return {r["name"]: r.get("note_zh", "") for r in read_reference_csv(REFERENCE_DIR / "limits.csv")}


_DEFAULT_NOTES = {
    "max_cells_per_sheet": f"每个工作表的范围（行数×列数）不超过{DEFAULT_MAX_CELLS // 10000}万个单元格",
    "max_shared_strings": f"工作簿中不同的文字内容不超过{DEFAULT_MAX_SHARED_STRINGS // 10000}万条",
}


def _limit_note(name: str) -> str:
    return _limit_notes().get(name) or _DEFAULT_NOTES.get(name) or f"{name} ≤ {reference().limits[name]}"


def _human_bytes(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return f"{n}字节"


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 80 else text[:77] + "…"


def _refusal(file: str, code: str, detail: str, sheet: str = "") -> Finding:
    return make_finding(code, file, sheet=sheet, value=detail if code == "F001" else "", detail=detail)


def _describe_non_zip(head: bytes) -> str:
    """What a file that is not a zip looks like, so the official knows what to re-save."""
    if not head:
        return "文件是空的（0 字节）"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "这是旧版 Excel 97-2003 工作簿（.xls）或设置了打开密码的加密文件"
    if head.startswith(b"%PDF"):
        return "这是 PDF 文件"
    if head.startswith((b"Rar!", b"7z\xbc\xaf", b"\x1f\x8b")):
        return "这是 RAR/7z/gzip 压缩包"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        return "这是图片文件"
    if head.startswith(b"PK"):
        return "ZIP 文件头不完整，文件可能已损坏"
    text = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = head.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        return f"无法识别的文件内容（开头字节 {head[:4].hex(' ').upper()}）"
    lowered = text.lstrip().lower()
    if lowered.startswith(("<html", "<!doctype html", "<table", "<meta")) or "<html" in lowered[:400]:
        return "这是网页（HTML）文件，常见于业务系统导出的“伪 Excel”"
    if lowered.startswith("<?xml"):
        if "urn:schemas-microsoft-com:office:spreadsheet" in lowered:
            return "这是 Excel 2003 XML 表格"
        return "这是 XML 文本文件"
    first_line = text.splitlines()[0] if text else ""
    if "," in first_line or "\t" in first_line:
        return "这是 CSV/文本文件（逗号或制表符分隔），不是 Excel 工作簿"
    return "这是纯文本文件，不是 Excel 工作簿"


def _describe_zip(zf: zipfile.ZipFile, names: dict[str, str]) -> str:
    if "word/document.xml" in names:
        return "这是 Word 文档（.docx），不是 Excel 工作簿"
    if "ppt/presentation.xml" in names:
        return "这是 PowerPoint 演示文稿（.pptx）"
    if "mimetype" in names:
        info = zf.getinfo(names["mimetype"])
        if info.file_size <= 200:
            mimetype = zf.read(info).decode("ascii", "replace")
            if "spreadsheet" in mimetype:
                return "这是 OpenDocument 表格（.ods），请另存为 .xlsx"
            return f"这是 OpenDocument 文件（{mimetype}）"
    return f"这是 ZIP 压缩包（含 {len(names)} 个文件），但不含 Excel 工作簿（缺少 xl/workbook.xml）"
