"""A document's outline: its title and which heading each span of text sits under.

Markdown files carry it in their syntax; HTML and Word files are extracted into the same
syntax (`extract`), so one parser serves all three. What is not text a reader sees is
left out of every section: YAML front matter, HTML comments, mdBook directives
(`{{#include ...}}`) and the heading lines themselves (a heading lives on in the path of
every chunk under it). Offsets always point into the unchanged text.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from .readable import strip_tags

_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
FENCE = re.compile(r"^ {0,3}(```+|~~~+)")  # a code fence line opens or closes code
_DIRECTIVE = re.compile(r"^\s*\{\{\s*#\w+.*\}\}\s*$")  # mdBook: {{#include file.md}}
# MDX (Docusaurus, Nextra...): module lines a page renders as nothing
_ESM = re.compile(
    r"""^(?:import\s+(?:[\w*{][^;]*?\s+from\s+)?["'][^"']+["'];?"""
    r"""|export\s+(?:const|let|var|function|default)\b.*)\s*$"""
)
_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\[[^\]]*\]")
_CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")  # CommonMark: any ASCII punctuation
_FRONT_TITLE = re.compile(r"^title\s*:\s*[\"']?(.*?)[\"']?\s*$", re.I)


@dataclass(frozen=True)
class Section:
    """Body text [start, end) under the headings `path` (outermost first)."""

    start: int
    end: int
    path: tuple[str, ...]


@dataclass(frozen=True)
class PrintedHead:
    """A heading as print sets it: a run of lines larger than the body text, on `page`
    (0-based); `line` is its first line as the page's text reads, `size` its points."""

    page: int
    line: str
    text: str
    size: float


def printed_sections(
    text: str, pages: Sequence[tuple[int, int]], heads: Sequence[PrintedHead], title: str
) -> list[Section]:
    """A printed document's sections: each heading found as a line of its page in `text`
    opens one. One level: a typeset paper's author and affiliation lines are set larger
    than its section headings, and nesting by size put every section under "M.I.T.
    Laboratory for Computer Science"; numbered headings say their place themselves. The
    title's line opens a section under no heading (a masthead set above it ends there)."""
    opened: list[tuple[int, tuple[str, ...]]] = [(0, ())]  # (where, heading path)
    at = 0
    for head in heads:
        if head.page >= len(pages):
            continue
        start, end = pages[head.page]
        found = _line_start(text, head.line, max(start, at), end)
        if found is not None:
            opened.append((found, () if _same(head.text, title) else (head.text,)))
            at = found + 1
    if len(opened) > 1 and opened[1][0] == 0:
        del opened[0]
    ends = [where for where, _ in opened[1:]] + [len(text)]
    return [Section(s, e, p) for (s, p), e in zip(opened, ends, strict=True) if s < e]


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _line_start(text: str, line: str, start: int, end: int) -> int | None:
    """Where a line reading `line` (spaces aside) begins in `text[start:end]`."""
    want = " ".join(line.split())
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        stop = end if nl < 0 else nl
        if " ".join(text[pos:stop].split()) == want:
            return pos
        pos = stop + 1
    return None


@dataclass(frozen=True)
class Outline:
    sections: tuple[Section, ...]
    title: str  # the front matter's title or the first top-level heading; "" if none
    fences: tuple[int, ...] = ()  # where a code fence opens or closes, alternately

    def in_code(self, offset: int) -> bool:
        """Whether `offset` lies in a fenced code block (its fence lines included)."""
        return _in_fence(self.fences, offset)


def _in_fence(fences: Sequence[int], offset: int) -> bool:
    """Whether `offset` is inside code, given where fences open and close, alternately."""
    return bisect_right(fences, offset) % 2 == 1


def heading_text(raw: str) -> str:
    """What a reader sees of a heading: links, tags, code ticks, backslash escapes and the
    attribute block of Pandoc, kramdown and mdBook (`## Adding fields {#enum-fields-new}`)
    gone. A code span and an escaped character are shown as written, never read as
    markup (the key `` `CARGO_<ARTIFACT-TYPE>_FILE_<DEP>_<NAME>` `` lost every "_" as
    emphasis; "CHANGELOG\\.md" kept its backslash)."""
    raw = re.sub(r"\s*\{[#.][^{}]*\}\s*$", "", raw).replace("\x00", "")
    kept: list[str] = []

    def aside(literal: str) -> str:
        kept.append(literal)
        return f"\x00{len(kept) - 1}\x00"

    text = _CODE_SPAN.sub(lambda m: aside(m.group(2).strip() or m.group(2)), raw)
    text = _ESCAPE.sub(lambda m: aside(m.group(1)), text)
    text = _LINK.sub(lambda m: m.group(1) or m.group(2) or "", text)
    text = strip_tags(re.sub(r"<!--.*?-->", "", text)).replace("`", "")
    text = re.sub(r"(?<!\w)[*_]{1,3}|[*_]{1,3}(?!\w)", "", text)  # emphasis, not snake_case
    text = re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], text)
    return " ".join(text.split())


