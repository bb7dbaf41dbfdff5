"""A question that asks two or three things, split into its parts by its own syntax.

"Which film tops the 2017 list, and which film does the time-loop list single out?"
asks two things, usually answered by two documents; searched as one string, the part
whose words dominate the embedding fills all five places. Each part is searched too
(`Pipeline.retrieve`), so every part's best passage reaches the model.

Only coordination the sentence itself marks is split: a comma, semicolon or "and" right
before a question word ("…, and what is…"), or "and" repeating a preposition the
question used before it ("reacting to X and to Y"). A lead before a colon ("What limits
does crates.io put on a package: how long…, how big…") names what every part is about,
so it goes with each, as does a phrase before the first question word ("On the
PDP-11/45 …, how much core … and how much of it …"). Nothing else is split: "Who are A
and B?" is one search. A later part that points back with a pronoun ("…, and what does
it do?") cannot be searched alone: it is searched after the first part's words, as a
follow-up is searched after the previous question (`with_previous`).

A small model given every part's passage often answers one part and stops ("The maximum
size of a `.crate` file is 10MB [1]." for three limits asked). `unanswered` says which
parts an answer does not speak to, by each part's own words; the pipeline asks those
alone (`Pipeline.run`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from index import Passage
from index.chunking import split_sentences

from .stems import stems

# The most parts a question is searched as: each costs a search, and the prompt holds
# five passages.
MAX_PARTS = 3
MIN_PART_WORDS = 3  # "and how?" is no part of its own

# A question word, maybe after its preposition ("in what year", "for which")
_PREP = r"(?:(?:in|on|at|by|for|from|to|with|of)\s+)?"
_WH = rf"{_PREP}(?:what|which|who|whom|whose|when|where|why|how)\b"
# Between clauses: ", and what", "; how", ", what", " and which".
_CLAUSE = re.compile(rf"(?:\s*[,;]\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+)(?={_WH})", re.I)
_AUX = r"(?:is|are|was|were|do|does|did|can|could|should|would|will|has|have|had|may|must)\b"
# What opens a question: "when"/"where" only before an auxiliary ("When does…"); without
# one they open a clause that sets the scene ("When a request uses no-cors, which…").
_QUESTION_START = re.compile(
    rf"{_PREP}(?:what|which|who|whom|whose|why|how)\b|{_AUX}|(?:when|where)\s+{_AUX}", re.I
)
_PREPOSITIONS = ("to", "for", "of", "in", "on", "about", "from", "with", "by", "at")
_REPEATED = re.compile(rf",?\s+and\s+({'|'.join(_PREPOSITIONS)})\s+", re.I)
# A pronoun pointing back at what an earlier part named ("…, and what does it do?")
_BACK = re.compile(r"\b(?:it|its|they|them|their|he|him|his|she|her)\b", re.I)


def question_parts(question: str) -> tuple[str, ...]:
    """The parts of a compound question, each a question of its own; () when it asks
    one thing (or its parts would be too short to search alone)."""
    text = " ".join(question.split()).rstrip("?").strip()
    lead, body = "", text
    head, colon, rest = text.partition(": ")
    if colon and re.match(_WH, rest, re.I):
        lead, body = head, rest
    pieces = [p.strip(" ,;?") for p in _CLAUSE.split(body)]
    if len(pieces) > 1 and not _QUESTION_START.match(pieces[0]):
        # "In a registry index, which file…": a phrase that sets the scene, not a part
        lead = f"{lead}: {pieces[0]}" if lead else pieces[0]
        pieces = pieces[1:]
    if len(pieces) < 2:
        pieces = [p.strip(" ,;") for p in _repeated_preposition(pieces[0])]
    if not 2 <= len(pieces) <= MAX_PARTS or any(len(p.split()) < MIN_PART_WORDS for p in pieces):
        return ()
    if lead:
        return tuple(f"{lead}, {p}?" for p in pieces)
    # Without a lead, what a later part's pronoun stands for is in the first part
    return tuple(
        f"{pieces[0]}, {p}?" if i and _BACK.search(p) else f"{p}?" for i, p in enumerate(pieces)
    )


def _repeated_preposition(body: str) -> list[str]:
    """ "…quoted reacting to X and to Y" → "…quoted reacting to X", "…quoted reacting to
    Y": the words before the preposition's last use are what both parts ask."""
    match = _REPEATED.search(body)
    if match is None:
        return [body]
    prep = match.group(1).lower()
    before = body[: match.start()]
    uses = list(re.finditer(rf"\b{prep}\b", before, re.I))
    if not uses:
        return [body]
    return [before, before[: uses[-1].start()] + body[match.start(1) :]]


