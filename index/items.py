"""Keyed list items: "* `NODE_REPL_HISTORY_SIZE`: Controls how many lines …".

Reference documentation states most of its facts in such items: an option, a variable or
a flag, then what it does, its type and its default, often over several wrapped lines.
A fact there is about the item's key, which only the item's first line names; the
chunker (a chunk that opens below that line) and the answer checker (a number stated
only in items) both need to know whose it is.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .structure import heading_text

# A list item's line: a bullet or a number, then its text
ITEM = re.compile(r"^\s*(?:[*+-]|\d{1,2}[.)])\s+(.*)$")
# What ends an item's key: a dash or a colon ("`-i` --- edit", "**Default**: 30"), or
# the type in braces that API references put after a parameter's name ("`tabSize`
# {integer} The number of spaces…", Node's and JSDoc's style)
ITEM_SEPARATOR = re.compile(r"\s(?:-{1,3}|—|–)\s|:\s|\s\{[^{}\n]+\}(?:\s|$)")
# The key itself: code or bold text before the separator
ITEM_KEY = re.compile(r"`([^`\n]+)`|\*\*([^*\n]+)\*\*")


def item_head(line: str) -> tuple[str, list[str]] | None:
    """The text before a keyed item's separator and its keys ("`read-manifest`",
    ["read-manifest"]), else None: the line is no keyed item."""
    item = ITEM.match(line)
    sep = ITEM_SEPARATOR.search(item.group(1)) if item else None
    if item is None or sep is None:
        return None
    head = item.group(1)[: sep.start()]
    keys = [a or b for a, b in ITEM_KEY.findall(head)]
    return (head.strip(), keys) if keys else None


@dataclass(frozen=True)
class ItemSpan:
    """A keyed item in a text: its head ends at `after`, the item runs to `end`; `head`
    as a heading path shows it (no code ticks or emphasis: "NODE_REPL_HISTORY_SIZE"),
    `keys` as `item_head` gives them."""

    start: int
    after: int
    end: int
    head: str
    keys: tuple[str, ...] = ()


def item_owners(lines: Iterable[str]) -> Iterator[int | None]:
    """For each line, the index of the list item line it is part of, keyed or not, else
    None. An item goes on over its indented wrapped lines and blank lines; a line back
    at its marker's margin (or left of it) ends it, and so does the next list item."""
    open_: tuple[int, int] | None = None  # the open item's line index and indent
    for i, line in enumerate(lines):
        if line.strip():
            indent = len(line) - len(line.lstrip())
            if ITEM.match(line):
                open_ = (i, indent)
            elif open_ is not None and indent <= open_[1]:
                open_ = None
        yield open_[0] if open_ else None


def item_lines(lines: Iterable[str]) -> Iterator[tuple[str, list[str]] | None]:
    """For each line, the keyed item it belongs to (`item_head` of its first line, the
    same object for each of its lines), else None (`item_owners` groups the lines). One
    rule for the chunker (`item_spans`) and the answer checker."""
    lines = list(lines)
    heads: dict[int, tuple[str, list[str]] | None] = {}
    for owner in item_owners(lines):
        if owner is None:
            yield None
            continue
        if owner not in heads:
            heads[owner] = item_head(lines[owner])
        yield heads[owner]


def item_spans(text: str) -> list[ItemSpan]:
    """Every keyed item of `text` (see `item_lines`), in order, none overlapping; each
    ends with its last non-blank line."""
    spans: list[ItemSpan] = []
    lines = text.split("\n")
    current: tuple[str, list[str]] | None = None
    begin = after = pos = last = 0  # last: where the open item's last non-blank line ends
    for line, item in zip(lines, item_lines(lines), strict=True):
        start, pos = pos, pos + len(line) + 1
        if item is not current:
            if current is not None:
                spans.append(_span(begin, after, last, current))
            if item is not None:
                begin, after = start, start + line.index(item[0]) + len(item[0])
            current = item
        if item is not None and line.strip():
            last = start + len(line)
    if current is not None:
        spans.append(_span(begin, after, last, current))
    return spans


def _span(start: int, after: int, end: int, item: tuple[str, list[str]]) -> ItemSpan:
    return ItemSpan(start, after, end, heading_text(item[0]), tuple(item[1]))


def opened_in(spans: list[ItemSpan], starts: list[int], offset: int) -> ItemSpan | None:
    """The keyed item that `offset` falls in after its head, else None: a chunk opening
    there ("Must be a positive number. **Default:** `1000`.") no longer says whose
    default it states. `starts`: the spans' starts."""
    i = bisect_right(starts, offset) - 1
    if i < 0 or not spans[i].after <= offset < spans[i].end:
        return None
    return spans[i]
