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
from dataclasses import dataclass

from .structure import heading_text

# A list item's line: a bullet or a number, then its text
ITEM = re.compile(r"^\s*(?:[*+-]|\d{1,2}[.)])\s+(.*)$")
# What ends an item's key: a dash or a colon ("`-i` --- edit", "**Default**: 30")
ITEM_SEPARATOR = re.compile(r"\s(?:-{1,3}|—|–)\s|:\s")
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
    as a heading path shows it (no code ticks or emphasis: "NODE_REPL_HISTORY_SIZE")."""

    start: int
    after: int
    end: int
    head: str


def item_spans(text: str) -> list[ItemSpan]:
    """Every keyed item of `text`, in order, none overlapping. An item goes on over its
    indented wrapped lines and blank lines; a line back at its marker's margin (or left
    of it) ends it, and so does the next list item, keyed or not."""
    spans: list[ItemSpan] = []
    open_: tuple[int, int, int, str] | None = None  # start, after, indent, head
    pos = last = 0  # last: where the open item's last non-blank line ends
    for line in text.split("\n"):
        start, pos = pos, pos + len(line) + 1
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        new_item = ITEM.match(line) is not None
        if open_ is not None and (new_item or indent <= open_[2]):
            spans.append(ItemSpan(open_[0], open_[1], last, open_[3]))
            open_ = None
        found = item_head(line) if new_item else None
        if found is not None:
            after = start + line.index(found[0]) + len(found[0])
            open_ = (start, after, indent, heading_text(found[0]))
        last = start + len(line)
    if open_ is not None:
        spans.append(ItemSpan(open_[0], open_[1], last, open_[3]))
    return spans


def opened_in(spans: list[ItemSpan], starts: list[int], offset: int) -> str:
    """The head of the keyed item that `offset` falls in after its head, else "": a
    chunk opening there ("Must be a positive number. **Default:** `1000`.") no longer
    says whose default it states. `starts`: the spans' starts."""
    i = bisect_right(starts, offset) - 1
    if i < 0 or not spans[i].after <= offset < spans[i].end:
        return ""
    return spans[i].head
