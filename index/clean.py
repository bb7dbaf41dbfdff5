"""Find the article text inside a scraped page, and its headline.

Cleaning never edits the text (chunk offsets must map back exactly): it returns the
character spans worth indexing. Boilerplate lines split the text into blocks, and a
chunk never crosses a block boundary, so no chunk carries navigation or sign-up lines.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .tables import TABLE_RULE

# Whole-line patterns of web-page furniture: navigation, sign-ups, comment widgets,
# share bars, teasers that repeat the lead. Matched case-insensitively after stripping.
_BOILERPLATE = re.compile(
    r"""^(?:
        on\ now | newsletter | new | menu | home | advertisement | sponsored
      | card\ image\ cap | image\ caption | photo: .* | getty\ images
      | (?:\d+\ )?comments?(?:\ \(\d+\))? :?
      | please\ let\ us\ know\ if\ you.re\ having\ issues\ with\ commenting.*
      | follow\ us(?:\ on)? :? (?:\ (?:facebook|twitter|x|instagram|linkedin|youtube)\b.*)?
      | share(?:\ this)?(?:\ article|\ story)? :? (?:\ (?:on|via)\ .*)?
      | join\ our\ free\ .*newsletter.* | sign\ up\ .* | subscribe\ .* | click\ here\ .*
      | read\ (?:the\ full\ article|more)\ .* | skip\ to\ (?:main\ )?content
      | excerpt: .* | related(?:\ articles|\ stories)? :?
      | .*\bcookies?\b.*\b(?:accept|policy|consent)\b.*
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
_WORD = re.compile(r"\w+", re.UNICODE)
# A photo credit: a photographer's and agencies' names joined by slashes, the whole line
# ("Thomas Jackson/Digital Vision/Getty Images", "(Mike Watson Images/Moodboard/Getty)"),
# which a page's figure caption writes between paragraphs. It answers nothing, and the
# model once answered with it (html05's retry: "[2] Thomas Jackson/Digital Vision/Getty
# Images"). Three names or more, one of two words or more, letters only: a path
# ("target/test/hello_world-9c2b…", "src/bin/main.rs") or "TCP/IP" is none.
_NAME = r"[^\W\d_](?:[^\W\d_]|[.'’&-])*(?: [^\W\d_](?:[^\W\d_]|[.'’&-])*){0,3}"
_CREDIT = re.compile(rf"\(?{_NAME}(?:\s?/\s?{_NAME}){{2,}}\)?")
_LIST_OR_HEADING = re.compile(r"^\s*(?:[-*+]\s|\d+[.)]\s|#)")
# A one-word line set in bold or code ("**prepublishOnly**", "`--locked`") is a term its
# next lines define: authored markup, which page furniture never carries.
# (A word inside: a bare "```" fence line is not a term.)
_MARKED_TERM = re.compile(r"(\*\*|__|\*|`)(?=[^\s*`]*\w)[^\s*`]+\1:?")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
_TERMINAL = re.compile(r"""[.!?:;,"”’)]$""")


DUPLICATE_WORDS = 4

# A table of contents or a back-of-book index: an entry, a dot leader, a page number
# ("3.1 Invoking asn1Parser . . . . . 5", "asn1_read_value . . . . 13"), or a wrapped
# entry's leader alone. Such lines state nothing but where something is, and in a
# manual they outrank the pages they point to. Only a bare page number counts (a
# statement's "Revenue ........ $1,234" keeps its line), and only in a run (below).
_LEADER = re.compile(r"^(?:.*?\S)?(?:\s?\.){4,}\s*(\d{1,4}|[ivxlcdm]{1,7})?\s*$", re.IGNORECASE)
# Consecutive leader lines that make a contents or index page. Three rules out a
# lone figure with dots that a text happens to hold; contents pages run far longer.
LEADER_RUN = 3
# A sentence's end, with any closing quote or bracket after it.
_SENTENCE_END = re.compile(r"""[.!?:;]["”’')\]]*$""")


def running_pages(pages: int) -> int:
    """On how many of a document's `pages` a line must recur to be print's furniture (a
    running header or footer, wherever the extractor put it): two pages in five, three
    at least. A journal's alternating headers sit on every other page; a sentence that
    happens to open a third of the pages ("(4) In the Operating Procedures chapter")
    does not count."""
    return max(3, -(-2 * pages // 5))


def _printed_repeats(
    text: str, spans: list[tuple[int, int]], pages: Sequence[tuple[int, int]]
) -> set[int]:
    """The lines of a printed document (a PDF) that repeat an earlier line and are still
    furniture: a line in capitals ("SUPREME COURT OF THE UNITED STATES"), a running line
    the extractor left mid-page (on `running_pages` pages, digits aside: "the ACM Number
    7" between two halves of a sentence), or a line that stands alone, after a sentence's
    end and before a new line (a statement's running head at the top of page 2).

    Any other repeated line is text, read where it stands: a three-column Federal
    Register page wraps "Accomplishment Instructions of Boeing" into six of its
    sentences, and dropped, each was cut in two; and a table's head printed over each
    account's table ("Date Description Withdrawals Deposits Balance"), dropped, left
    every table after the first without its column names and its title a passage alone."""
    starts = [start for start, _ in pages]
    lines = [i for i, (s, e) in enumerate(spans) if text[s:e].strip()]
    texts = [text[spans[i][0] : spans[i][1]].strip() for i in lines]
    on_pages: dict[str, set[int]] = {}
    seen: set[str] = set()
    repeats: list[tuple[int, str]] = []  # (place in `lines`, digit-blind key)
    for at, i in enumerate(lines):
        key = _norm(texts[at])
        if len(key.split()) < DUPLICATE_WORDS:
            continue
        folio = re.sub(r"\d+", "#", key)  # "2 DELACROIX V. …" on each page, numbered
        on_pages.setdefault(folio, set()).add(bisect_right(starts, spans[i][0]))
        if key in seen:
            repeats.append((at, folio))
        seen.add(key)
    need = running_pages(len(pages))
    out = set()
    for at, folio in repeats:
        here = texts[at]
        after_end = at == 0 or _SENTENCE_END.search(texts[at - 1])
        before_new = (
            _SENTENCE_END.search(here) or at + 1 == len(texts) or not texts[at + 1][0].islower()
        )
        shouted = not any(c.islower() for c in here)
        if shouted or len(on_pages[folio]) >= need or (after_end and before_new):
            out.add(lines[at])
    return out


@dataclass(frozen=True)
class Cleaned:
    """Spans of article text (non-overlapping, in order) and the derived title."""

    blocks: list[tuple[int, int]]
    title: str


def is_boilerplate(line: str) -> bool:
    """True for a line that is page furniture rather than article text."""
    stripped = line.strip()
    if not stripped:
        return False
    if _BOILERPLATE.match(stripped):
        return True
    if _CREDIT.fullmatch(stripped) and " " in stripped.strip("()"):
        return True
    if _LIST_OR_HEADING.match(stripped) or _MARKED_TERM.fullmatch(stripped):
        return False
    if "|" in stripped and TABLE_RULE.fullmatch(stripped):
        return False  # a Markdown table's "| --- | --- |": dropped, it cut the header off
    words = _WORD.findall(stripped)
    if (
        len(words) == 1
        and len(stripped) >= 3
        and (stripped[0].islower() or _TERMINAL.search(stripped))
    ):
        return False  # the last word of a wrapped sentence ("changed."), not a label
    if len(words) <= 1:  # "d", "• en", lone labels
        return True
    # Short shouting labels ("ON NOW", "TOP STORIES") are navigation, not prose.
    return len(words) <= 3 and stripped.upper() == stripped and stripped.lower() != stripped


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line's content, excluding the newline characters."""
    spans, pos = [], 0
    for raw in text.splitlines(keepends=True):
        content = raw.rstrip("\r\n")
        spans.append((pos, pos + len(content)))
        pos += len(raw)
    return spans


def _norm(line: str) -> str:
    return " ".join(_WORD.findall(line.lower()))


def _contents_lines(
    text: str, spans: list[tuple[int, int]], furniture: list[bool], pages: int
) -> set[int]:
    """Indexes of the lines (in `spans`) that belong to a run of contents or index
    entries; with `pages` known, every entry's page number must be one of its pages.
    `furniture[i]`: line i is boilerplate (`is_boilerplate`)."""

    def entry(start: int, end: int) -> bool:
        match = _LEADER.match(text[start:end])
        if not match:
            return False
        number = match.group(1)
        return not (pages and number and number.isdigit() and int(number) > pages)

    found: set[int] = set()
    run: list[int] = []
    for i, (start, end) in enumerate([*spans, (0, 0)]):
        if start < end and (not text[start:end].strip() or furniture[i]):
            continue  # blank lines and an index's letter labels ("H") do not end a run
        if start < end and entry(start, end):
            run.append(i)
            continue
        if len(run) >= LEADER_RUN:
            found.update(run)
        run = []
    return found


def _printed(
    text: str, spans: list[tuple[int, int]], furniture: list[bool], pages: Sequence[tuple[int, int]]
) -> list[bool]:
    """`furniture` for a printed document (a PDF): a one-word line between two lines of
    text is a section heading ("Outlook"), or the last word of a wrapped title or table
    head ("Results", "2025" under "Three Months / Ended Sep 30,"): print has no menus, and
    dropped, such a line lost its words and cut the table from its column names; so is
    a pair of them (a date wrapped in its column). A longer run of one-word lines is
    still furniture (a figure's labels and axis ticks: "Block",
    "Hash", "0", "10"), and so is a number that opens or closes its page (a folio)."""
    lines = [i for i, (s, e) in enumerate(spans) if text[s:e].strip()]
    starts = [start for start, _ in pages]
    on_page: dict[int, list[int]] = {}  # each page's non-blank line starts, in one pass
    for i in lines:
        page = bisect_right(starts, spans[i][0]) - 1
        if page >= 0 and spans[i][0] < pages[page][1]:
            on_page.setdefault(page, []).append(spans[i][0])
    edges = {x for found in on_page.values() for x in (found[0], found[-1])}

    def one_word(i: int) -> bool:
        line = text[spans[i][0] : spans[i][1]].strip()
        words = _WORD.findall(line)
        if not furniture[i] or len(words) != 1 or _BOILERPLATE.match(line):
            return False
        number = words[0].replace("_", "").isdigit()
        if not (number or (len(line) >= 3 and any(c.isalpha() for c in line))):
            return False  # "A" of an index, "B." of a list, "∑" of a formula
        return not (number and spans[i][0] in edges)

    def text_line(j: int) -> bool:
        # A lower-case word that ends a wrapped cell is text too: "Closing" between
        # "debits" and "balance" (a summary's wrapped column heads) is a head's first word
        words = len(_WORD.findall(text[spans[j][0] : spans[j][1]]))
        return words >= 2 or (words == 1 and not furniture[j])

    kept = list(furniture)
    k = 1
    while k < len(lines) - 1:
        if not one_word(lines[k]):
            k += 1
            continue
        # A run of one or two such lines between lines of text: a heading, a wrapped
        # title's or column head's last word, or a table cell print wrapped ("Oct" over
        # "10" in a statement's narrow date column, which dropped cut every row from
        # its date and into a chunk of its own). Longer runs stay furniture.
        end = k + 1 if k + 1 < len(lines) - 1 and one_word(lines[k + 1]) else k
        if text_line(lines[k - 1]) and text_line(lines[end + 1]):
            for j in range(k, end + 1):
                kept[lines[j]] = False
        k = end + 1
    return kept


def clean(
    text: str,
    fallback_title: str = "Untitled",
    pages: int | Sequence[tuple[int, int]] = 0,
    authored: Callable[[int], bool] | None = None,
) -> Cleaned:
    """Split `text` into indexable blocks and pick its title. `pages`: the page spans of
    a paged document (PDF), or their count; a contents page's numbers cannot exceed it,
    and its one-word lines are read as print sets them (`_printed`).

    A repeated line is a scraped page's teaser or widget, or a PDF's running header, and
    is dropped; `authored(offset)` says where the text is the author's own prose instead
    (a Markdown file outside its code blocks), which repeats itself on purpose: reference
    docs give each option its "This value is not exported to the environment", and a page
    documents the same options twice (Node's readline: the callback API after the
    promises API). Dropped there, a repeat cut the option list into shreds ("**Default:**
    `30`." a chunk of its own) that outranked the whole list. In code a repeated line
    still ends a block: keeping examples whole measured worse (README, thirteenth and
    fourteenth sessions: the model reads an example's values as the defaults asked for).
    """
    blocks: list[tuple[int, int]] = []
    seen: set[str] = set()
    kept_lines: list[str] = []
    block_start: int | None = None
    block_end = 0
    spans = _lines(text)
    furniture = [is_boilerplate(text[s:e]) for s, e in spans]
    paged: Sequence[tuple[int, int]] = ()
    if not isinstance(pages, int):
        paged = pages
        furniture = _printed(text, spans, furniture, pages) if pages else furniture
        pages = len(pages)
    printed = _printed_repeats(text, spans, paged) if paged else set()
    contents = _contents_lines(text, spans, furniture, pages)
    for i, (start, end) in enumerate(spans):
        line = text[start:end]
        if not line.strip():
            continue  # blank lines neither end a block nor belong to one
        key = _norm(line)
        # A repeated line is a duplicated teaser or widget; a short one may just be a
        # wrapped line that happens to recur ("the same."), so only longer ones count.
        repeat = key in seen and len(key.split()) >= DUPLICATE_WORDS
        repeat = repeat and not (authored and authored(start))
        repeat = repeat and (not paged or i in printed)
        drop = i in contents or furniture[i] or repeat
        seen.add(key)
        if drop:
            if block_start is not None:
                blocks.append((block_start, block_end))
                block_start = None
            continue
        kept_lines.append(line)
        if block_start is None:
            block_start = start + (len(line) - len(line.lstrip()))
        block_end = start + len(line.rstrip())
    if block_start is not None:
        blocks.append((block_start, block_end))
    return Cleaned(blocks=blocks, title=derive_title(kept_lines, fallback_title))


def looks_like_headline(line: str) -> bool:
    stripped = line.strip()
    words = stripped.split()
    if not 3 <= len(words) <= 20 or len(stripped) > 160 or _TERMINAL.search(stripped):
        return False
    capitalized = sum(1 for w in words if w[:1].isupper() or not w[:1].isalpha())
    return capitalized / len(words) >= 0.6


def derive_title(lines: list[str], fallback: str = "Untitled", max_chars: int = 90) -> str:
    """The headline: a Markdown heading or a title-cased line near the top; else the lead."""
    for line in lines[:3]:
        heading = _MD_HEADING.match(line)
        if heading:
            return heading.group(1).strip()
        if looks_like_headline(line):
            return " ".join(line.split())
    if not lines:
        return fallback
    lead = " ".join(lines[0].split())
    first_sentence = re.split(r"(?<=[.!?])\s", lead, maxsplit=1)[0]
    if len(first_sentence) <= max_chars:
        return first_sentence.rstrip(".")
    cut = first_sentence[:max_chars].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"
