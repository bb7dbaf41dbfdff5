"""Text out of a Word (.docx) file, in the shape our Markdown reader understands.

A Word document keeps its structure in styles and XML, not in its text: a heading is a
paragraph styled "Heading 2", a list item is a paragraph with numbering, a table sits
between two paragraphs. Written out as Markdown (`#` headings, `- `/`1. ` items, `a | b`
rows, in the order the body holds them), a .docx gets what a Markdown file gets: heading
paths on its chunks, list items the chunker and the checker know, a table under its own
section with its first row naming the columns.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from .errors import DocumentError, map_exceptions
from .extract import Extracted
from .visible import visible_run_text

# A cell's nested table is flattened into the cell: its cells joined by this, its rows by
# "; ". Never "|", which would add columns to the row that holds it.
_NESTED_CELL = ", "
_W = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}


def docx_text(data: bytes, name: str = "file") -> Extracted:
    """Paragraphs, list items and table rows of a Word document, in reading order."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    invalid = (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError)
    with map_exceptions(
        {
            invalid: lambda e: DocumentError(f"{name}: not a valid .docx file ({e})"),
            # lxml and zip errors on damaged packages
            Exception: lambda e: DocumentError(
                f"{name}: unreadable .docx ({type(e).__name__}: {e})"
            ),
        }
    ):
        document = docx.Document(io.BytesIO(data))
        blocks = _blocks(document)
    try:
        title = " ".join((document.core_properties.title or "").split())
    except Exception:  # noqa: BLE001  (damaged core properties: no title, not no document)
        title = ""
    # Consecutive list items are one list (a line each); everything else a paragraph.
    text, previous_item = "", False
    for block, item in blocks:
        if text:
            text += "\n" if item and previous_item else "\n\n"
        text += block
        previous_item = item
    return Extracted(text, markdown=True, title=title)


def _blocks(document: Any) -> list[tuple[str, bool]]:
    """(text, is a list item) for each non-empty paragraph and table row, in body order.

    python-docx's `paragraphs` and `tables` are two separate lists: read one after the
    other, every table landed at the end of the document, under its last heading.
    """
    from docx.table import Table

    # Word's "Title" style sits above "Heading 1": with one, headings go a level down so
    # that "Prices" (Heading 1) is "Annual report > Prices", not the title's sibling.
    titled = any(_style_name(p) == "title" for p in document.paragraphs)
    lists = _ListMarkers(document)
    notes = _Notes(document)
    blocks: list[tuple[str, bool]] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            blocks += [(row, False) for row in _table_rows(item)]
            element = item._tbl
        else:
            text, is_item = _paragraph(item, titled, lists)
            if text:
                blocks.append((text, is_item))
            element = item._p
        blocks += [(boxed, False) for boxed in _text_boxes(element, document)]
        blocks += [(note, False) for note in notes.cited(element)]
    return blocks


def _text_boxes(element: Any, document: Any) -> list[str]:
    """The paragraphs of the text boxes anchored in `element`, after it: a flyer's or a
    report's call-out is text python-docx does not read. Word writes a box twice, as a
    drawing and as its VML fallback for old readers: the fallback is skipped, and a box
    inside a box is read once, as its own paragraphs."""
    from docx.oxml.ns import qn

    box = qn("w:txbxContent")
    if next(element.iter(box), None) is None:
        return []  # the common case: no box, and no walk over a table's every cell
    fallback = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
    found = []
    for p in element.iter(qn("w:p")):
        if p is element:
            continue
        ancestors = {a.tag for a in p.iterancestors()}
        if box not in ancestors or fallback in ancestors:
            continue
        text = _said(p, document)
        if text:
            found.append(text)
    return found


def _said(paragraph: Any, document: Any) -> str:
    """The visible text, on one line, of a paragraph python-docx does not list (a note's,
    a text box's), given as its XML element."""
    from docx.text.paragraph import Paragraph

    return " ".join(visible_run_text(Paragraph(paragraph, document._body)).split())


class _Notes:
    """Footnotes and endnotes, each said right after the paragraph (or table) citing it,
    as "Footnote 1: …": python-docx reads neither, and a note holds facts (a source, a
    date, a condition) that belong to the sentence citing it, not to the document's end.
    Numbered per kind in citing order, as Word prints them; a note's hidden text stays
    out, as in the body."""

    _KINDS = (("footnote", "FOOTNOTES"), ("endnote", "ENDNOTES"))

    def __init__(self, document: Any) -> None:
        from docx.opc.constants import RELATIONSHIP_TYPE
        from docx.oxml import parse_xml
        from docx.oxml.ns import qn

        self.texts: dict[tuple[str, str], str] = {}
        self.counts: dict[str, int] = {}
        self.tags = {qn(f"w:{kind}Reference"): kind for kind, _ in self._KINDS}
        self.id = qn("w:id")
        for kind, reltype in self._KINDS:
            try:
                part = document.part.part_related_by(getattr(RELATIONSHIP_TYPE, reltype))
            except KeyError:
                continue  # the document has no notes of this kind
            for note in parse_xml(part.blob).iter(qn(f"w:{kind}")):
                if note.get(qn("w:type"), "normal") != "normal":
                    continue  # Word's separator lines
                said = (_said(p, document) for p in note.iter(qn("w:p")))
                text = " ".join(line for line in said if line)
                if text:
                    self.texts[(kind, note.get(self.id, ""))] = text

    def cited(self, element: Any) -> list[str]:
        """The notes `element` cites, in order, as paragraphs of their own."""
        if not self.texts:
            return []
        found = []
        for ref in element.iter(*self.tags):
            kind = self.tags[ref.tag]
            self.counts[kind] = self.counts.get(kind, 0) + 1
            text = self.texts.get((kind, ref.get(self.id, "")))
            if text:
                found.append(f"{kind.capitalize()} {self.counts[kind]}: {text}")
        return found


