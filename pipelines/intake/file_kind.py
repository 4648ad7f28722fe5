"""What a submitted file that is not an Excel workbook is, in words, so the official knows what to re-save.

Judged from the first bytes (magic numbers, then the text itself) or, for a zip, from the parts it holds.
"""

from __future__ import annotations

import zipfile

_MAGIC: tuple[tuple[bytes | tuple[bytes, ...], str], ...] = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "这是旧版 Excel 97-2003 工作簿（.xls）或设置了打开密码的加密文件"),
    (b"%PDF", "这是 PDF 文件"),
    ((b"Rar!", b"7z\xbc\xaf", b"\x1f\x8b"), "这是 RAR/7z/gzip 压缩包"),
    ((b"\x89PNG", b"\xff\xd8\xff", b"GIF8"), "这是图片文件"),
    (b"PK", "ZIP 文件头不完整，文件可能已损坏"),
)


def describe_non_zip(head: bytes) -> str:
    """What a file whose first bytes are `head` (not a zip's) looks like."""
    if not head:
        return "文件是空的（0 字节）"
    for magic, description in _MAGIC:
        if head.startswith(magic):
            return description
    text = _decode(head)
    if text is None:
        return f"无法识别的文件内容（开头字节 {head[:4].hex(' ').upper()}）"
    return _describe_text(text)


def _decode(head: bytes) -> str | None:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return head.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _describe_text(text: str) -> str:
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


def describe_zip(zf: zipfile.ZipFile, names: dict[str, str]) -> str:
    """What a zip without xl/workbook.xml is (`names`: lower-cased member name → name as stored)."""
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
