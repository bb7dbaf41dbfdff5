"""BM25 over the chunk texts, persisted in the index's published snapshot.

Dense MiniLM search misses rare names and numbers ("Torigian", "49,000"); BM25 finds
them. It is rebuilt only when indexing changes the chunks, never per query, and it is
published together with the list of documents it covers (see `snapshot`).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_TOKEN = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")
STOPWORDS = frozenset(
    (
        "a an the of to in on for and or but is are was were be been being by with as at from "
        "that this these those it its he she they them his her their which who whom what when "
        "where why how did does do done not no has have had will would can could should may "
        "might than then there here also into about after before over under up down out so "
        "if any all some such more most other only own same too very just i you we our your "
        "me my us say said says according"
    ).split()
)


def tokenize(text: str) -> list[str]:
    """Lowercased content words, with a light plural/possessive strip so 'tariffs' = 'tariff'."""
    out = []
    for word in _TOKEN.findall(text.lower().replace("’", "'").replace("'s ", " ")):
        if word in STOPWORDS:
            continue
        if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.append(word)
    return out


class Lexical:
    """BM25 (bm25s) over chunk ids and texts, saved in and loaded from one folder.

    Term weights come from memory: they are asked for per word of every answer sentence.
    """

    def __init__(self, bm25: Any, ids: list[str], idf: dict[str, float]) -> None:
        self.bm25 = bm25
        self.ids = ids
        self.idf_table = idf
        self.max_idf = max(idf.values(), default=1.0)  # the weight of a never-seen term

    @classmethod
    def build(cls, folder: Path, ids: Sequence[str], texts: Sequence[str]) -> Lexical:
        import bm25s

        tokens = [tokenize(t) or ["\x00empty"] for t in texts]
        bm25 = None
        if ids:
            bm25 = bm25s.BM25()
            bm25.index(tokens, show_progress=False)
            bm25.save(str(folder), show_progress=False)
        df = Counter(t for doc in tokens for t in set(doc))
        idf = {t: math.log(1 + (len(tokens) - n + 0.5) / (n + 0.5)) for t, n in df.items()}
        (folder / "ids.json").write_text(json.dumps({"ids": list(ids), "idf": idf}), "utf-8")
        return cls(bm25, list(ids), idf)

    @classmethod
    def load(cls, folder: Path) -> Lexical:
        import bm25s

        meta = json.loads((folder / "ids.json").read_text("utf-8"))
        bm25 = bm25s.BM25.load(str(folder), show_progress=False) if meta["ids"] else None
        return cls(bm25, meta["ids"], meta["idf"])

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) best first; only chunks sharing a term with the query."""
        terms = tokenize(query)
        if self.bm25 is None or not terms:
            return []
        k = min(k, len(self.ids))
        docs, scores = self.bm25.retrieve([terms], k=k, show_progress=False, n_threads=1)
        return [
            (self.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0
        ]

    def idf(self, term: str) -> float:
        """Inverse document frequency of a token; unseen terms count as the rarest."""
        return self.idf_table.get(term, self.max_idf)

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
