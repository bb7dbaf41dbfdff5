"""BM25 over the chunk texts, persisted beside the Chroma collection.

Dense MiniLM search misses rare names and numbers ("Torigian", "49,000"); BM25 finds
them. The index is rebuilt only when indexing changes the chunks, never per query. It
is written to a fresh folder and published by atomically replacing a small pointer
file, so a reader never sees a half-written index.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Loaded:
    name: str  # the published folder this was read from
    bm25: Any
    ids: list[str]
    idf: dict[str, float]
    max_idf: float  # the weight of a term the index has never seen


class LexicalIndex:
    """BM25 (bm25s) over chunk ids and texts, stored in `<db>/lexical-*/`.

    Whether another process published a newer index is checked once per query (`search`)
    and at index time (`ids`); term weights then come from memory, since they are asked
    for per word of every answer sentence.
    """

    POINTER = "lexical.json"

    def __init__(self, root: Path) -> None:
        self.root = root
        self._loaded: _Loaded | None = None

    def _current(self) -> str | None:
        try:
            return json.loads((self.root / self.POINTER).read_text("utf-8"))["dir"]
        except (OSError, ValueError, KeyError):
            return None

    def ids(self) -> list[str]:
        """Chunk ids covered by the published index (empty if none)."""
        loaded = self._load()
        return list(loaded.ids) if loaded else []

    def rebuild(self, ids: Sequence[str], texts: Sequence[str]) -> None:
        import bm25s

        name = f"lexical-{uuid.uuid4().hex[:12]}"
        folder = self.root / name
        folder.mkdir(parents=True)
        tokens = [tokenize(t) or ["\x00empty"] for t in texts]
        if ids:
            bm25 = bm25s.BM25()
            bm25.index(tokens, show_progress=False)
            bm25.save(str(folder), show_progress=False)
        df = Counter(t for doc in tokens for t in set(doc))
        idf = {t: math.log(1 + (len(tokens) - n + 0.5) / (n + 0.5)) for t, n in df.items()}
        (folder / "ids.json").write_text(json.dumps({"ids": list(ids), "idf": idf}), "utf-8")
        pointer = self.root / (self.POINTER + ".tmp")
        pointer.write_text(json.dumps({"dir": name}), "utf-8")
        os.replace(pointer, self.root / self.POINTER)
        for old in self.root.glob("lexical-*"):
            if old.name != name:
                shutil.rmtree(old, ignore_errors=True)

    def _load(self) -> _Loaded | None:
        """The published index, re-read only when the pointer names a new folder."""
        name = self._current()
        if name is None:
            return None
        if self._loaded is None or self._loaded.name != name:
            import bm25s

            folder = self.root / name
            meta = json.loads((folder / "ids.json").read_text("utf-8"))
            bm25 = bm25s.BM25.load(str(folder), show_progress=False) if meta["ids"] else None
            idf = meta["idf"]
            self._loaded = _Loaded(name, bm25, meta["ids"], idf, max(idf.values(), default=1.0))
        return self._loaded

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) best first; only chunks sharing a term with the query."""
        loaded = self._load()
        terms = tokenize(query)
        if not loaded or loaded.bm25 is None or not terms:
            return []
        k = min(k, len(loaded.ids))
        docs, scores = loaded.bm25.retrieve([terms], k=k, show_progress=False, n_threads=1)
        return [
            (loaded.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0
        ]

    def idf(self, term: str) -> float:
        """Inverse document frequency of a token; unseen terms count as the rarest."""
        loaded = self._loaded or self._load()
        if loaded is None:
            return 1.0
        return loaded.idf.get(term, loaded.max_idf)

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
