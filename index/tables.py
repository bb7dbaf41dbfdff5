"""Where tables are, and the column names a chunk cut below them no longer holds.

Three shapes reach the chunker: Markdown tables (`| a | b |` lines), tables our HTML and
.docx extractors write as `a | b | c` lines, and printed tables in PDF text, where a row
is a label followed by its values ("Cloud Monitoring 151.7 117.3 29%") and the column
heads are the line(s) above the first row ("Segment Q3 2025 Q3 2024 Change"). A chunk
that opens on the third row shows the model "151.7 117.3 29%" with nothing saying which
is the year and which the change; the chunk's heading path gets the heads back.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence

Table = tuple[int, int, str]  # (start, end, column heads)

TABLE_RULE = re.compile(r"\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?")  # |---|:--:|

# One cell of a printed row: a number (sign, currency, thousands, decimals, percent,
# parentheses for negatives) or an empty cell's dash.
VALUE = re.compile(
    r"[(+\-−–<>~≈]?[$€£¥]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)[%)]*|[—–\-<>≤≥]|n/?a", re.IGNORECASE
)
# A unit after a value ("40 V", "24 µA", "165 °C", "3.5 ms").
UNIT = re.compile(r"[µμunmkKMGT]?(?:V|A|W|Ω|Hz|s|F|H|B|bps|Wh)|°[CF]|%|dB|ppm|[x×kKM]")
_YEAR = re.compile(r"(?:19|20)\d\d")
# A table's head line is short: the column names, not a sentence.
_HEAD_WORDS = 12
# A wrapped label or head piece ("Research and" / "development", "Three Months" /
# "Ended Sep 30,"): a few words, not a closed sentence or a caption in parentheses.
_PIECE_WORDS = 4
_CLOSED = re.compile(r"[.!?:;)\]]$")


def row_values(line: str) -> int:
    """How many values end `line` as a printed table row gives them (0: not a row).

    The last tokens must be values, a unit allowed after one, at least two of them in
    all ("412.6 361.9", "165 °C"); a line of years only is a column head, not a row."""
    if "|" in line:
        return 0
    tokens = line.split()
    n = len(tokens)
    while n and (VALUE.fullmatch(tokens[n - 1]) or (n > 1 and UNIT.fullmatch(tokens[n - 1]))):
        n -= 1
    values = tokens[n:]
    if len(values) < 2 or not VALUE.fullmatch(values[0]):
        return 0
    if n == 0 and all(_YEAR.fullmatch(t) for t in values):
        return 0
    return len(values)


def _numbers(line: str, values: int) -> int:
    """How many numbers end a printed row with `values` values (without their units)."""
    tokens = line.split()
    return sum(any(c.isdigit() for c in t) for t in tokens[len(tokens) - values :])


def _labelled(line: str, values: int) -> bool:
    """Whether a printed row with `values` values has a label before them."""
    return values < len(line.split())


def _piece(line: str) -> bool:
    words = line.split()
    return 0 < len(words) <= _PIECE_WORDS and not _CLOSED.search(line.rstrip())


def line_spans(text: str) -> list[tuple[int, int, str]]:
    """Each line of `text` as (start, end, stripped line): shared with `columns`, which
    reads the same rows."""
    out, pos = [], 0
    for line in text.split("\n"):
        out.append((pos, pos + len(line), line.strip()))
        pos += len(line) + 1
    return out


def _head_above(
    lines: Sequence[tuple[int, int, str]], values: Sequence[int], i: int
) -> tuple[int, str] | None:
    """The column heads over the printed row `lines[i]` (one with a label and two numbers
    or more, not a feature list's "… of 3.5 ms"): the line right above it when that is
    no sentence, with the short pieces of a head wrapped over lines above that
    ("Three Months" / "Ended Sep 30," / "2025" …). None when nothing above reads so.
    `values`: each line's `row_values`."""
    row = lines[i][2]
    if i == 0 or not _labelled(row, values[i]) or _numbers(row, values[i]) < 2:
        return None  # no label, or fewer than two numbers
    start, _, head = lines[i - 1]
    words = head.split()
    if not words or len(words) > _HEAD_WORDS or _CLOSED.search(head) or values[i - 1]:
        return None
    parts = [head]
    j = i - 2
    while j >= 0 and _piece(lines[j][2]) and not values[j]:
        start = lines[j][0]
        parts.insert(0, lines[j][2])
        j -= 1
    joined = " ".join(parts)
    if len(joined.split()) > 4 * _HEAD_WORDS:
        return None
    return start, joined


def printed_tables(text: str) -> list[Table]:
    """(start, end, heads) of each printed table of two rows or more: its head line(s),
    then rows of values. A row's label may wrap over short lines before its values
    ("Research and" / "development" / "79.3 71.6"); after two short lines, a row with a
    label of its own opens a new table under them."""
    tables: list[list] = []
    lines = line_spans(text)
    values = [row_values(line) for _, _, line in lines]
    current: list | None = None  # [start, end, heads, rows]
    gap = 0  # short lines since the last row
    for i, (_, end, line) in enumerate(lines):
        if values[i]:
            if current is not None and (gap < 2 or not _labelled(line, values[i])):
                current[1], current[3] = end, current[3] + 1
            elif head := _head_above(lines, values, i):
                current = [head[0], end, head[1], 1]
                tables.append(current)
            else:
                current = None
            gap = 0
        elif current is not None and _piece(line) and gap < 2:
            gap += 1
        else:
            current, gap = None, 0
    return [(s, e, h) for s, e, h, rows in tables if rows >= 2]


def _is_cells(line: str) -> bool:
    """A row of a Markdown table (its `---|---` rule too), or of a table our HTML/.docx
    extractors wrote."""
    return line.startswith("|") or " | " in line or bool(TABLE_RULE.fullmatch(line))


def cell_tables(text: str) -> list[Table]:
    """(start, end, first row) of each table of `|` rows, which goes on over blank lines
    between two rows of as many cells (a table over a page break). A Markdown table's
    first row is the one above its `|---|` rule, which opens a new table."""
    tables: list[list] = []
    row: tuple[int, int, str] | None = None  # the last table row, while a run goes on
    for start, end, cells in line_spans(text):
        if not _is_cells(cells):
            if cells:
                row = None  # prose ends the run; a blank line may not
            continue
        if TABLE_RULE.fullmatch(cells) and row is not None and row[1] == start - 1:
            if tables[-1][0] < row[0]:  # a new table right under the last one
                tables[-1][1] = row[0] - 1
                tables.append([row[0], end, row[2]])
            tables[-1][2] = row[2]
        elif row is None or (row[1] < start - 1 and row[2].count("|") != cells.count("|")):
            tables.append([start, end, cells])  # after a blank line, as many cells or anew
        tables[-1][1] = end
        row = (start, end, cells)
    # A table needs a row under its head, and a head with a word in it ("|" alone heads
    # a page's navigation bar, "(1 | id)" is a formula in a sentence).
    return [(s, e, h) for s, e, h in tables if "\n" in text[s:e] and any(c.isalnum() for c in h)]


class Tables:
    """Every table of one text, to ask which one a chunk opens inside."""

    def __init__(self, text: str) -> None:
        found = cell_tables(text) if "|" in text else []
        found += printed_tables(text)
        self.tables = sorted(found)
        self.starts = [s for s, _, _ in self.tables]

    def under_head(self, start: int, heading: str) -> str:
        """`heading`, and for a chunk that opens inside a table below its head, the head:
        the names of the columns the chunk's rows give values for ("| Parameter | Min |
        Typ | Max |"), which a chunk cut after them no longer holds."""
        i = bisect_right(self.starts, start) - 1
        if i < 0 or not self.tables[i][0] < start <= self.tables[i][1]:
            return heading
        head = self.tables[i][2]
        return f"{heading} > {head}" if heading else head
