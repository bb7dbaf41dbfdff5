"""BM25 over the chunk texts, persisted in the index's published snapshot.

Dense MiniLM search misses rare names and numbers ("Torigian", "49,000"); BM25 finds
them. It changes only when indexing changes the chunks, never per query, and it is
published together with the list of documents it covers (see `snapshot`).

Each snapshot keeps every chunk's term counts next to the scores, so a commit tokenizes
only the chunks it adds and recomputes the scores in a few numpy passes: re-reading and
re-tokenizing every chunk at each commit took 12 s at 100k chunks. Scores are Lucene's
BM25 (k1 1.5, b 0.75), the variant Lucene and bm25s use.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import IndexDirError

_TOKEN = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")
STOPWORDS = frozenset(
    (
        "a an the of to in on for and or but is are was were be been being by with as at from "
        "that this these those it its he she they them his her their which who whom what when "
        "where why how did does do done not no has have had will would can could should may "
        "might than then there here also into about after before over under up down out so "
        "if any all some such more most other only own same too very just i you we our your "
        "me my us say said says according many much"
    ).split()
)
K1, B = 1.5, 0.75
META = "lexical.json"  # chunk ids and terms, in the order the arrays use
ARRAYS = "bm25.npz"

TextsOf = Callable[[list[str]], list[str]]  # chunk ids -> their texts, same order


def tokenize(text: str) -> list[str]:
    """Lowercased content words, with a light plural/possessive strip so 'tariffs' = 'tariff'."""
    out = []
    for word in _TOKEN.findall(text.lower().replace("’", "'").replace("'s ", " ")):
        if word in STOPWORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.append(word)
    return out


class LexicalFormatError(IndexDirError, ValueError):
    """A snapshot written by an older version (bm25s files): rebuild from the texts.
    (A ValueError too: readers of damaged snapshots catch both alike.)"""


@dataclass(frozen=True)
class Postings:
    """Term counts chunk by chunk (CSR): chunk i owns terms[offsets[i]:offsets[i + 1]]."""

    terms: np.ndarray  # int32 term ids
    counts: np.ndarray  # int32 occurrences of the term in the chunk
    offsets: np.ndarray  # int64, one more than there are chunks
    lengths: np.ndarray  # int32 tokens per chunk, repeats included

    @classmethod
    def empty(cls) -> Postings:
        return cls(_i32([]), _i32([]), np.zeros(1, np.int64), _i32([]))

    @classmethod
    def of_tokens(cls, docs: Sequence[list[str]], vocab: dict[str, int]) -> Postings:
        """Count each chunk's tokens, adding unseen terms to `vocab`."""
        terms: list[int] = []
        counts: list[int] = []
        offsets = [0]
        for tokens in docs:
            for term, n in Counter(tokens).items():
                terms.append(vocab.setdefault(term, len(vocab)))
                counts.append(n)
            offsets.append(len(terms))
        return cls(
            _i32(terms), _i32(counts), np.asarray(offsets, np.int64), _i32([len(t) for t in docs])
        )

    def __len__(self) -> int:
        return len(self.lengths)

    def take(self, rows: np.ndarray) -> Postings:
        """The chunks `rows`, in that order."""
        starts, sizes = self.offsets[rows], np.diff(self.offsets)[rows]
        offsets = np.zeros(len(rows) + 1, np.int64)
        np.cumsum(sizes, out=offsets[1:])
        # position j of the result comes from starts[chunk of j] + (j - offsets[chunk of j])
        index = np.repeat(starts - offsets[:-1], sizes) + np.arange(offsets[-1])
        return Postings(self.terms[index], self.counts[index], offsets, self.lengths[rows])

    def concat(self, other: Postings) -> Postings:
        return Postings(
            np.concatenate([self.terms, other.terms]),
            np.concatenate([self.counts, other.counts]),
            np.concatenate([self.offsets, other.offsets[1:] + self.offsets[-1]]),
            np.concatenate([self.lengths, other.lengths]),
        )


