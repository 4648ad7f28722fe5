"""The XML parts of an xlsx package besides the sheets, for pipelines.common.xlsx_direct: content types,
relationships, document properties (fixed: no author, a fixed date) and the shared strings (escaped as
xlsxwriter escapes them, so every reader reads the same text as from an xlsxwriter file)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from xml.sax.saxutils import escape

HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument."


# Shared strings needing more than <si><t>text</t></si>: an XML special, a control character or a
# non-character (escaped as xlsxwriter escapes them), a literal "_xHHHH_" (its underscore escaped), or an
# edge space (xml:space). Tested on the table joined by newlines: "^\s" / "\s$" then also flag a text
# holding a blank line or a space before a line break, which only sends it down the careful path.
_SST_CAREFUL = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$", re.M)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_ESCAPED_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")


def _si(text: str) -> str:
    """One shared string: control characters as _xHHHH_ (a literal _xHHHH_ keeps its text through an
    escaped underscore), XML specials escaped, edge spaces preserved."""
    text = _ESCAPED_ESCAPE.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    text = escape(text)
    if text[:1].isspace() or text[-1:].isspace():
        return f'<si><t xml:space="preserve">{text}</t></si>'
    return f"<si><t>{text}</t></si>"


def shared_strings_xml(strings: Sequence[str], references: int) -> str:
    """sharedStrings.xml: plain texts joined at once, the others through _si."""
    careful = _SST_CAREFUL.search
    if careful("\n".join(strings)) is None:
        body = "".join([f"<si><t>{s}</t></si>" for s in strings])
    else:
        body = "".join([_si(s) if careful(s) else f"<si><t>{s}</t></si>" for s in strings])
    return f'{HEAD}<sst xmlns="{MAIN}" count="{references}" uniqueCount="{len(strings)}">{body}</sst>'


def content_types(sheets: int, strings: bool) -> str:
    """[Content_Types].xml: every part's type."""

    def override(part: str, kind: str) -> str:
        return f'<Override PartName="/{part}" ContentType="{kind}"/>'

    items = [
        override("docProps/app.xml", f"{CT}extended-properties+xml"),
        override("docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml"),
        override("xl/styles.xml", f"{CT}spreadsheetml.styles+xml"),
        override("xl/theme/theme1.xml", f"{CT}theme+xml"),
        override("xl/workbook.xml", f"{CT}spreadsheetml.sheet.main+xml"),
    ]
    items += [
        override(f"xl/worksheets/sheet{s + 1}.xml", f"{CT}spreadsheetml.worksheet+xml") for s in range(sheets)
    ]
    if strings:
        items.append(override("xl/sharedStrings.xml", f"{CT}spreadsheetml.sharedStrings+xml"))
    return (
        f'{HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>' + "".join(items) + "</Types>"
    )


def workbook_rels(sheets: int, strings: bool) -> str:
    """xl/_rels/workbook.xml.rels: the sheets rId1.., then theme, styles, shared strings."""
    kind = f"{REL}/"
    rels = [(f"{kind}worksheet", f"worksheets/sheet{s + 1}.xml") for s in range(sheets)]
    rels += [(f"{kind}theme", "theme/theme1.xml"), (f"{kind}styles", "styles.xml")]
    if strings:
        rels.append((f"{kind}sharedStrings", "sharedStrings.xml"))
    body = "".join(
        f'<Relationship Id="rId{k + 1}" Type="{t}" Target="{target}"/>' for k, (t, target) in enumerate(rels)
    )
    return f'{HEAD}<Relationships xmlns="{PKG_REL}">{body}</Relationships>'


def core_xml(title: str, subject: str) -> str:
    """docProps/core.xml: title and subject, no author, a fixed date."""
    created = '<dcterms:{0} xsi:type="dcterms:W3CDTF">2000-01-01T00:00:00Z</dcterms:{0}>'
    return (
        f"{HEAD}<cp:coreProperties "
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{escape(title)}</dc:title><dc:subject>{escape(subject)}</dc:subject>"
        "<dc:creator></dc:creator><cp:lastModifiedBy></cp:lastModifiedBy>"
        f"{created.format('created')}{created.format('modified')}</cp:coreProperties>"
    )


def app_xml(names: Sequence[str]) -> str:
    """docProps/app.xml: the sheet names."""
    n = len(names)
    names = "".join(f"<vt:lpstr>{escape(name)}</vt:lpstr>" for name in names)
    return (
        f'{HEAD}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
        'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        "<Application>Microsoft Excel</Application><DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop>"
        '<HeadingPairs><vt:vector size="2" baseType="variant"><vt:variant><vt:lpstr>Worksheets</vt:lpstr>'
        f"</vt:variant><vt:variant><vt:i4>{n}</vt:i4></vt:variant></vt:vector></HeadingPairs>"
        f'<TitlesOfParts><vt:vector size="{n}" baseType="lpstr">{names}</vt:vector></TitlesOfParts>'
        "<Company></Company><LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc>"
        "<HyperlinksChanged>false</HyperlinksChanged><AppVersion>12.0000</AppVersion></Properties>"
    )


ROOT_RELS = (
    f'{HEAD}<Relationships xmlns="{PKG_REL}">'
    f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
    f'<Relationship Id="rId2" Type="{PKG_REL}/metadata/core-properties" Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{REL}/extended-properties" Target="docProps/app.xml"/></Relationships>'
).encode()
