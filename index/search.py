"""Hybrid search over what an index has committed. It only reads: every write (sync,
uploads, removal) goes through the indexer and `Store`.

Dense (MiniLM over Chroma) and BM25 rankings are fused by weighted reciprocal rank, the
best fused candidates are ranked again by their best sentence, and exact evidence wins
(a chunk holding the whole query verbatim comes first; near-duplicates give way).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .lexical import tokenize
from .types import AUTHOR, HEADING, OPENED, ROWS, Opened, Passage, TableRow
from .window import SentenceVectors, best_sentence_similarity, merge_overlapping, sentence_windows

if TYPE_CHECKING:
    from .store import Store

RRF_K = 60  # reciprocal rank fusion constant (Cormack et al.)
# Candidates from each ranking, and their weights in the fusion. Chosen on every
# evaluation set together (bench/quality.py --retrieval-only; recall@5 of whole chunks):
# 30 candidates and equal weights gave dev 1.0, html 0.90, docs 0.71, pdf 0.59; 50 and
# lexical 1.5 give 1.0, 0.90, 0.82, 0.65. BM25 carries the exact names, numbers and
# identifiers questions use; dense near-duplicates no longer outvote it.
CANDIDATES = 50
DENSE_WEIGHT, LEXICAL_WEIGHT = 1.0, 1.5
# A second stage: the best fused candidates ranked again by their best sentence's cosine
# to the question, that ranking fused in as a third vote. A chunk's vector averages all
# its sentences, so one that states the answer among other matter ("less than 64 bytes
# of metadata for each 64 MB chunk") ranks below chunks that are about the topic
# throughout. Chosen on every set together (bench/quality.py --retrieval-only): weight
# 1.0 raised recall@5 on pdf 0.647 -> 0.824 and MRR on every set (html 0.78 -> 0.81,
# docs 0.72 -> 0.75, pdf 0.53 -> 0.61), with no set's recall or share in the top 2
# lower; weight 2.0 pushed dev's d02 from rank 1 to 3. A pool of 10 embeds half the
# sentences (median retrieval 0.5 s against 0.7-0.9 s for 20, measured beside a CI run;
# sentences are cached for follow-ups) but ranked pdf12's answer out of the top 5 (pdf
# recall 0.765); 30 ranked as 20.
SENTENCE_POOL = 20
SENTENCE_WEIGHT = 1.0
EXACT_MIN_CHARS = 16  # a query this long found verbatim in a chunk is a known-item lookup
# Two chunks sharing this share of their words (Jaccard) say the same thing: keep one.
NEAR_DUPLICATE = 0.9


class Search:
    """The read side of one `Store`: what `Store.search` and `Store.dense_search` run."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.sentences = SentenceVectors(store.embedder)  # follow-ups re-read the same sentences

    def hybrid(
        self,
        query: str,
        k: int = 5,
        candidates: int = CANDIDATES,
        window: int = 0,
        also: Sequence[str] = (),
        sources: Collection[str] | None = None,
        fresh: bool = True,
    ) -> list[Passage]:
        """Hybrid search: dense and BM25 rankings fused by weighted reciprocal rank.

        `also`: other wordings of the same need, whose rankings are fused in too (a
        follow-up's rewrite may lose its referent; its words with the previous question's
        keep it). Scores, the exact-match rule and windows follow `query`. `sources`: only
        these documents are searched, by both rankings (see `resolve_sources`). `fresh`:
        whether a search that raced a commit may run again on the new snapshot (once).

        Then exact evidence wins: a chunk holding the whole query verbatim (a pasted line,
        an error message) comes first, and a chunk that nearly repeats a better one (the
        same option text on ten command pages) gives its place to the next. `score` is the
        chunk's cosine similarity to the query, also for BM25-only hits. With `window` > 0
        each chunk is cut down to its best sentence +/- `window`.
        """
        snap = self.store.committed()  # read once: a commit mid-query must not mix two states
        visible = self.store.visible(snap)
        lexical = self.store.lexical_at(snap)
        allowed, where = None, None
        if sources is not None:
            docs = self.store.documents_at(snap)
            allowed = frozenset(c for s in sources if s in docs for c in docs[s].chunk_ids)
            visible = allowed if visible is None else visible & allowed
            where = {"source": {"$in": sorted(sources)}}
        total = self.store.count_visible(visible)
        if total == 0 or k <= 0:
            return []
        queries = list(dict.fromkeys([query, *also]))
        qvecs = np.asarray(self.store.embedder.embed(queries), dtype=np.float32)
        qvec = qvecs[0]
        n = min(max(candidates, k), total)
        fused: dict[str, float] = {}
        lexical_hits: list[tuple[str, float]] = []
        for text, vec in zip(queries, qvecs, strict=True):
            for rank, (cid, _) in enumerate(self.store.nearest(vec, n, visible, where)):
                fused[cid] = fused.get(cid, 0.0) + DENSE_WEIGHT / (RRF_K + rank + 1)
            hits = lexical.search(text, n, allowed)
            for rank, (cid, _) in enumerate(hits):
                fused[cid] = fused.get(cid, 0.0) + LEXICAL_WEIGHT / (RRF_K + rank + 1)
            lexical_hits += hits[:k]
        ranked = sorted(fused, key=lambda c: -fused[c])
        # Texts for a few more than k: room to skip near-duplicates, and the best lexical
        # hits, which are the only chunks that can hold the whole query verbatim.
        pool = ranked[:SENTENCE_POOL]
        look = list(dict.fromkeys(pool + ranked[: 3 * k] + [cid for cid, _ in lexical_hits]))
        rows = self.store.rows(look, qvec)
        pool = [cid for cid in pool if cid in rows]
        best = best_sentence_similarity([rows[c][0] for c in pool], qvec, self.sentences)
        for rank, i in enumerate(np.argsort(-best, kind="stable")):
            fused[pool[i]] += SENTENCE_WEIGHT / (RRF_K + rank + 1)
        ranked = sorted(fused, key=lambda c: -fused[c])  # only the pool's order can change
        if len(rows) < min(k, len(ranked)):  # ids gone since the snapshot: look further
            rows.update(self.store.rows(ranked[3 * k :], qvec))
            if len(rows) < min(k, len(ranked)) and self.store.committed() is not snap and fresh:
                # a commit replaced what this snapshot saw: search what it published
                return self.hybrid(query, k, candidates, window, also, sources, fresh=False)
        order = [cid for cid in ranked if cid in rows]
        exact = _squash(query)
        if len(exact) >= EXACT_MIN_CHARS:
            order.sort(key=lambda cid: exact not in _squash(rows[cid][0]))  # stable
        chunks: list[Passage] = []
        given: list[Passage] = []  # what the model is given: k of them
        seen: list[set[str]] = []
        for cid in order:
            words = set(tokenize(rows[cid][0]))
            if any(_near_duplicate(words, other) for other in seen):
                continue
            seen.append(words)
            chunks.append(passage(*rows[cid]))
            # Without windows, neighbouring chunks (they share a sentence) join into one
            # passage, and the next chunk fills the place the join freed.
            given = chunks if window else merge_overlapping(chunks)
            if len(given) >= k:
                break
        if window:
            cover = lambda text: lexical.coverage(query, text)  # noqa: E731
            return sentence_windows(given, qvec, self.sentences, window, cover)
        return given

    def dense(self, query: str, k: int = 5) -> list[Passage]:
        """Embedding similarity only: the naive baseline, kept for comparison."""
        visible = self.store.visible(self.store.committed())
        if self.store.count_visible(visible) == 0 or k <= 0:
            return []
        qvec = np.asarray(self.store.embedder.embed([query])[0], dtype=np.float32)
        ids = [cid for cid, _ in self.store.nearest(qvec, k, visible)]
        rows = self.store.rows(ids, qvec)
        return [passage(*rows[cid]) for cid in ids if cid in rows]


