"""Section headings of text without markup (PDF), found by their numbers.

A paper, manual or datasheet numbers its sections ("2 Design overview", "2.1
Assumptions", "5.4.1 Election restriction"); PDF text keeps each on a line of its own.
A numbered line is only a candidate: list items ("1. Reply false if term <
currentTerm"), table rows ("7 A*Teens Dancing Queen 3:44") and references look the
same. What makes headings is that their numbers form an outline: each one opens the
first child of the one before ("2" -> "2.1"), or is the next sibling at some level
("2.1" -> "2.2", "2.6.3" -> "3"). The longest such chain through the candidates,
starting at "1", is the outline; a list item breaks it, so the chain goes around it.
That finds the outline of 8 of the 10 PDFs of the suite and probe sets (the other two
have no numbered sections, and get none).

Heading lines stay in the text (a wrongly taken line loses nothing). A section's end
ends a chunk: in a manual, "3.1 Invoking asn1Parser" and its options no longer share a
chunk with the end of 2.5 (probe PDFs: MRR 0.66 -> 0.90, bench/quality.py; suite PDFs:
recall@5 0.88 -> 0.94, MRR 0.65 -> 0.62).
"""

from __future__ import annotations

import re

from .structure import Section

# "2", "2.1", "2.1.", "5.4.1" then a capitalized title of a few words on its own line
_CANDIDATE = re.compile(
    r"^[ \t]*(\d{1,2}(?:\.\d{1,2}){0,3})(\.?)[ \t]+([A-Z][^\n]{0,78}?)[ \t]*$", re.M
)
MAX_HEADING_WORDS = 9  # "3.1. Column headers are values, not variable names": 8
MIN_HEADINGS = 3  # fewer is no outline ("1 Introduction" alone proves nothing)


def numbered_sections(text: str) -> list[Section]:
    """Sections of `text` under its numbered headings, in order (text before the first
    heading has an empty path); [] when the text has no numbered outline."""
    found = [
        (m.start(), tuple(int(n) for n in m.group(1).split(".")), m.group(0).strip(), m.group(2))
        for m in _CANDIDATE.finditer(text)
        if len(m.group(3).split()) < MAX_HEADING_WORDS and not m.group(3).endswith((".", ","))
    ]
    # A document writes its top-level numbers one way ("1 Introduction" or "1.
    # INTRODUCTION"): the longer outline of the two ways wins, so an appended licence's
    # "5. COMBINING DOCUMENTS" does not continue a manual's "4.5 Auxiliary functions".
    chain: list[int] = []
    for dotted in ("", "."):
        kept = [i for i, f in enumerate(found) if len(f[1]) > 1 or f[3] == dotted]
        outline = [kept[i] for i in _longest_outline([found[i][1] for i in kept])]
        chain = outline if len(outline) > len(chain) else chain
    if len(chain) < MIN_HEADINGS:
        return []
    sections = [Section(0, found[chain[0]][0], ())] if found[chain[0]][0] > 0 else []
    path: list[tuple[int, str]] = []  # (depth, heading line)
    for at, i in enumerate(chain):
        start, number, line, _ = found[i]
        end = found[chain[at + 1]][0] if at + 1 < len(chain) else len(text)
        path = [(d, h) for d, h in path if d < len(number)] + [(len(number), line)]
        sections.append(Section(start, end, tuple(h for _, h in path)))
    return sections


def _longest_outline(numbers: list[tuple[int, ...]]) -> list[int]:
    """Indices of the longest chain starting at (1,) in which each number comes right
    after the one before: its first child ("2" -> "2.1"), or the next sibling of it or
    of an ancestor ("2.6.3" -> "2.7" or "3"). Linear: a number's possible predecessors
    are its parent, or its previous sibling and anything under that one."""
    exact: dict[tuple[int, ...], tuple[int, int]] = {}  # number -> (chain length, index)
    under: dict[tuple[int, ...], tuple[int, int]] = {}  # prefix -> best chain ending below
    best: list[int] = [0] * len(numbers)
    back: list[int] = [-1] * len(numbers)
    for i, number in enumerate(numbers):
        options = [(0, -1)] if number == (1,) else []
        if number[-1] == 1 and len(number) > 1 and number[:-1] in exact:
            options.append(exact[number[:-1]])
        if number[-1] > 1 and (*number[:-1], number[-1] - 1) in under:
            options.append(under[(*number[:-1], number[-1] - 1)])
        if not options:
            continue
        length, j = max(options, key=lambda o: (o[0], -o[1]))
        best[i], back[i] = length + 1, j
        if best[i] > exact.get(number, (0, 0))[0]:
            exact[number] = (best[i], i)
        for depth in range(1, len(number) + 1):
            if best[i] > under.get(number[:depth], (0, 0))[0]:
                under[number[:depth]] = (best[i], i)
    if not any(best):
        return []
    i = max(range(len(numbers)), key=lambda n: (best[n], -n))
    chain: list[int] = []
    while i >= 0:
        chain.append(i)
        i = back[i]
    return chain[::-1]
