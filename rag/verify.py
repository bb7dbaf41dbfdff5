"""Check every cited sentence against the passage it cites, after generation.

Small models cite the wrong passage, or none, and sometimes state numbers the passages do
not contain. Each sentence of the answer is scored against the retrieved passages:

- support = share of the sentence's content words found in the passage, and zero when
  the sentence states a number the passage does not contain;
- a cited passage that does not support its sentence is replaced by the best-supporting
  retrieved passage, or the marker is removed and the sentence flagged as unsupported;
- an answer with no supported sentence is refused by the caller.

Each citation carries the exact supporting span: the passage sentence that shares most
words with the sentences citing it, as offsets into the source document.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.chunking import split_sentences
from index.lexical import tokenize
from index.types import Passage

from .citations import parse_markers
from .types import Citation

SUPPORT_THRESHOLD = 0.5
_MARKERS_ONLY = re.compile(r"^(?:\s*\[\d+\])+\s*[.!?]?$")
_MARKER = re.compile(r"\s*\[(\d+)\]")
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def _stems(text: str) -> set[str]:
    """Content-word stems: a 6-letter prefix is a crude but language-light stemmer."""
    return {w if w[0].isdigit() else w[:6] for w in tokenize(text)}


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}


@dataclass(frozen=True)
class Verified:
    text: str
    citations: tuple[Citation, ...]
    unsupported: tuple[str, ...]
    supported: int  # sentences with a supporting passage


class _Scorer:
    def __init__(self, passages: Sequence[Passage]) -> None:
        self.passages = passages
        self.stems = [_stems(p.text) for p in passages]
        self.numbers = [_numbers(p.text) for p in passages]

    def support(self, sentence: str, ns: Sequence[int]) -> float:
        words, nums = _stems(sentence), _numbers(sentence)
        if not words:
            return 0.0
        pool_words = set().union(*(self.stems[n - 1] for n in ns))
        pool_nums = set().union(*(self.numbers[n - 1] for n in ns))
        if not nums <= pool_nums:
            return 0.0
        return len(words & pool_words) / len(words)

    def best(self, sentence: str) -> tuple[int, float]:
        scores = [(self.support(sentence, [n]), -n) for n in range(1, len(self.passages) + 1)]
        score, neg_n = max(scores)
        return -neg_n, score


def _segments(text: str) -> list[tuple[int, int]]:
    """Sentence spans of the answer, with trailing marker-only pieces merged backwards."""
    spans: list[tuple[int, int]] = []
    for s, e in split_sentences(text):
        if spans and _MARKERS_ONLY.match(text[s:e]):
            spans[-1] = (spans[-1][0], e)
        else:
            spans.append((s, e))
    return spans


def _with_markers(bare: str, ns: Sequence[int]) -> str:
    marks = "".join(f"[{n}]" for n in ns)
    if not marks:
        return bare
    match = re.search(r"[.!?]+[\"'”’)]*$", bare)
    if match:
        return f"{bare[: match.start()]} {marks}{bare[match.start() :]}"
    return f"{bare} {marks}"


def _span(passage: Passage, sentences: Sequence[str]) -> tuple[int, int]:
    """Offsets in the passage covering, for each citing sentence, its best-matching sentence."""
    spans = split_sentences(passage.text)
    if not spans:
        return 0, len(passage.text)
    stems = [_stems(passage.text[s:e]) for s, e in spans]
    chosen = []
    for sentence in sentences:
        want = _stems(sentence)
        chosen.append(max(range(len(spans)), key=lambda i: (len(want & stems[i]), -i)))
    return spans[min(chosen)][0], spans[max(chosen)][1]


def verify(text: str, passages: Sequence[Passage]) -> Verified:
    """Re-cite or flag each sentence of `text`; see the module docstring."""
    scorer = _Scorer(passages)
    out, pos = [], 0
    unsupported: list[str] = []
    supported = 0
    citing: dict[int, list[str]] = {}
    for start, end in _segments(text):
        out.append(text[pos:start])
        pos = end
        piece = text[start:end]
        cited = [n for n in dict.fromkeys(parse_markers(piece)) if 1 <= n <= len(passages)]
        bare = _MARKER.sub("", piece).strip()
        bare = re.sub(r"\s+([.,;:!?])", r"\1", bare)
        if len(_stems(bare)) < 2:  # "Yes." or a lone connective: nothing to verify
            out.append(_with_markers(bare, cited))
            continue
        alone = [n for n in cited if scorer.support(bare, [n]) >= SUPPORT_THRESHOLD]
        if alone:
            keep = alone
        elif cited and scorer.support(bare, cited) >= SUPPORT_THRESHOLD:
            keep = [n for n in cited if scorer.support(bare, [n]) > 0]  # a synthesis
        else:
            n, score = scorer.best(bare)
            keep = [n] if score >= SUPPORT_THRESHOLD else []
        if keep:
            supported += 1
            for n in keep:
                citing.setdefault(n, []).append(bare)
        else:
            unsupported.append(bare)
        out.append(_with_markers(bare, keep))
    out.append(text[pos:])
    citations = []
    for n, sentences in citing.items():
        p = passages[n - 1]
        s, e = _span(p, sentences)
        citations.append(Citation(n, p.source, p.title, p.text[s:e], p.start + s, p.start + e))
    return Verified("".join(out).strip(), tuple(citations), tuple(unsupported), supported)