def _lines(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for raw in text.splitlines(keepends=True):
        spans.append((pos, pos + len(raw.rstrip("\r\n"))))
        pos += len(raw)
    return spans


def _front_matter(text: str, lines: list[tuple[int, int]]) -> tuple[int, str]:
    """Lines taken by YAML front matter at the very top (0 if none), and its title."""
    if not lines or text[slice(*lines[0])].strip() != "---":
        return 0, ""
    title = ""
    for i, (s, e) in enumerate(lines[1:200], 1):
        line = text[s:e]
        if line.strip() in ("---", "..."):
            return i + 1, title
        match = _FRONT_TITLE.match(line)
        if match and not title:
            title = match.group(1).strip()
    return 0, ""


def outline(text: str) -> Outline:
    """Sections of Markdown-shaped text, in order; see the module docstring."""
    lines = _lines(text)
    skip_to, title = _front_matter(text, lines)
    path: list[tuple[int, str]] = []  # (level, heading) of the current section
    sections: list[Section] = []
    body_start: int | None = None
    body_end = 0
    fence: str | None = None
    fences: list[int] = []
    in_comment = False
    first_heading = ""

    def close() -> None:
        nonlocal body_start
        if body_start is not None:
            sections.append(Section(body_start, body_end, tuple(h for _, h in path)))
            body_start = None

    def heading(level: int, raw: str) -> None:
        nonlocal first_heading
        close()
        name = heading_text(raw)
        while path and path[-1][0] >= level:
            path.pop()
        if name:
            path.append((level, name))
            if level == 1 and not first_heading:
                first_heading = name

    i = skip_to
    while i < len(lines):
        s, e = lines[i]
        line = text[s:e]
        stripped = line.strip()
        if in_comment:
            in_comment = "-->" not in line
            i += 1
            continue
        if fence is None:
            if stripped.startswith("<!--"):
                close()
                in_comment = "-->" not in stripped[4:]
                i += 1
                continue
            if _DIRECTIVE.match(line) or _ESM.match(line):
                close()
                i += 1
                continue
            atx = _ATX.match(line)
            if atx:
                heading(len(atx.group(1)), atx.group(2))
                i += 1
                continue
            nxt = text[slice(*lines[i + 1])] if i + 1 < len(lines) else ""
            setext = _SETEXT.match(nxt)
            if (
                setext
                and stripped
                and not _LIST.match(line)
                and body_start is None  # a heading is a paragraph of its own
                and (setext.group(1)[0] == "=" or len(setext.group(1)) >= 2)
            ):
                heading(1 if setext.group(1)[0] == "=" else 2, stripped)
                i += 2
                continue
        marker = FENCE.match(line)
        if marker and (fence is None or stripped.startswith(fence)):
            fence = marker.group(1)[0] * 3 if fence is None else None
            fences.append(s)  # where code opens or closes, alternately
        if stripped:
            if body_start is None:
                body_start = s + (len(line) - len(line.lstrip()))
            body_end = s + len(line.rstrip())
        elif fence is None and body_start is not None:
            # A blank line ends a paragraph, not the section: keep collecting, but a
            # setext underline must follow a paragraph start, so remember the gap.
            sections.append(Section(body_start, body_end, tuple(h for _, h in path)))
            body_start = None
        i += 1
    close()
    merged: list[Section] = []
    for sec in sections:  # paragraphs of one section become one span again
        if merged and merged[-1].path == sec.path and _only_space(text, merged[-1].end, sec.start):
            merged[-1] = Section(merged[-1].start, sec.end, sec.path)
        else:
            merged.append(sec)
    first = first_heading or next((sec.path[0] for sec in merged if sec.path), "")
    sections = tuple(_without(text, merged, hidden_spans(text, fences)))
    return Outline(sections, title or first, tuple(fences))


# HTML inside Markdown that a renderer hides: a comment anywhere in a line, or an element
# marked hidden (`hidden`, `aria-hidden="true"`, `display:none`, `visibility:hidden`)
# up to its closing tag. Whole-line comments are already left out by `outline`.
_HIDDEN_HTML = re.compile(
    r"<!--.*?-->"
    r"|<(?P<tag>[a-z][a-z0-9]*)\b[^>]*?(?:\shidden\b|aria-hidden\s*=\s*[\"']?true"
    r"|style\s*=\s*[\"'][^\"']*(?:display\s*:\s*none|visibility\s*:\s*hidden))[^>]*>"
    r".*?</(?P=tag)\s*>",
    re.IGNORECASE | re.DOTALL,
)


def hidden_spans(text: str, fences: list[int]) -> list[tuple[int, int]]:
    """Spans of hidden HTML in Markdown text, outside code (`fences`: offsets where a
    code fence opens or closes, alternately, as `outline` found them) and inline code."""
    spans = []
    for match in _HIDDEN_HTML.finditer(text):
        start = match.start()
        if _in_fence(fences, start):
            continue  # inside a fence: code that shows the markup
        line_start = text.rfind("\n", 0, start) + 1
        if text.count("`", line_start, start) % 2:
            continue  # inside `inline code`
        spans.append((start, match.end()))
    return spans


def _without(text: str, sections: list[Section], holes: list[tuple[int, int]]) -> list[Section]:
    """`sections` with the `holes` cut out (a section may become two), spaces trimmed."""
    for hs, he in holes:
        cut = []
        for sec in sections:
            if he <= sec.start or hs >= sec.end:
                cut.append(sec)
                continue
            for a, b in ((sec.start, hs), (he, sec.end)):
                a, b = max(a, sec.start), min(b, sec.end)
                while a < b and text[a].isspace():
                    a += 1
                while b > a and text[b - 1].isspace():
                    b -= 1
                if a < b:
                    cut.append(Section(a, b, sec.path))
        sections = cut
    return sections


def _only_space(text: str, a: int, b: int) -> bool:
    return not text[a:b].strip()
