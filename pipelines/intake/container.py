"""The container: the workbook checked as a plain zip before any spreadsheet parser trusts it.

File size, entry count, and every member stream-decompressed with a running byte count (declared sizes
can lie), so a zip bomb is refused after reading at most the bound. Worksheet XML is scanned on the way for
references beyond the sheet bounds (pipelines.intake.extent). The shared-string table's declared counts
are checked against the bytes actually there, because calamine reserves memory for uniqueCount before
reading an entry. What the check learns on the way (which member holds which sheet, which styles show
percentages) is handed to the sheet reader.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from pipelines.intake.bounds import (
    CHUNK_BYTES,
    DEFAULT_MAX_SHARED_STRINGS,
    Refused,
    check_cells,
    check_extent,
    human_bytes,
    limit_note,
    short_error,
)
from pipelines.intake.extent import (
    WINDOW_OVERLAP,
    ScanPatterns,
    check_tall_sheet,
    exact_extent,
    scan_extents,
    scan_patterns,
)
from pipelines.intake.file_kind import describe_non_zip, describe_zip
from pipelines.intake.percent import percent_styles

RATIO_FLOOR_BYTES = 1 << 20  # tiny members can have a high ratio legitimately; judge ratio above this
_SMALL_PARTS = ("xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml")
_SMALL_PART_MAX = 16 * CHUNK_BYTES  # structural parts kept in memory; larger ones are not plausible
_SST_HEAD_BYTES = 4096  # the <sst> element's attributes are within the shared-string table's first bytes
# The smallest string entry is "<si/>": a table of N strings has at least 5·N bytes. calamine reserves
# memory for the declared uniqueCount before reading any entry (4294967295 → a 100 GB allocation that
# aborts the process), so the declared counts are checked against the bytes actually there.
_MIN_SHARED_STRING_BYTES = 5
_MIN_STRING_REFERENCE_BYTES = 20  # '<c r="A1" t="s"><v>0</v></c>' and more: what one use of a string takes


@dataclass
class Layout:
    """What the container check learnt: sheet name → worksheet member, percent-format style indices."""

    sheet_members: dict[str, str]
    percent_styles: set[int]


def check_container(path: Path, limits: dict[str, int]) -> Layout:
    """Refuse (F001) what is not a readable xlsx zip and (F002) what is over the bounds; else the layout."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    if not head.startswith(b"PK\x03\x04"):
        raise Refused("F001", describe_non_zip(head))
    try:
        zf = zipfile.ZipFile(path)
    except NotImplementedError as exc:
        # "zip file version 25.5", an unknown compression: written by no spreadsheet program.
        raise Refused("F001", "文件的压缩格式不受支持，可能已损坏或不是由 Excel/WPS 保存的") from exc
    except Exception as exc:  # noqa: BLE001 - BadZipFile, struct.error, UnicodeDecodeError of a name…
        raise Refused("F001", f"ZIP 结构损坏，文件可能不完整或已损坏（{short_error(exc)}）") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > limits["max_zip_entries"]:
            raise Refused("F002", f"{limit_note('max_zip_entries')}；本文件 {len(infos)} 个")
        names = {info.filename.lower(): info.filename for info in infos}
        if "xl/workbook.xml" not in names:
            raise Refused("F001", describe_zip(zf, names))
        small = _stream_members(zf, infos, limits)
        return Layout(_sheet_members(small, names), percent_styles(small.get("xl/styles.xml", b"")))


@dataclass
class _Budget:
    """Decompressed bytes counted against the bounds; refuses at the first chunk that crosses one."""

    max_total: int
    max_ratio: int
    total: int = 0

    def count(self, info: zipfile.ZipInfo, member_bytes: int, chunk_bytes: int) -> None:
        self.total += chunk_bytes
        if self.total > self.max_total:
            raise Refused(
                "F002", f"{limit_note('max_uncompressed_bytes')}；读取到 {human_bytes(self.total)} 时已停止"
            )
        compressed = max(info.compress_size, 1)
        if member_bytes > RATIO_FLOOR_BYTES and member_bytes > self.max_ratio * compressed:
            ratio = member_bytes // compressed
            raise Refused(
                "F002", f"{limit_note('max_compression_ratio')}；部件 {info.filename} 已超过 {ratio} 倍"
            )


@dataclass
class _Member:
    """What one streaming pass over a member learnt."""

    size: int = 0  # decompressed bytes
    kept: bytes | None = None  # the whole member, for a small structural part
    sst_head: bytes = b""  # the first bytes of a shared-string table
    positional: bool = False  # worksheet XML placing rows/cells by position (no r="…")
    tallest: int = 0  # the largest row referenced beyond the "tall sheet" threshold


