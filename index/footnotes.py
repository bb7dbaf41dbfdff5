"""Footnotes out of a PDF page's reading flow.

PDFium reads a page in content order, and typesetters often draw a page's footnotes
before its body: the Federal Register prints page 2's footnotes 1-9 between page 1's
"…after takeoff from Soekarno" and page 2's "Hatta International Airport …, resulting in
189 fatalities", so that sentence never reached one chunk. A footnote is told by its type:
a run of lines set clearly smaller than the page's body text (7 pt under 9 pt there),
opening with its number ("1Preliminary …", "12 See …"), two lines or more (one such line
is a caption), after some body line (a run that opens the page is its furniture). Such
runs are read after their page's body, whole and in order (and after the end of the
sentence the page breaks off, see `index.extract.pdf_text`); nothing else moves, and a
page without them is untouched.
"""

from __future__ import annotations

import ctypes
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from .visible import font_pt

# A footnote's type is at most this share of the body's (footnotes run 70-80% of body
# size in journals, court opinions and the Federal Register; small caps in a body line
# are a single line with no number and are never taken for one).
FOOTNOTE_SCALE = 0.85
_NOTE_START = re.compile(r"^\s*(?:\d{1,3}|[*†‡§])\s?[^\W\d_(]")  # "1Preliminary", "12 See"
Split = tuple[list[int], list[int]]  # a page's body lines, its footnote lines


def page_footnotes(textpage: Any, lines: Sequence[str]) -> Split | None:
    """`split_footnotes` for `lines`, `textpage.get_text_range().split("\\n")`. Type
    sizes cost a PDFium call per letter, so a page with no line that could open a footnote
    is not measured at all: most pages, which `split_footnotes` would leave as they are."""
    if not any(_NOTE_START.match(line) for line in lines):
        return None
    return split_footnotes(lines, line_sizes(textpage, lines))


def line_sizes(textpage: Any, lines: Sequence[str]) -> list[float | None]:
    """The median type size (points) of each line's letters, `lines` being
    `textpage.get_text_range().split("\\n")`; None for a line without letters."""
    import pypdfium2.raw as pdfium_c

    sizes: list[float | None] = []
    known: dict[int | None, float] = {}  # a text object's size, by address: read once
    pos = 0
    for line in lines:
        found = []
        for i, char in enumerate(line, pos):
            if char.isalpha():
                obj = pdfium_c.FPDFText_GetTextObject(textpage.raw, i)
                if obj:
                    key = ctypes.cast(obj, ctypes.c_void_p).value
                    if key not in known:
                        known[key] = font_pt(obj)
                    found.append(known[key])
        found.sort()
        sizes.append(found[len(found) // 2] if found else None)
        pos += len(line) + 1
    return sizes


def split_footnotes(lines: Sequence[str], sizes: Sequence[float | None]) -> Split | None:
    """The page's body lines and its footnote lines (indices into `lines`, each in
    content order), or None when the page has no footnote. The body size is the largest
    size a fifth of the page's letters are set in: not simply the commonest, since a
    page's footnotes may hold more letters than its body, nor a heading's, which holds
    few."""
    weight: Counter[float] = Counter()
    for line, size in zip(lines, sizes, strict=True):
        if size is not None:
            weight[round(size, 1)] += sum(c.isalpha() for c in line)
    if not weight:
        return None
    total = sum(weight.values())
    small = max(size for size, n in weight.items() if n >= total / 5) * FOOTNOTE_SCALE
    body: list[int] = []
    notes: list[int] = []
    i = 0
    while i < len(lines):
        size = sizes[i]
        if size is None or size >= small or not _NOTE_START.match(lines[i]):
            body.append(i)
            i += 1
            continue
        start = i
        i += 1
        # The run goes on over smaller lines, and over lines without letters ("2019,")
        # that are not blank; a blank line or body-sized type ends it.
        while i < len(lines) and lines[i].strip() and (sizes[i] is None or sizes[i] < small):
            i += 1
        # One small numbered line is a caption or a folio; a run before any body line is
        # the page's furniture ("366 Electronic version recreated by …", then the
        # journal's name), which the running-line check takes off the page's edge.
        if i - start >= 2 and any(lines[n].strip() for n in body):
            notes.extend(range(start, i))
        else:
            body.append(start)
    if not notes or not body:
        return None
    return body, notes