def _arrays(folder: Path, names: Sequence[str]) -> dict[str, np.ndarray]:
    """Named arrays of a saved BM25; damage is a ValueError like a bad JSON file."""
    try:
        with np.load(folder / ARRAYS, allow_pickle=False) as z:
            return {name: z[name] for name in names}
    except (zipfile.BadZipFile, KeyError, EOFError) as exc:
        raise ValueError(f"{folder / ARRAYS} is damaged: {exc}") from exc


def _i32(values: Sequence[int]) -> np.ndarray:
    return np.asarray(values, dtype=np.int32)


class Lexical:
    """BM25 over chunk ids, as a term-by-chunk score matrix (CSC), saved in one folder.

    Term weights come from memory: they are asked for per word of every answer sentence.
    """

    def __init__(
        self,
        ids: list[str],
        terms: list[str],
        postings: Postings | None = None,
        folder: Path | None = None,
    ) -> None:
        self.ids = ids
        self.terms = terms
        self.vocab = {t: i for i, t in enumerate(terms)}
        self._postings = postings  # None: still on disk in `folder`
        self._folder = folder
        self.df = np.zeros(len(terms), np.int64)
        self._docs = self._scores = np.zeros(0)
        self._starts = np.zeros(1, np.int64)
        self.idf_array = np.zeros(0)
        self.max_idf = 1.0  # the weight of a never-seen term

    # -- building -------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        folder: Path | None,
        ids: Sequence[str],
        texts_of: TextsOf,
        previous: Lexical | None = None,
    ) -> Lexical:
        """BM25 over `ids`; chunks `previous` already covers are not read or tokenized again.

        With a `folder` the result is saved there, ready for the next build to reuse.
        """
        ids = list(ids)
        old_rows = {cid: i for i, cid in enumerate(previous.ids)} if previous else {}
        fresh = [cid for cid in dict.fromkeys(ids) if cid not in old_rows]
        texts = texts_of(fresh) if fresh else []
        vocab = dict(previous.vocab) if previous else {}
        pool = previous.postings() if previous else Postings.empty()
        added = Postings.of_tokens([tokenize(t) for t in texts], vocab)
        new_rows = {cid: len(pool) + i for i, cid in enumerate(fresh)}
        pool = pool.concat(added)
        rows = np.asarray([old_rows[c] if c in old_rows else new_rows[c] for c in ids], np.int64)
        postings = pool.take(rows)
        terms = list(vocab)
        # Drop terms no chunk uses any more, so the vocabulary does not grow forever.
        used = np.bincount(postings.terms, minlength=len(terms)) > 0
        if not used.all():
            renumber = np.cumsum(used, dtype=np.int64) - 1
            postings = Postings(
                renumber[postings.terms].astype(np.int32),
                postings.counts,
                postings.offsets,
                postings.lengths,
            )
            terms = [t for t, keep in zip(terms, used, strict=True) if keep]
        lexical = cls(ids, terms, postings)
        lexical._score()
        if folder is not None:
            lexical._save(folder)
        return lexical

    def postings(self) -> Postings:
        """Per-chunk term counts, read from the snapshot folder on first use (writers only)."""
        if self._postings is None:
            assert self._folder is not None
            z = _arrays(self._folder, ("terms", "counts", "offsets", "lengths"))
            self._postings = Postings(z["terms"], z["counts"], z["offsets"], z["lengths"])
        return self._postings

    def _score(self) -> None:
        """The CSC score matrix: for each term, the chunks holding it and their BM25 scores."""
        p = self.postings()
        n, n_terms = len(p), len(self.terms)
        chunk = np.repeat(np.arange(n, dtype=np.int32), np.diff(p.offsets))
        avg = float(p.lengths.mean()) if n and p.lengths.sum() else 1.0
        self.df = np.bincount(p.terms, minlength=n_terms).astype(np.int64)
        self._set_idf(n)
        tf = p.counts.astype(np.float32)
        norm = K1 * (1 - B + B * p.lengths[chunk].astype(np.float32) / avg)
        scores = self.idf_array[p.terms].astype(np.float32) * tf / (tf + norm)
        order = np.argsort(p.terms, kind="stable")  # chunk order kept within each term
        self._docs, self._scores = chunk[order], scores[order]
        self._starts = np.zeros(n_terms + 1, np.int64)
        np.cumsum(self.df, out=self._starts[1:])

    def _set_idf(self, n: int) -> None:
        df = self.df.astype(np.float64)
        self.idf_array = np.log(1 + (n - df + 0.5) / (df + 0.5))
        self.max_idf = float(self.idf_array.max()) if len(self.idf_array) else 1.0

    def _save(self, folder: Path) -> None:
        p = self.postings()
        with open(folder / ARRAYS, "wb") as fh:
            np.savez(
                fh,
                terms=p.terms,
                counts=p.counts,
                offsets=p.offsets,
                lengths=p.lengths,
                docs=self._docs,
                scores=self._scores,
                starts=self._starts,
            )
        meta = {"ids": self.ids, "terms": self.terms}
        (folder / META).write_text(json.dumps(meta), "utf-8")
        self._folder = folder

    @classmethod
    def load(cls, folder: Path) -> Lexical:
        """The saved scores; the per-chunk counts stay on disk until a writer needs them."""
        if not (folder / META).is_file() and (folder / "ids.json").is_file():
            raise LexicalFormatError(f"{folder}: BM25 saved by an older version")
        meta = json.loads((folder / META).read_text("utf-8"))
        lexical = cls(meta["ids"], meta["terms"], folder=folder)
        z = _arrays(folder, ("docs", "scores", "starts"))
        lexical._docs, lexical._scores, lexical._starts = z["docs"], z["scores"], z["starts"]
        if len(lexical._starts) != len(lexical.terms) + 1:
            raise ValueError(f"{folder / ARRAYS} does not match {folder / META}")
        lexical.df = np.diff(lexical._starts)
        lexical._set_idf(len(lexical.ids))
        return lexical

    # -- reading --------------------------------------------------------------------------

    def search(
        self, query: str, k: int, allowed: frozenset[str] | None = None
    ) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) best first; only chunks sharing a term with the query
        and, when `allowed` is given, only those chunks (a question about chosen documents).
        """
        found = {self.vocab[t] for t in tokenize(query) if t in self.vocab}
        if not found or not self.ids or k <= 0:
            return []
        spans = [slice(self._starts[t], self._starts[t + 1]) for t in sorted(found)]
        docs = np.concatenate([self._docs[s] for s in spans])
        weights = np.concatenate([self._scores[s] for s in spans])
        scores = np.bincount(docs, weights=weights, minlength=len(self.ids))
        if allowed is not None:
            scores[[i for i in np.flatnonzero(scores) if self.ids[i] not in allowed]] = 0.0
        hits = np.flatnonzero(scores > 0)
        if len(hits) > k:
            hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
        hits = hits[np.lexsort((hits, -scores[hits]))]  # best first, ties in index order
        return [(self.ids[i], float(scores[i])) for i in hits]

    def chunks_with(self, term: str) -> set[str]:
        """The chunks holding the token `term` (as `tokenize` writes it)."""
        i = self.vocab.get(term)
        if i is None:
            return set()
        return {self.ids[c] for c in self._docs[self._starts[i] : self._starts[i + 1]]}

    def idf(self, term: str) -> float:
        """Inverse document frequency of a token; unseen terms count as the rarest."""
        i = self.vocab.get(term)
        return self.max_idf if i is None else float(self.idf_array[i])

    def coverage(self, query: str, text: str) -> float:
        """IDF-weighted share of the query's terms that occur in `text` (0..1).

        A passage that holds the rare words of the question is evidence of relevance even
        when its embedding is far from the question's.
        """
        terms = set(tokenize(query))
        if not terms:
            return 0.0
        present = set(tokenize(text))
        weight = {t: self.idf(t) for t in terms}
        return sum(w for t, w in weight.items() if t in present) / sum(weight.values())