def _stream_members(
    zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], limits: dict[str, int]
) -> dict[str, bytes]:
    """Decompress every member in chunks, counting bytes; keep only the small structural parts.

    Stops at the first chunk that crosses the total bound or a member's ratio bound; worksheet XML is
    scanned for references beyond the bounds. Shared-string counts are judged once every byte is counted.
    """
    budget = _Budget(limits["max_uncompressed_bytes"], limits["max_compression_ratio"])
    patterns = scan_patterns(limits)
    kept: dict[str, bytes] = {}
    shared_strings: list[tuple[dict[str, str], int]] = []
    for info in infos:
        if info.is_dir():
            continue
        lower = info.filename.lower()
        try:
            member = _stream_member(zf, info, budget, patterns, limits)
            _check_sheet_extent(zf, info, member, limits)
            if lower.endswith("sharedstrings.xml"):
                shared_strings.append((_shared_string_counts(member.sst_head), member.size))
        except (Refused, MemoryError):
            raise
        except Exception as exc:  # noqa: BLE001 - BadZipFile, zlib.error, EOFError, NotImplementedError…
            raise Refused(
                "F001", f"部件 {info.filename} 无法解压或解析，文件可能已损坏或加密（{short_error(exc)}）"
            ) from exc
        if member.kept is not None:
            kept[lower] = member.kept
    for counts, member_bytes in shared_strings:
        _check_shared_strings(counts, member_bytes, budget.total, limits)
    return kept


def _stream_member(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    budget: _Budget,
    patterns: ScanPatterns,
    limits: dict[str, int],
) -> _Member:
    lower = info.filename.lower()
    keep = lower in _SMALL_PARTS
    is_shared_strings = lower.endswith("sharedstrings.xml")
    is_xml = lower.endswith(".xml") and not is_shared_strings
    member = _Member()
    parts: list[bytes] = []
    tail = b""
    with zf.open(info) as stream:
        while chunk := stream.read(CHUNK_BYTES):
            member.size += len(chunk)
            budget.count(info, member.size, len(chunk))
            if keep:
                parts.append(chunk)
                keep = member.size <= _SMALL_PART_MAX
            if is_shared_strings and len(member.sst_head) < _SST_HEAD_BYTES:
                member.sst_head += chunk[: _SST_HEAD_BYTES - len(member.sst_head)]
            if is_xml:
                window = tail + chunk
                tall, found = scan_extents(window, patterns, limits)
                member.positional = member.positional or found
                member.tallest = max(member.tallest, tall)
                tail = window[-WINDOW_OVERLAP:]
    if keep:
        member.kept = b"".join(parts)
    return member


def _check_sheet_extent(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, member: _Member, limits: dict[str, int]
) -> None:
    """The exact range of a sheet the scan could not judge: rows placed by position, or a tall sheet."""
    if member.positional:
        rows, cols = exact_extent(zf, info)
        check_extent(rows, cols, limits)
        check_cells(rows, cols, limits)
    elif member.tallest:
        check_tall_sheet(zf, info, member.tallest, limits)


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
            raise Refused("F001", f"工作簿的文字表声明的条目数“{text[:20]}”不是数字，文件可能已损坏")
        if declared > room:
            raise Refused(
                "F001",
                f"工作簿声明含有 {declared} 条文字，远多于文件实际能容纳的数量，文件可能已损坏或被改动过",
            )
        if attribute == "uniqueCount" and declared > cap:
            raise Refused("F002", f"{limit_note('max_shared_strings')}；本文件声明 {declared} 条")


def _sheet_members(small: dict[str, bytes], names: dict[str, str]) -> dict[str, str]:
    """Sheet name → its worksheet member, from xl/workbook.xml and its relationships."""
    try:
        workbook = ElementTree.fromstring(small.get("xl/workbook.xml", b""))
        rels = ElementTree.fromstring(small.get("xl/_rels/workbook.xml.rels", b"<r/>"))
    except ValueError as exc:  # expat: "multi-byte encodings are not supported" (GBK, Big5… declared)
        raise Refused(
            "F001", "工作簿目录声明了 Excel 不使用的字符编码（如 GBK），文件可能由其他程序生成或已被改动"
        ) from exc
    except Exception as exc:  # noqa: BLE001 - ParseError, or whatever else expat meets in bad bytes
        raise Refused("F001", f"工作簿目录 xl/workbook.xml 无法解析（{short_error(exc)}）") from exc
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