# Where an answer sentence joins two statements: ", and", ", but", ", while", "; ".
_JOIN = re.compile(r",\s+(?:and|but|while|whereas)\s+|;\s+", re.I)
MIN_CLAUSE_WORDS = 3  # "X, and so on" is one statement


def clause_spans(sentence: str) -> list[tuple[int, int]]:
    """The statements a sentence joins ("The chair is Zhao Leji, and Canada's largest
    export market is the United States."), as spans: a small model asked two things often
    answers both in one sentence, each half from another passage. The whole sentence
    when a join would leave a piece of under three words."""
    bounds = [0, *(x for m in _JOIN.finditer(sentence) for x in m.span()), len(sentence)]
    spans = list(zip(bounds[::2], bounds[1::2], strict=True))
    if len(spans) < 2 or any(len(sentence[a:b].split()) < MIN_CLAUSE_WORDS for a, b in spans):
        return [(0, len(sentence))]
    return spans


def clauses(sentence: str) -> list[str]:
    return [sentence[a:b] for a, b in clause_spans(sentence)]


def own_words(parts: Sequence[str]) -> list[set[str]]:
    """Each part's words that no other part has: what tells the parts apart ("name" and
    "long" of "…, how long may its name be?" beside "…, how big may the .crate be?")."""
    words = [stems(p) for p in parts]
    return [
        mine - set().union(*(w for j, w in enumerate(words) if j != i))
        for i, mine in enumerate(words)
    ]


def unanswered(
    parts: Sequence[str], answer: str, gives: Sequence[Callable[[str], bool]] = ()
) -> list[int]:
    """The indices of `parts` that `answer` does not speak to: no statement of it (a
    sentence, or a clause of one: `clauses`) has any of the part's own words (`own_words`),
    or none that has them gives what the part asks for (`gives[i]`, see
    `rag.verify.demands`: "About half of the participants did the Paxos portion first"
    speaks to "How many students took part in the user study comparing Raft with Paxos?"
    and counts nobody; "The annual cap on EV imports replaces the tariff, and they were
    released in 2021" gives the year, not the cap). Structural, not scored: the words that
    tell the parts apart are the question's own. A part with no words of its own cannot
    be told apart, so it counts as spoken to."""
    sentences = [answer[a:b] for a, b in split_sentences(answer)] or [answer]
    sentences = [c for s in sentences for c in clauses(s)]
    said = [stems(s) for s in sentences]
    missing = []
    for i, mine in enumerate(own_words(parts)):
        if not mine:
            continue
        spoken = [s for s, w in zip(sentences, said, strict=True) if mine & w]
        if not spoken or (i < len(gives) and not any(map(gives[i], spoken))):
            missing.append(i)
    return missing


def interleave(rankings: Sequence[Sequence[Passage]], k: int) -> list[Passage]:
    """The first `k` passages taking turns between rankings (each part's, then the whole
    question's), so every part's best passage is among them; a passage overlapping one
    already taken (the same chunk, or a merged run holding it) is skipped."""
    taken: list[Passage] = []
    for depth in range(max((len(r) for r in rankings), default=0)):
        for ranking in rankings:
            if depth < len(ranking) and len(taken) < k:
                p = ranking[depth]
                if not any(_overlap(p, t) for t in taken):
                    taken.append(p)
    return taken


def _overlap(a: Passage, b: Passage) -> bool:
    return a.source == b.source and a.start < b.end and b.start < a.end
