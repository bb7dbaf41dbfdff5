"""Sentence-aware chunking with overlap, by character offsets.

Chunks are runs of whole sentences inside one cleaned block, so `text[start:end]` is the
chunk verbatim and a citation can always point back at the original words.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence

from .types import Chunk

# A sentence ends at . ! ? (plus closing quotes/brackets) followed by whitespace, or at a
# line break. Abbreviations and initials are not sentence ends.
_END = re.compile(r"""[.!?]+["'”’)\]]*(?=\s)|\n""")
_ABBREVIATIONS = frozenset(
    (
        "mr mrs ms dr prof sr jr st mt gen gov sen rep col lt sgt capt inc ltd co corp vs "
        "etc e.g i.e u.s u.k u.n no jan feb mar apr jun jul aug sep sept oct nov dec"
    ).split()
)


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


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) spans of sentences in text[start:end], trimmed of surrounding space."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for match in _END.finditer(text, start, end):
        if match.group() != "\n" and (
            _is_abbreviation(text, match.start()) or _continues_lowercase(text, match.end(), end)
        ):
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


def _split_long(text: str, s: int, e: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut an over-long sentence at spaces so no chunk exceeds `max_chars`."""
    pieces = []
    while e - s > max_chars:
        cut = text.rfind(" ", s + 1, s + max_chars)
        cut = cut if cut > s else s + max_chars
        pieces.append((s, cut))
        s = cut
        while s < e and text[s].isspace():
            s += 1
    if e > s:
        pieces.append((s, e))
    return pieces


def chunk_spans(
    text: str,
    blocks: Iterable[tuple[int, int]],
    max_chars: int = 700,
    overlap_sentences: int = 1,
) -> list[tuple[int, int]]:
    """Group sentences into chunks of at most `max_chars`, sharing `overlap_sentences`."""
    if max_chars < 50:
        raise ValueError("max_chars must be at least 50")
    spans: list[tuple[int, int]] = []
    for block_start, block_end in blocks:
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
            spans.append((sentences[i][0], sentences[j - 1][1]))
            if j >= len(sentences):
                break
            # Step forward, keeping the overlap but always making progress.
            i = max(i + 1, j - overlap_sentences)
    return spans


def page_blocks(
    blocks: Iterable[tuple[int, int]], pages: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Cut blocks at page boundaries, so every chunk (and citation) lies on one page."""
    if not pages:
        return list(blocks)
    return [
        (max(s, ps), min(e, pe)) for s, e in blocks for ps, pe in pages if max(s, ps) < min(e, pe)
    ]


def chunk_document(
    source: str,
    title: str,
    text: str,
    blocks: Iterable[tuple[int, int]],
    max_chars: int = 700,
    overlap_sentences: int = 1,
    pages: Sequence[tuple[int, int]] = (),
) -> list[Chunk]:
    starts = [ps for ps, _ in pages]
    return [
        Chunk(
            source=source,
            title=title,
            text=text[s:e],
            start=s,
            end=e,
            page=bisect_right(starts, s) if pages else None,
        )
        for s, e in chunk_spans(text, page_blocks(blocks, pages), max_chars, overlap_sentences)
    ]
