"""Tight passages: the best-matching sentence of each retrieved chunk, with its neighbours.

A 700-character chunk usually holds one sentence that answers the question. Sending a
window around it instead of the whole chunk roughly halves the prompt, and prompt
evaluation dominates answer latency on a CPU. Offsets stay exact: a window is a
sub-span of its chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from .chunking import split_sentences
from .embedding import Embedder
from .types import Passage


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