def _style_name(paragraph: Any) -> str:
    return (getattr(paragraph.style, "name", "") or "").lower()


def _paragraph(paragraph: Any, titled: bool, lists: _ListMarkers) -> tuple[str, bool]:
    """A paragraph as Markdown: "Heading N" and "Title" as `#` lines, a numbered or
    bulleted paragraph as a list item; (text, is a list item)."""
    text = " ".join(visible_run_text(paragraph).split())
    if not text:
        return "", False
    style = _style_name(paragraph)
    if style == "title":
        return "# " + text, False
    heading = re.match(r"heading (\d)", style)
    if heading:
        return "#" * min(6, int(heading.group(1)) + titled) + " " + text, False
    marker = lists.marker(paragraph)
    if marker is not None:
        return marker + text, True
    return text, False


def _table_rows(table: Any) -> list[str]:
    """Each row as "a | b | c". A cell merged across columns is one cell, said once (python-
    docx gives it for every grid column it spans); one merged down rows is said in each
    row, which then reads whole on its own."""
    rows = []
    for row in table.rows:
        kept: list[Any] = []
        cells = []
        for cell in row.cells:
            if any(cell._tc is tc for tc in kept):
                continue
            kept.append(cell._tc)
            cells.append(_cell_text(cell))
        if any(cells):
            rows.append(" | ".join(cells))
    return rows


def _cell_text(cell: Any) -> str:
    """A cell's paragraphs on one line (a line break would cut its row in two), and a
    nested table's rows flattened into it."""
    from docx.table import Table

    parts = []
    for item in cell.iter_inner_content():
        if isinstance(item, Table):
            parts += [row.replace(" | ", _NESTED_CELL) for row in _table_rows(item)]
            continue
        parts.append(" ".join(visible_run_text(item, cell).split()))
    return "; ".join(p for p in parts if p)


class _ListMarkers:
    """The Markdown marker of a numbered or bulleted paragraph ("- ", "2. ", "  - "), from
    the document's numbering definitions (bullet or number, start, level), counted the
    way Word counts: per list, a level's count restarting under each item above it."""

    def __init__(self, document: Any) -> None:
        try:
            self.numbering = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            self.numbering = None  # a document without numbering definitions
        self.counts: dict[tuple[str, int], int] = {}

    def marker(self, paragraph: Any) -> str | None:
        found = _numbering(paragraph)
        if found is None:
            return None
        num_id, level = found
        fmt, start = self._format(num_id, level, _style_name(paragraph))
        if fmt == "none":
            return None
        indent = "   " * level
        if fmt == "bullet":
            return indent + "- "
        for key in [k for k in self.counts if k[0] == num_id and k[1] > level]:
            del self.counts[key]  # a deeper level counts again under this item
        count = self.counts.get((num_id, level), start - 1) + 1
        self.counts[(num_id, level)] = count
        return f"{indent}{count}. "

    def _format(self, num_id: str, level: int, style: str) -> tuple[str, int]:
        """(numFmt, start) of a list level: "bullet", "decimal", "none", …"""
        guess = "bullet" if "bullet" in style or "number" not in style else "decimal"
        if self.numbering is None:
            return guess, 1
        try:
            num = self.numbering.num_having_numId(int(num_id))
        except (KeyError, ValueError):
            return guess, 1
        abstract = num.abstractNumId.val
        path = f'./w:abstractNum[@w:abstractNumId="{abstract}"]/w:lvl[@w:ilvl="{level}"]'
        lvl = self.numbering.xpath(path)
        if not lvl:
            return guess, 1
        fmt = lvl[0].xpath("./w:numFmt/@w:val", namespaces=_W)
        start = lvl[0].xpath("./w:start/@w:val", namespaces=_W)
        return (fmt[0] if fmt else guess), (int(start[0]) if start and start[0].isdigit() else 1)


def _numbering(paragraph: Any) -> tuple[str, int] | None:
    """(numId, level) of a paragraph's numbering: its own, else its style's (Word's
    "List Bullet" numbers through the style); None when it is no list item."""
    for ppr in _ppr_chain(paragraph):
        num_pr = ppr.numPr if ppr is not None else None
        if num_pr is None or num_pr.numId is None:
            continue
        num_id = str(num_pr.numId.val)
        if num_id == "0":  # numbering switched off for this paragraph
            return None
        level = num_pr.ilvl.val if num_pr.ilvl is not None else 0
        return num_id, int(level)
    return None


def _ppr_chain(paragraph: Any) -> list[Any]:
    """The paragraph's own properties, then its style's and their base styles'."""
    chain = [paragraph._p.pPr]
    style = paragraph.style
    seen = 0
    while style is not None and seen < 10:  # a style that is its own base ends here
        chain.append(getattr(style.element, "pPr", None))
        style, seen = style.base_style, seen + 1
    return chain