def passage(text: str, meta: dict, score: float) -> Passage:
    """A Chroma row as our `Passage`: the one place its metadata keys are read."""
    return Passage(
        source=str(meta["source"]),
        title=str(meta.get("title", meta["source"])),
        text=text,
        start=int(meta["start"]),
        end=int(meta["end"]),
        score=round(score, 4),
        page=int(meta["page"]) if "page" in meta else None,
        heading=str(meta.get(HEADING, "")),
        rows=table_rows(meta.get(ROWS)),
        author=str(meta.get(AUTHOR, "")),
        opened=opened_item(meta.get(OPENED)),
    )


def opened_item(stored: object) -> Opened | None:
    """A chunk's opened item as `Store.upsert` wrote it; None from what is no JSON
    [end, [keys]] (an index from before it was stored, a damaged entry)."""
    try:
        end, keys = json.loads(stored) if isinstance(stored, str) else stored  # type: ignore[misc]
        return (int(end), tuple(str(k) for k in keys)) if keys else None
    except (ValueError, TypeError):
        return None


def table_rows(stored: object) -> tuple[TableRow, ...]:
    """A chunk's table rows as `Store.upsert` wrote them; none from what is no list of
    (start, end, label, named) (an index from before they were stored, a damaged entry)."""
    try:
        rows = json.loads(stored) if isinstance(stored, str) else stored
        return tuple((int(s), int(e), str(label), str(t)) for s, e, label, t in rows or ())
    except (ValueError, TypeError):
        return ()


def _squash(text: str) -> str:
    return " ".join(text.lower().split())


def _near_duplicate(a: set[str], b: set[str]) -> bool:
    if not a or not b:
        return False
    return len(a & b) >= NEAR_DUPLICATE * len(a | b)
