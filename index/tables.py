"""Table rows of a PDF page, told by the gaps between their cells.

PDFium reads a table row as one line of words ("Operating temperature TA -40 125 °C"):
the columns are gone, an empty cell (no typical value) shifts every value after it, and
a page's prose is wrapped, so the sentence splitter ran the rows of a table together
into one "sentence" that a check or a quote could not point into. A row is told by its
layout: three cells or more, set apart by gaps far wider than the page's spaces between
words, on three lines in a row or more (a formula set in a justified paragraph spreads
one or two lines that way). Such rows are written as Markdown table rows, "| Operating
temperature | TA | -40 | | 125 | °C |": each is a line (a sentence) of its own, and a
row with fewer cells than its table has its cells under the columns they sit in, blanks
where a cell is empty.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

# A cell gap is this many times the page's gap between words (`_low`), or wider. Between
# words of prose PDFium's gaps vary little (justified lines stretch them by a fraction);
# table columns sit apart by several spaces. Chosen on the suite's eight PDFs and three
# generated ones (datasheets, a financial release): 3 finds the rows of their tables
# (GFS's, the tidy-data paper's, UNIX's usage tables) and no prose line; the scanned
# papers' OCR layers have none. Two-row runs are left out: Shazam's formula spread two
# lines of a paragraph over five "cells".
CELL_GAP = 3.0
MIN_CELLS = 3
MIN_ROWS = 3


def table_rows(textpage: Any, lines: Sequence[str], hidden: Collection[int] = ()) -> dict[int, str]:
    """The lines of `lines` (`textpage.get_text_range().split("\\n")`) that are table
    rows, by index, written as Markdown rows; hidden characters are left out."""
    words = [_words(textpage, line, start, hidden) for line, start in _starts(lines)]
    gaps = [b.left - a.right for line in words for a, b in zip(line, line[1:], strict=False)]
    if not gaps:
        return {}
    # ...and at least a letter wide, should a page set its words (nearly) touching
    letter = statistics.median((w.right - w.left) / len(w.text) for line in words for w in line)
    wide = max(CELL_GAP * _low(gaps), letter)
    cells = [_cells(line, wide) for line in words]
    out: dict[int, str] = {}
    n = 0
    while n < len(cells):
        end = n + 1
        while end < len(cells) and min(len(cells[end - 1]), len(cells[end])) >= MIN_CELLS:
            end += 1
        if end - n >= MIN_ROWS:
            for i, row in zip(range(n, end), _aligned(cells[n:end]), strict=True):
                out[i] = "| " + " | ".join(row) + " |"
        n = max(end, n + 1)
    return out


def _low(gaps: Sequence[float]) -> float:
    """The page's gap between words: a low quantile, as on a page that is mostly table
    most gaps are between cells."""
    ordered = sorted(gaps)
    return ordered[len(ordered) // 10]


@dataclass(frozen=True)
class _Span:
    """A word, or a cell of words, and where it sits on its line (points)."""

    text: str
    left: float
    right: float


def _starts(lines: Sequence[str]) -> list[tuple[str, int]]:
    out, pos = [], 0
    for line in lines:
        out.append((line, pos))
        pos += len(line) + 1
    return out


def _words(textpage: Any, line: str, start: int, hidden: Collection[int]) -> list[_Span]:
    """The line's visible words; only a word's first and last letters are measured (a
    PDFium call each), which is all its gaps need."""
    out = []
    for m in re.finditer(r"\S+", line):
        letters = [i for i in range(start + m.start(), start + m.end()) if i not in hidden]
        if letters:
            text = "".join(line[i - start] for i in letters)
            left = textpage.get_charbox(letters[0])[0]
            out.append(_Span(text, left, textpage.get_charbox(letters[-1])[2]))
    return out


def _cells(line: Sequence[_Span], wide: float) -> list[_Span]:
    cells: list[_Span] = []
    for word in line:
        if cells and word.left - cells[-1].right < wide:
            last = cells[-1]
            cells[-1] = _Span(f"{last.text} {word.text}", last.left, word.right)
        else:
            cells.append(word)
    return cells


def _aligned(rows: Sequence[Sequence[_Span]]) -> list[list[str]]:
    """The rows' cells under the columns of the table's fullest row: each cell goes to
    the column it overlaps most (or whose middle is nearest), cells that meet in one
    column are joined, and a column a row leaves empty stays blank."""
    grid = max(rows, key=len)
    out = []
    for row in rows:
        slots: list[list[str]] = [[] for _ in grid]
        for cell in row:
            slots[_column(grid, cell)].append(cell.text)
        out.append([" ".join(s) for s in slots])
    return out


def _column(grid: Sequence[_Span], cell: _Span) -> int:
    def overlap(c: _Span) -> float:
        return min(cell.right, c.right) - max(cell.left, c.left)

    best = max(range(len(grid)), key=lambda i: overlap(grid[i]))
    if overlap(grid[best]) > 0:
        return best
    middle = (cell.left + cell.right) / 2
    return min(range(len(grid)), key=lambda i: abs((grid[i].left + grid[i].right) / 2 - middle))
