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
    """Shrink each passage to `window` sentences either side of its best sentence."""
    if window <= 0 or not passages:
        return list(passages)
    spans = [split_sentences(p.text) for p in passages]
    flat = [(i, s, e) for i, ss in enumerate(spans) for s, e in ss if len(ss) > 2 * window + 1]
    if not flat:
        return list(passages)
    vectors = embedder.embed([passages[i].text[s:e] for i, s, e in flat])
    sims = vectors @ query_vec
    best: dict[int, tuple[float, int]] = {}
    for (i, s, e), sim in zip(flat, sims, strict=True):
        score = float(sim) + (coverage(passages[i].text[s:e]) if coverage else 0.0)
        index = spans[i].index((s, e))
        if i not in best or score > best[i][0]:
            best[i] = (score, index)
    out: list[Passage] = []
    for i, p in enumerate(passages):
        if i not in best:
            out.append(p)
            continue
        k = best[i][1]
        s = spans[i][max(0, k - window)][0]
        e = spans[i][min(len(spans[i]) - 1, k + window)][1]
        tight = replace(p, text=p.text[s:e], start=p.start + s, end=p.start + e)
        if not any(
            o.source == tight.source and o.start <= tight.start and tight.end <= o.end for o in out
        ):
            out.append(tight)
    return out
