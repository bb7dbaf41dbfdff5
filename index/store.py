"""The Chroma collection that holds our chunks, behind a small typed interface.

The directory carries a marker file so we never write into a folder that is not ours,
and never mix vectors from two different embedders in one index.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import offline  # noqa: F401  (sets the offline switches before chromadb loads)
from .embedding import ChromaEmbedding, Embedder
from .errors import IndexDirError, NotAnIndexError
from .lexical import LexicalIndex
from .types import Chunk, Passage
from .window import sentence_windows

MARKER = "rag-index.json"
FORMAT = 1
COLLECTION = "chunks"
_ADD_BATCH = 128
RRF_K = 60  # reciprocal rank fusion constant (Cormack et al.)


@dataclass(frozen=True)
class StoredDocument:
    """What the index knows of one document: enough to skip, replace or delete it."""

    source: str
    title: str
    content_hash: str
    root: str
    chunk_ids: tuple[str, ...]


def chunk_id(chunk: Chunk) -> str:
    """Stable and content-derived: the same chunk of the same file always gets the same id."""
    key = f"{chunk.source}\x00{chunk.start}\x00{chunk.end}\x00{chunk.text}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _check_dir(path: Path, embedder_name: str) -> dict | None:
    """Return the existing marker, None for a fresh directory; refuse anything else."""
    if path.exists() and not path.is_dir():
        raise NotAnIndexError(f"{path} is a file, not an index directory")
    marker = path / MARKER
    if marker.is_file():
        try:
            info = json.loads(marker.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexDirError(f"{marker} is unreadable; the index may be damaged") from exc
        if info.get("format") != FORMAT:
            raise IndexDirError(f"{path}: index format {info.get('format')} is not supported")
        if info.get("embedder") != embedder_name:
            raise IndexDirError(
                f"{path} was built with the embedder {info.get('embedder')!r}, not "
                f"{embedder_name!r}; index into a new directory instead"
            )
        return info
    if path.is_dir() and any(path.iterdir()):
        raise NotAnIndexError(
            f"{path} is not empty and is not a rag index; refusing to write into it. "
            "Choose a new or empty directory."
        )
    return None


class Store:
    """One index directory: a Chroma persistent collection of chunks plus our marker."""

    def __init__(self, path: Path | str, embedder: Embedder) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self.path = Path(path).expanduser().resolve()
        self.embedder = embedder
        existed = _check_dir(self.path, embedder.name) is not None
        self.path.mkdir(parents=True, exist_ok=True)
        self._client = chromadb.PersistentClient(
            path=str(self.path),
            settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False),
        )
        self._collection = self._client.get_or_create_collection(
            COLLECTION,
            embedding_function=ChromaEmbedding(embedder),
            configuration={"hnsw": {"space": "cosine"}},
        )
        if not existed:
            _write_json_atomic(self.path / MARKER, {"format": FORMAT, "embedder": embedder.name})
        self.lexical = LexicalIndex(self.path)

    def count(self) -> int:
        return self._collection.count()

    def documents(self) -> dict[str, StoredDocument]:
        """Every indexed document, keyed by source, from the chunks' own metadata."""
        got = self._collection.get(include=["metadatas"])
        grouped: dict[str, list[tuple[str, dict]]] = {}
        for cid, meta in zip(got["ids"], got["metadatas"] or [], strict=True):
            grouped.setdefault(str(meta["source"]), []).append((cid, meta))
        out = {}
        for source, rows in grouped.items():
            meta = rows[0][1]
            out[source] = StoredDocument(
                source=source,
                title=str(meta.get("title", source)),
                content_hash=str(meta.get("content_hash", "")),
                root=str(meta.get("root", "")),
                chunk_ids=tuple(cid for cid, _ in rows),
            )
        return out

    def add(self, chunks: Sequence[Chunk], content_hash: str, root: str) -> list[str]:
        """Embed and store chunks (idempotent: re-adding the same chunk is an upsert)."""
        ids = [chunk_id(c) for c in chunks]
        for i in range(0, len(chunks), _ADD_BATCH):
            batch = chunks[i : i + _ADD_BATCH]
            self._collection.upsert(
                ids=ids[i : i + _ADD_BATCH],
                documents=[c.text for c in batch],
                metadatas=[
                    {
                        "source": c.source,
                        "title": c.title,
                        "start": c.start,
                        "end": c.end,
                        "content_hash": content_hash,
                        "root": root,
                    }
                    for c in batch
                ],
            )
        return ids

    def delete(self, ids: Sequence[str]) -> None:
        for i in range(0, len(ids), 1000):
            self._collection.delete(ids=list(ids[i : i + 1000]))

    def term_weight(self, term: str) -> float:
        """How distinctive a token is in this index (its IDF); unseen tokens weigh most."""
        return self.lexical.idf(term)

    def term_coverage(self, query: str, text: str) -> float:
        """IDF-weighted share of the query's terms found in `text` (0..1)."""
        return self.lexical.coverage(query, text)

    def lexical_in_sync(self) -> bool:
        return len(self.lexical.ids()) == self.count()

    def refresh_lexical(self) -> None:
        """Rebuild BM25 from the chunks Chroma holds (after indexing, never per query)."""
        got = self._collection.get(include=["documents"])
        self.lexical.rebuild(got["ids"], [str(d) for d in got["documents"] or []])

    def search(
        self, query: str, k: int = 5, candidates: int = 30, window: int = 0
    ) -> list[Passage]:
        """Hybrid search: dense and BM25 rankings fused by reciprocal rank, best first.

        `score` is the chunk's cosine similarity to the query, also for BM25-only hits.
        With `window` > 0 each chunk is cut down to its best sentence +/- `window`.
        """
        total = self.count()
        if total == 0 or k <= 0:
            return []
        qvec = np.asarray(self.embedder.embed([query])[0], dtype=np.float32)
        n = min(candidates, total)
        dense = self._collection.query(
            query_embeddings=[qvec.tolist()],
            n_results=n,
            include=["documents", "metadatas", "distances"],
        )
        rows: dict[str, tuple[str, dict, float]] = {}
        fused: dict[str, float] = {}
        for rank, (cid, text, meta, dist) in enumerate(
            zip(
                dense["ids"][0],
                dense["documents"][0],
                dense["metadatas"][0],
                dense["distances"][0],
                strict=True,
            )
        ):
            rows[cid] = (str(text), dict(meta), 1.0 - float(dist))
            fused[cid] = 1.0 / (RRF_K + rank + 1)
        lexical = self.lexical.search(query, n)
        for rank, (cid, _) in enumerate(lexical):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
        missing = [cid for cid, _ in lexical if cid not in rows]
        if missing:
            got = self._collection.get(
                ids=missing, include=["documents", "metadatas", "embeddings"]
            )
            for cid, text, meta, emb in zip(
                got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True
            ):
                rows[cid] = (str(text), dict(meta), float(np.dot(np.asarray(emb), qvec)))
        best = sorted((cid for cid in fused if cid in rows), key=lambda c: -fused[c])[:k]
        passages = [self._passage(*rows[cid]) for cid in best]
        if window:
            cover = lambda text: self.lexical.coverage(query, text)  # noqa: E731
            passages = sentence_windows(passages, qvec, self.embedder, window, cover)
        return passages

    def dense_search(self, query: str, k: int = 5) -> list[Passage]:
        """Embedding similarity only: the naive baseline, kept for comparison."""
        total = self.count()
        if total == 0 or k <= 0:
            return []
        res = self._collection.query(
            query_texts=[query],
            n_results=min(k, total),
            include=["documents", "metadatas", "distances"],
        )
        return [
            self._passage(str(text), meta, 1.0 - float(dist))
            for text, meta, dist in zip(
                res["documents"][0], res["metadatas"][0], res["distances"][0], strict=True
            )
        ]

    @staticmethod
    def _passage(text: str, meta: dict, score: float) -> Passage:
        return Passage(
            source=str(meta["source"]),
            title=str(meta.get("title", meta["source"])),
            text=text,
            start=int(meta["start"]),
            end=int(meta["end"]),
            score=round(score, 4),
        )


def _write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2), "utf-8")
    os.replace(tmp, path)
