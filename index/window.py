"""Tight passages: the best-matching sentence of each retrieved chunk, with its neighbours.

A 700-character chunk usually holds one sentence that answers the question. Sending a
window around it instead of the whole chunk roughly halves the prompt, and prompt
evaluation dominates answer latency on a CPU. Offsets stay exact: a window is a
sub-span of its chunk.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import PurePath

import numpy as np

from .chunking import LEAD_IN, split_sentences
from .embedding import Embedder
from .readable import readable
from .readers import TEXT_SUFFIXES
from .structure import FENCE
from .types import Passage


class SentenceVectors:
    """An embedder that remembers sentences it has embedded (least recently used out).

    A conversation keeps coming back to the same documents, and embedding their
    sentences again is most of what retrieval costs outside the vector search.
    """

    def __init__(self, embedder: Embedder, size: int = 10_000) -> None:
        self.embedder = embedder
        self.name = embedder.name
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
            for t in known:
                self._vectors.move_to_end(t)
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            fresh = self.embedder.embed(missing)
            known.update(zip(missing, fresh, strict=True))
            with self._lock:
                for t in missing:
                    self._vectors[t] = known[t]
                while len(self._vectors) > self.size:
                    self._vectors.popitem(last=False)
        return np.stack([known[t] for t in texts]) if texts else np.zeros((0, 0), np.float32)


def best_sentence_similarity(
    texts: Sequence[str], query_vec: np.ndarray, embedder: Embedder
) -> np.ndarray:
    """Each text's highest cosine between one of its sentences and the query: how
    strongly it states something asked, however much else it is about."""
    pieces = []
    for text in texts:
        plain = readable(text)
        spans = [" ".join(plain[a:b].split()) for a, b in split_sentences(plain)]
        pieces.append([s for s in spans if s] or [" ".join(plain.split()) or text])
    flat = [s for ss in pieces for s in ss]
    if not flat:
        return np.zeros(0, dtype=np.float32)
    sims = embedder.embed(flat) @ query_vec
    out, at = np.empty(len(texts), dtype=np.float32), 0
    for i, ss in enumerate(pieces):
        out[i] = sims[at : at + len(ss)].max()
        at += len(ss)
    return out


def merge_overlapping(passages: Sequence[Passage]) -> list[Passage]:
    """Join retrieved chunks of one document whose spans overlap (chunks share a sentence
    with their neighbours) into one passage at the better rank: an answer that runs over
    a chunk edge reaches the model whole, and no sentence is sent twice. A chunk that
    bridges two passages joins all three."""
    out: list[Passage] = []
    for p in passages:
        touching = [
            i
            for i, o in enumerate(out)
            if o.source == p.source and o.page == p.page and p.start <= o.end and o.start <= p.end
        ]
        if not touching:
            out.append(p)
            continue
        pieces = sorted([p, *(out[i] for i in touching)], key=lambda q: q.start)
        merged = pieces[0]
        for q in pieces[1:]:
            if q.end > merged.end:
                merged = replace(
                    merged, text=merged.text + q.text[merged.end - q.start :], end=q.end
                )
        rows = tuple(sorted({r for q in pieces for r in q.rows}))
        out[touching[0]] = replace(merged, score=max(q.score for q in pieces), rows=rows)
        for i in reversed(touching[1:]):
            del out[i]
    return out


def join_introduced(
    passages: Sequence[Passage], text_of: Callable[[str], str | None]
) -> list[Passage]:
    """A retrieved passage that ends introducing something ("... using this combination
    of CLI flags:") joined with the retrieved passage that holds it, when only blank and
    code-fence lines lie between them in the document (`text_of(source)`: its text, None
    if unreadable), at the better rank. The cleaner drops a fence line as a line without
    words, so a Markdown code block is a chunk of its own: guide g17's lead-in ranked
    first and its command fifth, and the first try held the lead-in alone. Keeping code
    with its lead-in at indexing reshuffled every Markdown set's top 5 (README, twenty-
    eighth session); joining what retrieval found together changes nothing else. Only
    text files write fences (web pages and PDFs never join: nothing is read for them)."""
    out = list(passages)
    i = 0
    while i < len(out):
        p = out[i]
        if LEAD_IN.search(p.text.rstrip()) and PurePath(p.source).suffix.lower() in TEXT_SUFFIXES:
            for j, q in enumerate(out):
                if j == i or (q.source, q.page, q.heading) != (p.source, p.page, p.heading):
                    continue
                if q.start < p.end:
                    continue
                text = text_of(p.source)
                if text is None or text[p.start : p.end] != p.text:
                    break
                gap = text[p.end : q.start]
                if (
                    "\n" not in gap
                    or text[q.start : q.end] != q.text
                    or not all(FENCE.match(line) or not line.strip() for line in gap.split("\n"))
                ):
                    continue
                joined = replace(
                    p,
                    text=text[p.start : q.end],
                    end=q.end,
                    score=max(p.score, q.score),
                    rows=tuple(sorted({*p.rows, *q.rows})),
                )
                out[min(i, j)] = joined
                del out[max(i, j)]
                i = min(i, j)
                break
        i += 1
    return out


def best_window(passage: Passage, chars: int, score: Callable[[str], float]) -> Passage:
    """`passage` cut to the run of whole sentences, at most `chars` long, that scores best
    as a whole (the earliest of equals): the part that holds most of what is asked, with
    what surrounds it, wherever the answer sits next to the words that match. A passage
    that fits is returned as it is; offsets stay exact."""
    if len(passage.text) <= chars:
        return passage
    spans = split_sentences(passage.text) or [(0, len(passage.text))]
    best, hi = (float("-inf"), 0, 0), 0
    for lo in range(len(spans)):
        hi = max(hi, lo)
        while hi + 1 < len(spans) and spans[hi + 1][1] - spans[lo][0] <= chars:
            hi += 1
        value = score(passage.text[spans[lo][0] : spans[hi][1]])
        if value > best[0]:
            best = (value, lo, hi)
        if hi + 1 == len(spans):
            break  # later windows hold less of the same end
    s, e = spans[best[1]][0], spans[best[2]][1]
    return replace(passage, text=passage.text[s:e], start=passage.start + s, end=passage.start + e)


def sentence_windows(
    passages: Sequence[Passage],
    query_vec: np.ndarray,
    embedder: Embedder,
    window: int = 1,
    coverage: Callable[[str], float] | None = None,
) -> list[Passage]:
    """Shrink each passage to `window` sentences either side of its best sentence,
    keeping the retrieval order."""
    if window <= 0 or not passages:
        return list(passages)
    spans = [split_sentences(p.text) or [(0, len(p.text))] for p in passages]
    flat = [(i, k) for i, ss in enumerate(spans) for k in range(len(ss))]
    vectors = embedder.embed([passages[i].text[slice(*spans[i][k])] for i, k in flat])
    best: dict[int, tuple[float, int]] = {}
    for (i, k), sim in zip(flat, vectors @ query_vec, strict=True):
        text = passages[i].text[slice(*spans[i][k])]
        score = float(sim) + (coverage(text) if coverage else 0.0)
        if i not in best or score > best[i][0]:
            best[i] = (score, k)
    out: list[Passage] = []
    for i in sorted(best):
        p, ss, k = passages[i], spans[i], best[i][1]
        s, e = ss[max(0, k - window)][0], ss[min(len(ss) - 1, k + window)][1]
        tight = replace(p, text=p.text[s:e], start=p.start + s, end=p.start + e)
        inside = any(
            o.source == tight.source and o.start <= tight.start and tight.end <= o.end for o in out
        )
        if not inside:
            out.append(tight)
    return out
