"""Check every cited sentence against the passage it cites, after generation.

Small models cite the wrong passage, or none, and sometimes state numbers the passages do
not contain. Each sentence of the answer is scored against the retrieved passages:

- support = share of the sentence's content words found in the passage, each word
  weighted by how distinctive it is in the index (IDF: "ambassador", never seen in the
  documents, outweighs "Canada"), and zero when the sentence states a number the
  passage does not contain;
- a cited passage that does not support its sentence is replaced by the best-supporting
  retrieved passage, or the marker is removed and the sentence flagged as unsupported;
- an answer with no supported sentence is refused by the caller.

Each citation carries the exact supporting span: the passage sentence that shares most
words with the sentences citing it, as offsets into the source document.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from index.chunking import split_sentences
from index.lexical import tokenize
from index.types import Passage

from .citations import parse_markers
from .types import Citation

# Calibrated on the dev and follow-up answers (IDF-weighted support): correct sentences
# scored 0.66 and up; the hallucinations seen ("Colin Robertson served as ambassador",
# "exported 49,000 vehicles in 2023") scored 0.51 and 0.00.
SUPPORT_THRESHOLD = 0.6
# A cited passage that supports a sentence is still replaced when another retrieved
# passage supports it by this much more (it holds the words the cited one is missing).
CLEARLY_BETTER = 0.15
_MARKERS_ONLY = re.compile(r"^(?:\s*\[\d+\])+\s*[.!?]?$")
_MARKER = re.compile(r"\s*\[(\d+)\]")
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def _stem(word: str) -> str:
    """A 6-letter prefix: a crude but language-light stemmer ("arrested" ~ "arrest")."""
    return word if word[0].isdigit() else word[:6]


def _stems(text: str) -> set[str]:
    return {_stem(w) for w in tokenize(text)}


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}


@dataclass(frozen=True)
class Verified:
    text: str
    citations: tuple[Citation, ...]
    unsupported: tuple[str, ...]
    supported: int  # sentences with a supporting passage


class _Scorer:
    def __init__(self, passages: Sequence[Passage], weight: Callable[[str], float]) -> None:
        self.passages = passages
        self.weight = weight
        self.stems = [_stems(p.text) for p in passages]
        self.numbers = [_numbers(p.text) for p in passages]

    def support(self, sentence: str, ns: Sequence[int]) -> float:
        words = {_stem(w): self.weight(w) for w in tokenize(sentence)}
        if not words:
            return 0.0
        pool_words = set().union(*(self.stems[n - 1] for n in ns))
        pool_nums = set().union(*(self.numbers[n - 1] for n in ns))
        if not _numbers(sentence) <= pool_nums:
            return 0.0
        return sum(w for s, w in words.items() if s in pool_words) / sum(words.values())

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


def verify(
    text: str, passages: Sequence[Passage], weight: Callable[[str], float] | None = None
) -> Verified:
    """Re-cite or flag each sentence of `text`; see the module docstring.

    `weight(token)` says how much a word counts (IDF from the index); default: equally.
    """
    scorer = _Scorer(passages, weight or (lambda _: 1.0))
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
        best, best_score = scorer.best(bare)
        if alone and best not in alone and best_score >= max(
            scorer.support(bare, [n]) for n in alone
        ) + CLEARLY_BETTER:
            keep = [best]  # another passage holds what the cited one lacks ("Vancouver")
        elif alone:
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
        citations.append(
            Citation(n, p.source, p.title, p.text[s:e], p.start + s, p.start + e, p.page)
        )
    return Verified("".join(out).strip(), tuple(citations), tuple(unsupported), supported)
