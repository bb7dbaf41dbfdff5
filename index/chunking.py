"""Sentence-aware chunking with overlap, by character offsets.

Chunks are runs of whole sentences inside one cleaned block, so `text[start:end]` is the
chunk verbatim and a citation can always point back at the original words.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from itertools import takewhile

from .items import item_spans, opened_in
from .tables import Tables
from .types import Chunk, Opened, TableRow

# A sentence ends at . ! ? (plus closing quotes/brackets) followed by whitespace, or at a
# line break that is not a soft wrap (see `_hard_break`). Abbreviations and initials are
# not sentence ends.
_END = re.compile(r"""[.!?]+["'”’)\]]*(?=\s)|\n""")
_ABBREVIATIONS = frozenset(
    (
        "mr mrs ms dr prof sr jr st mt gen gov sen rep col lt sgt capt inc ltd co corp vs "
        "etc e.g i.e u.s u.k u.n no jan feb mar apr jun jul aug sep sept oct nov dec "
        "al fig figs eq eqs sec vol pp cf approx dept est ca ch"
    ).split()
)
# A line that starts a structural element of its own: a list item, a heading, a table
# row, a code fence, a quote, an HTML tag. A line break before (or after) one is real.
_STRUCTURAL = re.compile(
    r"[ \t]*(?:[-*+•▪◦]\s|\d{1,3}[.)]\s|#|\||```|~~~|>|<|\[\^?\w|\w+ \(quoted\)\s*:)"
)  # ...or a turn label that `neutralize` quoted ("AI (quoted):")
_TURN = re.compile(r"[ \t>#*]*\w+ \(quoted\)\s*:")
_CLOSED = re.compile(r"""[.!?:;]["'”’)\]*_`]*$""")


def _is_abbreviation(text: str, dot: int) -> bool:
    if text[dot] != ".":
        return False
    word_start = dot
    while word_start > 0 and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:dot].lower().strip("\"'“‘(")
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _continues_lowercase(text: str, pos: int, end: int) -> bool:
    """A period followed by a lowercase word ("5 p.m. on Friday") does not end a sentence."""
    while pos < end and text[pos] in " \t":
        pos += 1
    return pos < end and text[pos].islower()


def _line_at(text: str, pos: int, start: int, end: int) -> str:
    """The line around `pos`, bounded by [start, end)."""
    s = text.rfind("\n", start, pos) + 1 if pos > start else start
    e = text.find("\n", pos, end)
    return text[max(s, start) : e if e >= 0 else end]


def is_wrapped(text: str, start: int = 0, end: int | None = None) -> bool:
    """True for hard-wrapped prose (a PDF page, a Markdown file wrapped at 80 columns),
    where most line breaks fall inside a sentence.

    Counted over adjacent prose lines: in wrapped text most of them end without closing
    punctuation; in one-paragraph-per-line text (news, HTML blocks) almost all end with
    it. The two cases are far apart, so the middle is a safe line between them.
    """
    end = len(text) if end is None else end
    lines = text[start:end].split("\n")
    open_, pairs = 0, 0
    for before, after in zip(lines, lines[1:], strict=False):
        if not before.strip() or not after.strip():
            continue
        if _STRUCTURAL.match(before) or _STRUCTURAL.match(after):
            continue
        pairs += 1
        open_ += not _CLOSED.search(before.rstrip())
    return pairs >= 2 and open_ * 2 > pairs


def _hard_break(text: str, nl: int, start: int, end: int, wrapped: bool) -> bool:
    """Whether the line break at `nl` ends a sentence.

    A blank line, a heading, a list item or a table row always does. Otherwise a line
    that does not close its sentence continues on the next one when the text is wrapped,
    or when the next line starts in lowercase ("...at two\nuniversities").
    """
    nxt = nl + 1
    if nxt >= end or text[nxt] in "\r\n":
        return True
    before = _line_at(text, nl, start, end)
    after = _line_at(text, nxt, start, end)
    if not before.strip() or not after.strip():
        return True
    if _STRUCTURAL.match(after) or before.lstrip().startswith(("#", "|", "```", "~~~")):
        return True
    if _TURN.match(before):
        return True  # a quoted chat turn is a line of its own
    if _CLOSED.search(before.rstrip()):
        return True
    first = after.lstrip()[:1]
    return not (wrapped or first.islower() or before.rstrip().endswith(("-", ",")))


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) spans of sentences in text[start:end], trimmed of surrounding space.

    A sentence may run over line breaks (wrapped text); its span then includes them, so
    `text[s:e]` stays the exact original.
    """
    end = len(text) if end is None else end
    wrapped = is_wrapped(text, start, end)
    spans: list[tuple[int, int]] = []
    pos = start
    for match in _END.finditer(text, start, end):
        if match.group() == "\n":
            if not _hard_break(text, match.start(), start, end, wrapped):
                continue
        elif _is_abbreviation(text, match.start()) or _continues_lowercase(text, match.end(), end):
            continue
        spans.append((pos, match.end()))
        pos = match.end()
    spans.append((pos, end))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


LEAD_IN = re.compile(r""":["'”’)\]*_`]*$""")  # a sentence that introduces what follows
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def introduced(text: str, spans: Sequence[tuple[int, int]], i: int) -> int:
    """Where sentence `i` (of `spans`, as `split_sentences` gives them) ends with what it
    introduces: a sentence ending in ":" ("... using this combination of CLI flags:")
    goes on through the lines after it, a blank line right after it included, up to the
    next blank line (the command, the list); any other sentence ends where it ends."""
    end = spans[i][1]
    if not LEAD_IN.search(text[spans[i][0] : end]):
        return end
    for a, b in spans[i + 1 :]:
        if end > spans[i][1] and _BLANK_LINE.search(text[end:a]):
            break
        end = b
    return end


