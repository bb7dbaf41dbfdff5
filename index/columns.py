"""Which column each cell of a printed table sits in, read from where PDFium draws it.

A PDF's text gives a table row as a label and its values, "Shutdown current EN = 0 V
1.5 4 µA", with nothing saying that 1.5 is typical and 4 the maximum when the minimum's
cell is empty; and a head wrapped over twelve lines ("Three Months / Ended Sep 30, /
2025 / Three Months / …") leaves the model to count columns. It counted wrong: the
typical shutdown current given as the maximum, a nine-month figure refused. The page
says it plainly: the cells of one column overlap horizontally, row under row, and the
head words over a column sit above it. So each row is written out again, one line per
value named by its row and column ("Shutdown current (Test Conditions: EN = 0 V), Max:
4 µA"), for the prompt only (`rag.prompts` shows the rows a question names): the
indexed text, offsets, citations and checks keep the row as printed (`Passage.rows`).

Columns come from overlap, not from a threshold: a table whose rows' cells do not fall
into separate columns is left alone. The one constant, `PHRASE_GAP`, tells a word space
from a column gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .tables import UNIT, VALUE, line_spans, printed_tables, row_values
from .types import Passage, TableRow

_CURRENCY = frozenset("$€£¥")
PHRASE_GAP = 0.5  # of the font size: wider than a word space, narrower than a column gap


@dataclass(frozen=True)
class LabelledRow:
    """One printed table row: its lines as the page's text gives them (a label wrapped
    over short lines, then the line of values), and the row with its cells named."""

    lines: tuple[str, ...]
    text: str
    label: str = ""  # the row's label ("Shutdown current"); "" for a table without one


@dataclass
class _Word:
    text: str
    left: float
    right: float
    line: int
    size: float = 0.0  # the height of its font's boxes: about the font size
    bottom: float = 0.0
    top: float = 0.0


def _words(textpage: Any, line: str, start: int, number: int) -> list[_Word]:
    """The words of one line of the page's text, each with its horizontal extent. Two
    glyphs a word space apart are two words even with no space between them in the text
    (a head "X Y" set without a space glyph reads "XY"); a currency sign set apart from
    its number ("$ 412.6") joins it."""
    words: list[_Word] = []
    current: _Word | None = None
    for i, ch in enumerate(line, start):
        if not ch.strip():
            current = None
            continue
        left, low, right, high = textpage.get_charbox(i)
        _, bottom, _, top = textpage.get_charbox(i, loose=True)
        size = top - bottom
        if current is not None and left - current.right >= PHRASE_GAP * max(size, current.size):
            current = None
        if current is None:
            current = _Word(ch, left, right, number, size, low, high)
            words.append(current)
        else:
            current.text += ch
            current.left, current.right = min(current.left, left), max(current.right, right)
            current.size = max(current.size, size)
            current.bottom, current.top = min(current.bottom, low), max(current.top, high)
    joined: list[_Word] = []
    for w in words:
        if joined and joined[-1].text in _CURRENCY:
            sign = joined.pop()
            w = _Word(
                sign.text + w.text,
                min(sign.left, w.left),
                w.right,
                number,
                w.size,
                min(sign.bottom, w.bottom),
                max(sign.top, w.top),
            )
        joined.append(w)
    return joined


def _near(a: _Word, b: _Word) -> bool:
    """Whether `b`, right of `a` on its line, is a word space away: the same phrase."""
    return b.left - a.right < PHRASE_GAP * max(a.size, b.size)


def _columns(rows: Sequence[list[_Word]]) -> list[list[_Word]] | None:
    """The rows' words grouped into columns, left to right: words of two rows whose
    extents overlap share a column. None when some row has two cells in one column
    apart (words between them elsewhere) — no grid, so no table to name."""
    words = [w for row in rows for w in row]
    parent = list(range(len(words)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    order = sorted(range(len(words)), key=lambda i: words[i].left)
    for a, i in enumerate(order):  # sweep: every later word starting before i ends
        for j in order[a + 1 :]:
            if words[j].left > words[i].right:
                break
            if words[i].line != words[j].line:
                parent[find(i)] = find(j)
    groups: dict[int, list[_Word]] = {}
    for i, w in enumerate(words):
        groups.setdefault(find(i), []).append(w)
    columns = _phrases(rows, sorted(groups.values(), key=lambda ws: min(w.left for w in ws)))
    # A grid: on each line, a column's words are one run (no other column's between)
    index = {id(w): c for c, ws in enumerate(columns) for w in ws}
    for row in rows:
        seen: list[int] = []
        for w in sorted(row, key=lambda w: w.left):
            c = index[id(w)]
            if seen and seen[-1] != c and c in seen:
                return None
            if not seen or seen[-1] != c:
                seen.append(c)
    return columns


def _phrases(rows: Sequence[list[_Word]], columns: list[list[_Word]]) -> list[list[_Word]]:
    """Neighbouring columns whose words, on every row that has both, stand a word space
    apart are one column of phrases: left-aligned words ("EN = 0 V", "VIN rising") line
    up only at their first. A word space is about a third of the font size, a column
    gap a font size or more (the datasheet probe: 0.29-0.38 against 1.7 and up); half
    the font size lies between, whatever the font."""
    where = {id(w): c for c, ws in enumerate(columns) for w in ws}
    merged = list(range(len(columns)))  # each column's leftmost partner
    for c in range(1, len(columns)):
        near, both = True, 0
        for row in rows:
            left = [w for w in row if where[id(w)] == c - 1]
            right = [w for w in row if where[id(w)] == c]
            if left and right:
                both += 1
                a, b = max(left, key=lambda w: w.right), min(right, key=lambda w: w.left)
                near = near and _near(a, b)
        if both and near:
            merged[c] = merged[c - 1]
    out: dict[int, list[_Word]] = {}
    for c, ws in enumerate(columns):
        out.setdefault(merged[c], []).extend(ws)
    return list(out.values())


def _heads(head: Sequence[_Word], columns: Sequence[list[_Word]]) -> list[str]:
    """Each column's head: the head phrases above it, top line first. A phrase over two
    columns heads both ("Three Months Ended" over its two years); one over none heads
    the column nearest its centre ("Mary Johnson" wider than its narrow numbers)."""
    spans = [(min(w.left for w in ws), max(w.right for w in ws)) for ws in columns]
    phrases: list[list[_Word]] = []
    for w in sorted(head, key=lambda w: (w.line, w.left)):
        last = phrases[-1][-1] if phrases else None
        if last is not None and last.line == w.line and _near(last, w):
            phrases[-1].append(w)
        else:
            phrases.append([w])
    names: list[list[str]] = [[] for _ in columns]
    for phrase in phrases:
        lo, hi = phrase[0].left, phrase[-1].right
        over = [c for c, (a, b) in enumerate(spans) if lo <= b and a <= hi]
        if not over:
            mid = (lo + hi) / 2
            over = [min(range(len(spans)), key=lambda c: abs(sum(spans[c]) / 2 - mid))]
        for c in over:
            names[c].extend(w.text for w in phrase)
    return [" ".join(n) for n in names]


def _cell(words: Sequence[_Word]) -> str:
    return " ".join(w.text for w in sorted(words, key=lambda w: w.left))


def _numbers(cell: str) -> int:
    return sum(any(ch.isdigit() for ch in token) for token in cell.split())


def _named(
    label: str, cells: Sequence[str], heads: Sequence[str], units: Sequence[bool]
) -> str | None:
    """A row written with each value named by its row and column ("Shutdown current (Test
    Conditions: EN = 0 V), Max: 4 µA"), a unit column's unit after the values left of
    it. None when a cell with a number has no head, or holds two numbers (two columns
    read as one: no grid after all)."""
    parts: list[list] = []  # [head, cell, a value, still without its unit]
    for cell, head, unit in zip(cells, heads, units, strict=True):
        if unit:  # the values since the last unit column are in this one's unit
            for part in parts:
                if part[3] and cell:
                    part[1] = f"{part[1]} {cell}"
                part[3] = False
            continue
        if cell and (not head or _numbers(cell) > 1):
            return None
        if cell:
            value = bool(VALUE.fullmatch(cell))
            parts.append([head, cell, value, value])
    if not parts:
        return None
    # One line per value, with its row's label and its column's head: the 1.5B model
    # took the wrong column from a row of four ("Operating income — Three Months …:
    # 61.8; …"), and from one line per value took the right one (tables probe: t16 and
    # t17 right, against t16 only). A row without a label stays one line.
    context = "; ".join(f"{h}: {c}" for h, c, value, _ in parts if not value or not label)
    if not label:
        return context
    name = f"{label} ({context})" if context else label
    return "\n".join(f"{name}, {h}: {c}" for h, c, value, _ in parts if value)


def _table_rows(
    lines: Sequence[str], head: Sequence[_Word], rows: Sequence[list[list[_Word]]]
) -> list[LabelledRow]:
    """`rows`: each row's lines' words (label pieces wrapped above, then the line of
    values). Nothing when the rows' cells fall into no grid, or two columns have one
    name (a head read in part: "X", "Y", "X", "Y" under "Read" and "Write")."""
    columns = _columns([row[-1] for row in rows])
    if columns is None or len(columns) < 3:
        return []
    heads = _heads(head, columns)
    where = {id(w): c for c, ws in enumerate(columns) for w in ws}
    # The first column holds the labels when it has words, not only values
    first = int(any(not any(ch.isdigit() for ch in w.text) for w in columns[0]))
    # A column of units ("µA", "V", "TB") names no value: its unit goes with the values
    units = [bool(c) and all(UNIT.fullmatch(w.text) for w in ws) for c, ws in enumerate(columns)]
    named_heads = [h for c, h in enumerate(heads) if c >= first and not units[c] and h]
    if len(set(named_heads)) < len(named_heads):
        return []
    lo, hi = min(w.left for w in columns[0]), max(w.right for w in columns[0])
    out = []
    for row in rows:
        cells: list[list[_Word]] = [[] for _ in columns]
        for w in row[-1]:
            cells[where[id(w)]].append(w)
        texts = [_cell(ws) for ws in cells]
        # A label wraps inside its column: short lines above, under the labels' extent
        pieces = row[:-1] if first else []
        while pieces and not all(lo <= w.left and w.right <= hi for w in pieces[0]):
            pieces = pieces[1:]
        label = " ".join([*(_cell(p) for p in pieces), texts[0] if first else ""]).strip()
        named = _named(label, texts[first:], heads[first:], units[first:])
        if named is None:
            return []  # one row off the grid: the columns are not what they seem
        used = [p[0].line for p in pieces if p] + [row[-1][0].line]
        key = tuple(" ".join(lines[n].split()) for n in used)
        out.append(LabelledRow(key, named, label))
    return out


def _head_lines(heads: list[list[_Word]]) -> list[_Word]:
    """The head's lines that are set as one block over the rows: going up from the
    lowest, a line more than its height above the block belongs to something else (a
    running head over the page's first table). Lines of a wrapped head come column by
    column ("Three Months / Ended Sep 30, / 2025 / Three Months …"), so by height."""
    kept: list[_Word] = []
    top, below = 0.0, 0.0  # the block's top, and the size of its highest line
    for line in sorted((x for x in heads if x), key=lambda x: min(w.top for w in x)):
        low, size = min(w.bottom for w in line), max(w.size for w in line)
        if kept and low - top > min(size, below):
            break
        if not kept or max(w.top for w in line) > top:
            top, below = max(w.top for w in line), size
        kept += line
    return kept


def page_rows(textpage: Any, raw: str) -> list[LabelledRow]:
    """Every row of the page's printed tables with its cells named by their columns.
    `raw`: the page's `get_text_range()`, one character per index of its boxes."""
    lines, starts, pos = [], [], 0
    for line in raw.split("\n"):
        starts.append(pos)
        lines.append(line.rstrip("\r"))
        pos += len(line) + 1

    def words(n: int) -> list[_Word]:
        return _words(textpage, lines[n], starts[n], n)

    out: list[LabelledRow] = []
    for start, end, _ in printed_tables(raw):  # offsets in `raw`, as `starts`
        numbers = [n for n, s in enumerate(starts) if start <= s < end]
        values = [n for n in numbers if row_values(lines[n])]
        if not values:
            continue
        head = _head_lines([words(n) for n in numbers if n < values[0]])
        rows = [[words(values[0])]]
        for before, n in zip(values, values[1:], strict=False):
            rows.append([words(m) for m in range(before + 1, n + 1)])
        out += _table_rows(lines, head, rows)
    return out


def locate(
    text: str, pages: Sequence[tuple[int, int]], rows: Sequence[tuple[int, LabelledRow]]
) -> tuple[TableRow, ...]:
    """Where each labelled row stands in the document's `text`: (start, end, label,
    named) of its lines on its page, in order. The page's text has been cleaned and neutralized
    since PDFium read it; a row whose lines are not found as they were is left out."""
    out: list[TableRow] = []
    at: dict[int, int] = {}  # each page's line where the search goes on
    split: dict[int, list[tuple[int, int, str]]] = {}
    for page, row in rows:
        if page >= len(pages):
            continue
        if page not in split:
            start, end = pages[page]
            split[page] = [
                (start + s, start + e, " ".join(line.split()))
                for s, e, line in line_spans(text[start:end])
            ]
        spans, n = split[page], len(row.lines)
        for i in range(at.get(page, 0), len(spans) - n + 1):
            if all(spans[i + k][2] == row.lines[k] for k in range(n)):
                out.append((spans[i][0], spans[i + n - 1][1], row.label, row.text))
                at[page] = i + n
                break
    return tuple(out)


def held_rows(passage: Passage) -> list[TableRow]:
    """The passage's table rows that it holds whole: a passage cut inside a row (a
    retry's budget, a sentence window) or beside it must not name its values."""
    return [r for r in passage.rows if passage.start <= r[0] and r[1] <= passage.end]