def _split_long(text: str, s: int, e: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut an over-long sentence so no chunk exceeds `max_chars`: at its last line break
    in the second half of the room (a table with no full stop is one "sentence"; cut at a
    space, a row lost its last cells to the next chunk), else at its last space. Pieces
    cut at a line break share that line."""
    pieces = []
    while e - s > max_chars:
        cut = text.rfind("\n", s + max_chars // 2, s + max_chars)
        last = text.rfind("\n", s, cut) + 1 if cut > s else 0  # the piece's last line
        cut = cut if cut > s else text.rfind(" ", s + 1, s + max_chars)
        cut = cut if cut > s else s + max_chars
        pieces.append((s, cut))
        if s < last and cut - last < max_chars // 4:
            # The next piece repeats this one's last line, as chunks share a sentence: two
            # chunks of a table retrieved together then join into one passage in reading
            # order (`index.window.merge_overlapping`) instead of two in rank order, the
            # column heads away from the rows under them. (A short line, so the next cut
            # lies past this one.)
            s = last
            continue
        s = cut
        while s < e and text[s].isspace():
            s += 1
    if e > s:
        pieces.append((s, e))
    return pieces


Block = tuple[int, int] | tuple[int, int, str]  # (start, end[, heading path])


def chunk_spans(
    text: str,
    blocks: Iterable[Block],
    max_chars: int = 700,
    overlap_sentences: int = 1,
) -> list[tuple[int, int, str, Opened | None]]:
    """Group sentences into chunks of at most `max_chars`, sharing `overlap_sentences`;
    a chunk never crosses a block, and carries its block's heading path, and the head of
    the table or keyed list item it opens inside (which it no longer holds itself), and
    that item as `Chunk.opened` gives it."""
    if max_chars < 50:
        raise ValueError("max_chars must be at least 50")
    spans: list[tuple[int, int, str, Opened | None]] = []
    tables = Tables(text)
    items = item_spans(text)
    item_starts = [span.start for span in items]
    for block in blocks:
        block_start, block_end = block[0], block[1]
        heading = block[2] if len(block) > 2 else ""  # type: ignore[misc]
        sentences = [
            piece
            for s, e in split_sentences(text, block_start, block_end)
            for piece in _split_long(text, s, e, max_chars)
        ]
        i = 0
        while i < len(sentences):
            j = i + 1
            while j < len(sentences) and sentences[j][1] - sentences[i][0] <= max_chars:
                j += 1
            start = sentences[i][0]
            heading_here = tables.under_head(start, heading)
            opened = None
            if item := opened_in(items, item_starts, start):
                heading_here = f"{heading_here} > {item.head}" if heading_here else item.head
                opened = (item.end, item.keys)
            spans.append((start, sentences[j - 1][1], heading_here, opened))
            if j >= len(sentences):
                break
            # Step forward, keeping the overlap but always making progress.
            i = max(i + 1, j - overlap_sentences)
    return spans


def runs_on(before: str, after: str) -> bool:
    """Whether the last sentence of `before` goes on at the start of `after`: a PDF page
    that ends mid-sentence. The same test as a soft line wrap inside a page."""
    joined = f"{before}\n{after}"
    return not _hard_break(joined, len(before), 0, len(joined), is_wrapped(joined))


def page_spans(text: str, pages: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The pages, with a sentence that runs over a page break kept whole on the page where
    it starts. Pages whose sentence runs on are joined by a single line break (see
    `index.extract.pdf_text`); any other joint keeps its blank line and its page edge."""
    spans: list[tuple[int, int]] = []
    lo = pages[0][0] if pages else 0
    for i, (ps, pe) in enumerate(pages):
        lo, hi = max(lo, ps), pe
        if i + 1 < len(pages) and "\n\n" not in text[pe : pages[i + 1][0]]:
            ahead = split_sentences(text, lo, pages[i + 1][1])
            hi = next((e for s, e in ahead if s < pe < e), pe)
        spans.append((lo, hi))
        lo = hi
    return spans


def page_blocks(
    text: str, blocks: Iterable[Block], pages: Sequence[tuple[int, int]]
) -> list[Block]:
    """Cut blocks at page edges, so every chunk (and citation) lies on one page; a
    sentence that runs over an edge stays whole on the page where it starts."""
    if not pages:
        return list(blocks)
    spans = page_spans(text, pages)
    return [
        (max(b[0], ps), min(b[1], pe), *b[2:])  # type: ignore[misc]
        for b in blocks
        for ps, pe in spans
        if max(b[0], ps) < min(b[1], pe)
    ]


def chunk_document(
    source: str,
    title: str,
    text: str,
    blocks: Iterable[Block],
    max_chars: int = 700,
    overlap_sentences: int = 1,
    pages: Sequence[tuple[int, int]] = (),
    rows: Sequence[TableRow] = (),
    author: str = "",
) -> list[Chunk]:
    """The document's chunks, each with its page, heading path and the table rows it
    touches (`rows`: the document's, sorted and apart, as `columns.locate` gives them),
    and the document's `author`."""
    starts = [ps for ps, _ in pages]
    ends = [r[1] for r in rows]
    return [
        Chunk(
            source=source,
            title=title,
            text=text[s:e],
            start=s,
            end=e,
            page=bisect_right(starts, s) if pages else None,
            heading=heading,
            rows=tuple(takewhile(lambda r, e=e: r[0] < e, rows[bisect_right(ends, s) :])),
            author=author,
            opened=opened,
        )
        for s, e, heading, opened in chunk_spans(
            text, page_blocks(text, blocks, pages), max_chars, overlap_sentences
        )
    ]
