"""The Chroma collection that holds our chunks, behind a small typed interface.

The directory carries a marker file so we never write into a folder that is not ours,
and never mix vectors from two different embedders in one index. Chroma holds vectors;
the published snapshot (see `snapshot`) says which of them are visible.

Chroma runs in this process (vectors inside the index directory) or, with `chroma_url`,
as a server that many processes and indexes share. Either way the snapshot, the BM25
index, the write lock and the marker stay in the local directory; a server-backed index
owns one collection on the server, named once in its marker.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import uuid
from collections.abc import Collection, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np

from . import offline  # noqa: F401  (sets the offline switches before chromadb loads)
from .atomic import write_json_atomic
from .embedding import ChromaEmbedding, Embedder
from .errors import (
    IndexDirError,
    InputError,
    NotAnIndexError,
    UnknownDocumentError,
    map_exceptions,
)
from .lexical import Lexical, tokenize
from .lock import write_lock
from .readable import readable
from .search import CANDIDATES, Search
from .snapshot import Snapshot, Snapshots, StoredDocument
from .types import AUTHOR, HEADING, OPENED, ROWS, TEXT, Chunk, Passage

MARKER = "rag-index.json"
REEMBEDDING = "reembedding"  # marker key: the embedder an unfinished re-embedding is for
# 4: chunk texts in Chroma metadata (its full-text index of documents, which we never
# query, was 40 % of every write at 100k chunks). Older formats are upgraded on the first
# write: 1 had no snapshot manifest; 2 kept texts as Chroma documents, which are still
# read. A version of this code that reads texts from documents refuses format 4.
FORMAT = 4
# Vectors on a Chroma server: a format of its own, so a version of this code that knows
# nothing of servers refuses the directory instead of showing an empty index (3: texts
# as documents).
SERVER_FORMAT = 5
_UPGRADES = {2: FORMAT, 3: SERVER_FORMAT}
COLLECTION = "chunks"  # embedded indexes; a server-backed one gets "chunks-<random id>"
SERVER_TIMEOUT = httpx.Timeout(120.0, connect=10.0)
_ADD_BATCH = 256
_GET_BATCH = 5000


def chunk_id(chunk: Chunk) -> str:
    """Stable and content-derived: the same chunk of the same file always gets the same id."""
    key = f"{chunk.source}\x00{chunk.start}\x00{chunk.end}\x00{chunk.text}"
    if chunk.heading:  # what is embedded: the same text under another heading differs
        key += f"\x00{chunk.heading}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _check_dir(path: Path, embedder_name: str, reembed: bool = False) -> dict | None:
    """Return the existing marker, None for a fresh directory; refuse anything else.
    With `reembed`, an index of another embedder is returned, to be embedded again."""
    if path.exists() and not path.is_dir():
        raise NotAnIndexError(f"{path} is a file, not an index directory")
    marker = path / MARKER
    if marker.is_file():
        try:
            info = json.loads(marker.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexDirError(f"{marker} is unreadable; the index may be damaged") from exc
        if info.get("format") not in (1, FORMAT, SERVER_FORMAT, *_UPGRADES):
            raise IndexDirError(f"{path}: index format {info.get('format')} is not supported")
        if info.get(REEMBEDDING) and not reembed:
            raise IndexDirError(
                f"{path}: embedding it again with {info[REEMBEDDING]!r} was interrupted; "
                "finish it with `rag index --reembed`"
            )
        if info.get("embedder") != embedder_name and not reembed:
            raise IndexDirError(
                f"{path} was built with the embedder {info.get('embedder')!r}, not "
                f"{embedder_name!r} (RAG_EMBED_BACKEND): embed it again with "
                "`rag index --reembed`, set RAG_EMBED_BACKEND back, or use a new directory"
            )
        return info
    if path.is_dir() and any(path.iterdir()):
        raise NotAnIndexError(
            f"{path} is not empty and is not a rag index; refusing to write into it. "
            "Choose a new or empty directory."
        )
    return None


def _check_backend(path: Path, info: dict | None, chroma_url: str) -> None:
    """Refuse to open a server-backed index without its server, or an embedded one with one:
    either way the other side holds no vectors and the index would look empty."""
    if info is None:
        return
    served = info.get("format") in (3, SERVER_FORMAT)
    if served and not chroma_url:
        raise IndexDirError(
            f"{path} keeps its vectors on a Chroma server (collection {info.get('collection')!r},"
            f" created at {info.get('chroma_url')}); set RAG_CHROMA_URL to that server"
        )
    if not served and chroma_url:
        raise IndexDirError(
            f"{path} is an embedded index (its vectors are in the directory), not one on the "
            f"Chroma server {chroma_url}; unset RAG_CHROMA_URL or index into a new directory"
        )


def parse_chroma_url(url: str) -> tuple[str, int, bool]:
    """(host, port, ssl) of a Chroma server URL such as http://127.0.0.1:8000."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path.strip("/")
        or parts.query
    ):
        raise InputError(
            f"RAG_CHROMA_URL {url!r} is not a Chroma server address like http://127.0.0.1:8000"
        )
    ssl = parts.scheme == "https"
    return parts.hostname, port or (443 if ssl else 80), ssl


class _ServerCollection:
    """A collection on a Chroma server whose failures name the server, not its client.

    Every call the store makes goes through here, so a server that stops or errors
    mid-way surfaces as one `IndexDirError`, never as an httpx traceback.
    """

    def __init__(self, collection: Any, url: str) -> None:
        self._collection = collection
        self._url = url

    def _call(self, method: str, **kwargs: Any) -> Any:
        from chromadb.errors import ChromaError

        where = f"the Chroma server at {self._url} (RAG_CHROMA_URL)"
        with map_exceptions(
            {
                httpx.HTTPError: lambda e: IndexDirError(f"{where} failed: {e or type(e)}"),
                ChromaError: lambda e: IndexDirError(f"{where} refused {method}: {e}"),
            }
        ):
            return getattr(self._collection, method)(**kwargs)

    def count(self) -> int:
        return int(self._call("count"))

    def get(self, **kwargs: Any) -> Any:
        return self._call("get", **kwargs)

    def query(self, **kwargs: Any) -> Any:
        return self._call("query", **kwargs)

    def upsert(self, **kwargs: Any) -> None:
        self._call("upsert", **kwargs)

    def update(self, **kwargs: Any) -> None:
        self._call("update", **kwargs)

    def delete(self, **kwargs: Any) -> None:
        self._call("delete", **kwargs)


def _batches(items: Sequence[str], size: int = _GET_BATCH) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


class Store:
    """One index directory: Chroma vectors, the published snapshot, and our marker.

    Writers (`sync`, `remove`) hold the directory's lock and make their work visible
    with `commit`; readers never lock and only ever see committed documents.
    With `chroma_url` the vectors live on that Chroma server instead of in `path`.
    """

    def __init__(
        self, path: Path | str, embedder: Embedder, chroma_url: str = "", reembed: bool = False
    ) -> None:
        self.path = Path(path).expanduser().resolve()
        self.embedder = embedder
        self.chroma_url = chroma_url.strip().rstrip("/")
        if self.chroma_url:
            parse_chroma_url(self.chroma_url)  # a bad URL fails before anything is created
        info = _check_dir(self.path, embedder.name, reembed)
        _check_backend(self.path, info, self.chroma_url)
        marker = info or {"format": FORMAT, "embedder": embedder.name}
        if info is None and self.chroma_url:
            marker = {
                "format": SERVER_FORMAT,
                "embedder": embedder.name,
                "collection": f"{COLLECTION}-{uuid.uuid4().hex}",  # unique on a shared server
                "chroma_url": self.chroma_url,  # informative: the server may move
            }
        self._collection_name = str(marker.get("collection", COLLECTION))
        self.path.mkdir(parents=True, exist_ok=True)
        self.snapshots = Snapshots(self.path, self._texts)
        self._open_chroma(fresh=True)
        self._legacy = info is not None and info.get("format") == 1
        self._marker = marker
        if info is None:
            write_json_atomic(self.path / MARKER, marker)
        self._seen = self.snapshots.pointer()
        self._reopen_lock = threading.Lock()
        self._empty = Lexical([], [])
        self._search = Search(self)  # the read side: hybrid and dense search
        self.reembedded = 0  # chunks embedded again when opened with `reembed`
        if info is not None and (info.get(REEMBEDDING) or info.get("embedder") != embedder.name):
            self.reembedded = self._reembed()

    def _reembed(self) -> int:
        """Replace every stored vector with this embedder's, from the stored texts.

        The marker names the new embedder only when all vectors are its own; until then it
        says a re-embedding is under way, and the index opens for nothing but finishing it,
        so old and new vectors are never searched together.
        """
        with self.writing():
            self._marker = {**self._marker, REEMBEDDING: self.embedder.name}
            write_json_atomic(self.path / MARKER, self._marker)
            ids = list(self._collection.get(include=[])["ids"])
            for batch in _batches(ids, _ADD_BATCH):
                vectors = self.embedder.embed(self._texts(batch))
                self._collection.update(ids=batch, embeddings=vectors)
            self._marker = {k: v for k, v in self._marker.items() if k != REEMBEDDING} | {
                "embedder": self.embedder.name
            }
            write_json_atomic(self.path / MARKER, self._marker)
        return len(ids)

    def _open_chroma(self, fresh: bool = False) -> None:
        """Open the collection; `fresh` drops chromadb's per-path cache of loaded state.

        chromadb keeps one in-memory system per path per process, which does not notice
        vectors another process (or Store) added: every Store starts from what is on
        disk, and a reader reopens when someone else commits. A server has no such cache:
        every client sees every writer's vectors.
        """
        if self.chroma_url:
            self._open_server()
            return
        import chromadb
        from chromadb.api.shared_system_client import SharedSystemClient
        from chromadb.config import Settings as ChromaSettings

        if fresh:
            SharedSystemClient._identifier_to_system.pop(str(self.path), None)
            SharedSystemClient._identifier_to_refcount.pop(str(self.path), None)
        self._client = chromadb.PersistentClient(
            path=str(self.path),
            settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False),
        )
        self._collection = self._client.get_or_create_collection(
            COLLECTION,
            embedding_function=ChromaEmbedding(embedder=self.embedder),
            configuration={"hnsw": {"space": "cosine"}},
        )

    def _open_server(self) -> None:
        """Connect to the Chroma server and open this index's collection on it.

        Once a snapshot is published the collection must already exist: a server that
        lost it (reset, or another server at the same address) is an error, not an
        empty index.
        """
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from chromadb.errors import ChromaError, NotFoundError

        url = self.chroma_url
        host, port, ssl = parse_chroma_url(url)
        hint = f"cannot reach the Chroma server at {url} (RAG_CHROMA_URL)"
        unreachable = {
            httpx.HTTPStatusError: lambda e: IndexDirError(
                f"{hint}: HTTP {e.response.status_code} from {url}/api/v2/heartbeat "
                "(is it a Chroma 1.x server?)"
            ),
            # chromadb wraps connection failures in ValueError
            Exception: lambda e: IndexDirError(f"{hint}: {e or type(e).__name__}"),
        }
        with map_exceptions(unreachable):
            # our own short-timeout probe: chromadb's client waits forever on a dead host
            with httpx.Client(timeout=SERVER_TIMEOUT, trust_env=False) as probe:
                probe.get(f"{url}/api/v2/heartbeat").raise_for_status()
            client = chromadb.HttpClient(
                host=host,
                port=port,
                ssl=ssl,
                settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False),
            )
        session = getattr(getattr(client, "_server", None), "_session", None)
        if isinstance(session, httpx.Client):
            session.timeout = SERVER_TIMEOUT  # chromadb's default is none at all
        self._client = client
        name = self._collection_name
        unopenable = {
            NotFoundError: lambda e: IndexDirError(
                f"the Chroma server at {url} has no collection {name!r}, which {self.path} "
                "was indexed into (was the server's data reset, or is this another server?); "
                "index into a new directory"
            ),
            (httpx.HTTPError, ChromaError, ValueError): lambda e: IndexDirError(
                f"the Chroma server at {url} (RAG_CHROMA_URL) cannot open collection {name!r}: {e}"
            ),
        }
        with map_exceptions(unopenable):
            if self.snapshots.exists():
                collection = client.get_collection(
                    name, embedding_function=ChromaEmbedding(embedder=self.embedder)
                )
            else:
                collection = client.get_or_create_collection(
                    name,
                    embedding_function=ChromaEmbedding(embedder=self.embedder),
                    configuration={"hnsw": {"space": "cosine"}},
                )
        self._collection = _ServerCollection(collection, url)

    # -- what is committed ------------------------------------------------------------

    def committed(self) -> Snapshot | None:
        """What is committed now (None: nothing yet, or a format-1 index); a reader takes
        it once per query, so a commit mid-query never mixes two states."""
        snap = self.snapshots.current()
        name = snap.name if snap else None
        if name != self._seen:  # another process committed: see its vectors too
            with self._reopen_lock:
                if name != self._seen:
                    if not self.chroma_url:  # a server already shows every writer's vectors
                        self._open_chroma(fresh=True)
                    self._seen = name
        return snap

    @property
    def lexical(self) -> Lexical:
        return self.lexical_at(self.committed())

    def lexical_at(self, snap: Snapshot | None) -> Lexical:
        """The BM25 index of one committed state."""
        return snap.lexical if snap else self._empty

    def count(self) -> int:
        """Committed chunks (what search can return)."""
        return self.count_visible(self.visible(self.committed()))

    def count_visible(self, visible: frozenset[str] | None) -> int:
        return self._collection.count() if visible is None else len(visible)

    def documents(self) -> dict[str, StoredDocument]:
        """Every committed document, keyed by source."""
        return self.documents_at(self.committed())

    def documents_at(self, snap: Snapshot | None) -> dict[str, StoredDocument]:
        """The documents of one committed state (as `committed` returned it)."""
        if snap is None:
            return self._legacy_documents() if self._legacy else {}
        return dict(snap.documents)

    def _legacy_documents(self) -> dict[str, StoredDocument]:
        """Format-1 indexes kept their document list only in the chunks' metadata."""
        got = self._collection.get(include=["metadatas"])
        grouped: dict[str, list[tuple[str, dict]]] = {}
        for cid, meta in zip(got["ids"], got["metadatas"] or [], strict=True):
            grouped.setdefault(str(meta["source"]), []).append((cid, meta))
        return {
            source: StoredDocument(
                source=source,
                title=str(rows[0][1].get("title", source)),
                content_hash=str(rows[0][1].get("content_hash", "")),
                root=str(rows[0][1].get("root", "")),
                chunk_ids=tuple(cid for cid, _ in rows),
            )
            for source, rows in grouped.items()
        }

    # -- writing ------------------------------------------------------------------------

    @contextmanager
    def writing(self) -> Iterator[None]:
        """The write lock (fails at once if taken); upgrades an older format first."""
        with write_lock(self.path):
            newer = _UPGRADES.get(self._marker.get("format", 0))
            if newer:  # texts now go to metadata; those already in documents stay readable
                self._marker = {**self._marker, "format": newer}
                write_json_atomic(self.path / MARKER, self._marker)
            if self._legacy:
                self.commit(self._legacy_documents())
                self._marker = {"format": FORMAT, "embedder": self.embedder.name}
                write_json_atomic(self.path / MARKER, self._marker)
                (self.path / "lexical.json").unlink(missing_ok=True)
                for old in self.path.glob("lexical-*"):
                    shutil.rmtree(old, ignore_errors=True)
                self._legacy = False
            yield

    def stored_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of `ids` Chroma already holds (left by an interrupted run, or unchanged)."""
        found: set[str] = set()
        for batch in _batches(ids):
            found.update(self._collection.get(ids=batch, include=[])["ids"])
        return found

    def embeddings(self, ids: Sequence[str]) -> dict[str, list[float]]:
        """Stored vectors by id, to reuse them for identical content under another name."""
        out: dict[str, list[float]] = {}
        for batch in _batches(ids):
            got = self._collection.get(ids=batch, include=["embeddings"])
            for cid, emb in zip(got["ids"], got["embeddings"], strict=True):
                out[cid] = [float(x) for x in emb]
        return out

    def upsert(
        self,
        chunks: Sequence[Chunk],
        content_hashes: Sequence[str],
        embeddings: Sequence[Sequence[float]] | None = None,
    ) -> list[str]:
        """Store chunks (embedding them unless vectors are given); invisible until `commit`."""
        ids = [chunk_id(c) for c in chunks]
        metadatas = []
        for c, digest in zip(chunks, content_hashes, strict=True):
            meta: dict[str, str | int] = {
                "source": c.source,
                "title": c.title,
                "start": c.start,
                "end": c.end,
                "content_hash": digest,
                TEXT: c.text,
            }
            if c.page is not None:
                meta["page"] = c.page
            if c.heading:
                meta[HEADING] = c.heading
            if c.rows:
                meta[ROWS] = json.dumps(c.rows, ensure_ascii=False)
            if c.author:
                meta[AUTHOR] = c.author
            if c.opened:
                meta[OPENED] = json.dumps(c.opened, ensure_ascii=False)
            metadatas.append(meta)
        # Chroma writes one batch while the next is embedded (both release the GIL); one
        # write in flight at most, and all done before returning: `commit` comes after.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="chroma-write") as writer:
            pending: Future[None] | None = None
            for i in range(0, len(chunks), _ADD_BATCH):
                part = slice(i, i + _ADD_BATCH)
                if embeddings is None:
                    vectors = self.embedder.embed([searchable(c) for c in chunks[part]])
                else:
                    vectors = np.asarray(embeddings[part], dtype=np.float32)
                if pending is not None:
                    pending.result()  # a failed write stops the run here
                pending = writer.submit(
                    self._collection.upsert,
                    ids=ids[part],
                    embeddings=vectors,
                    metadatas=metadatas[part],  # type: ignore[arg-type]
                )
            if pending is not None:
                pending.result()
        return ids

    def commit(self, documents: dict[str, StoredDocument]) -> None:
        """Publish `documents` as what search sees, with BM25 over exactly their chunks."""
        ids = [cid for doc in documents.values() for cid in doc.chunk_ids]
        snap = self.snapshots.publish(documents.values(), ids)
        self._seen = snap.name

    def _texts(self, ids: list[str]) -> list[str]:
        """Chunk texts from Chroma, in the order of `ids`; all of them or an error."""
        texts: dict[str, str] = {}
        for batch in _batches(ids):
            got = self._collection.get(ids=batch, include=["metadatas", "documents"])
            texts.update(
                (cid, _searchable_meta(_text(doc, meta), meta))
                for cid, doc, meta in zip(
                    got["ids"], got["documents"], got["metadatas"], strict=True
                )
            )
        missing = [cid for cid in ids if cid not in texts]
        if missing:
            raise IndexDirError(
                f"{self.path}: {len(missing)} chunks to publish are missing from Chroma"
            )
        return [texts[cid] for cid in ids]

    def collect_garbage(self) -> int:
        """Delete vectors no committed document uses (left by updates or killed runs)."""
        snap = self.committed()
        keep = snap.chunk_ids if snap else frozenset()
        if self._collection.count() == len(keep):
            return 0
        stored = self._collection.get(include=[])["ids"]
        stale = [cid for cid in stored if cid not in keep]
        for batch in _batches(stale, 1000):
            self._collection.delete(ids=batch)
        return len(stale)

    # -- reading ------------------------------------------------------------------------

    def term_weight(self, term: str) -> float:
        """How distinctive a token is in this index (its IDF); unseen tokens weigh most."""
        return self.lexical.idf(term)

    def mentions(self, source: str, term: str) -> bool:
        """Whether the document `source` has every word of `term` somewhere: in a chunk,
        its title or its name. (True when there is nothing to judge by: an unknown
        document, a format-1 index, a term without content words.)"""
        snap = self.committed()
        doc = snap.documents.get(source) if snap is not None else None
        words = tokenize(term)
        if doc is None or not words:
            return True
        lexical, own = self.lexical_at(snap), set(doc.chunk_ids)
        named = set(tokenize(f"{doc.title} {source}"))
        return all(w in named or not own.isdisjoint(lexical.chunks_with(w)) for w in words)

    def term_coverage(self, query: str, text: str) -> float:
        """IDF-weighted share of the query's terms found in `text` (0..1)."""
        return self.lexical.coverage(query, text)

    def visible(self, snap: Snapshot | None) -> frozenset[str] | None:
        """Committed chunk ids; None means everything in Chroma (format-1 index)."""
        if snap is None:
            return None if self._legacy else frozenset()
        return snap.chunk_ids

    def nearest(
        self,
        qvec: np.ndarray,
        n: int,
        visible: frozenset[str] | None,
        where: dict[str, Any] | None = None,
    ) -> list[tuple[str, float]]:
        """Top-n committed chunks by cosine: (id, similarity), ids and distances only.

        Texts are fetched later for the few that make the final cut: at 100k chunks,
        reading 30 documents and metadatas from SQLite cost more than the vector search.
        Uncommitted vectors (a write in progress, or left by a killed one) are skipped by
        asking Chroma for more until n visible ones are found or it has no more. `where`
        filters by metadata inside Chroma (chosen documents), so a small scope among many
        chunks does not page through the whole collection.
        """
        ask, stored = n, None  # n never exceeds the visible chunks, so Chroma holds n
        while True:
            res = self._collection.query(
                query_embeddings=[qvec.tolist()],
                n_results=ask,
                include=["distances"],
                **({"where": where} if where else {}),
            )
            rows = [
                (cid, 1.0 - float(dist))
                for cid, dist in zip(res["ids"][0], res["distances"][0], strict=True)
                if visible is None or cid in visible
            ]
            if len(rows) >= n:
                return rows[:n]
            if stored is None:  # only now: Chroma's count costs ~12 ms at 100k chunks
                stored = self._collection.count()
            if ask >= stored:
                return rows
            ask = min(stored, ask * 4)

    def rows(self, ids: Sequence[str], qvec: np.ndarray) -> dict[str, tuple[str, dict, float]]:
        """Text, metadata and cosine to the query of the chunks `ids`."""
        if not ids:
            return {}
        got = self._collection.get(ids=list(ids), include=["documents", "metadatas", "embeddings"])
        return {
            cid: (_text(doc, meta), dict(meta), float(np.dot(np.asarray(emb), qvec)))
            for cid, doc, meta, emb in zip(
                got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True
            )
        }

    def search(
        self,
        query: str,
        k: int = 5,
        candidates: int = CANDIDATES,
        window: int = 0,
        also: Sequence[str] = (),
        sources: Collection[str] | None = None,
    ) -> list[Passage]:
        """Hybrid search of what is committed (see `index.search.Search.hybrid`)."""
        return self._search.hybrid(query, k, candidates, window, also, sources)

    def dense_search(self, query: str, k: int = 5) -> list[Passage]:
        """Embedding similarity only: the naive baseline, kept for comparison."""
        return self._search.dense(query, k)

    def resolve_sources(self, names: Iterable[str]) -> list[str]:
        """Indexed documents named by `names`: a source ("report.pdf", "guide/intro.md") or
        a folder prefix ("guide" or "guide/") of sources. A name that matches nothing is an
        `InputError` naming what is indexed, so a typo never widens or empties a question's
        scope silently."""
        docs = sorted(self.documents())
        chosen: list[str] = []
        for name in names:
            if not isinstance(name, str) or not name.strip("/ "):
                raise InputError(f"not a document name: {name!r}")
            folder = name.strip().strip("/") + "/"
            hits = [s for s in docs if s == name.strip() or s.startswith(folder)]
            if not hits:
                shown = ", ".join(docs[:8]) + (
                    f" (and {len(docs) - 8} more)" if len(docs) > 8 else ""
                )
                raise UnknownDocumentError(
                    f"no indexed document is named {name!r} or lies in a folder of that name"
                    + (f"; indexed: {shown}" if docs else "; the index is empty")
                )
            chosen.extend(hits)
        if not chosen:
            raise InputError("choose at least one document")
        return list(dict.fromkeys(chosen))


def searchable(chunk: Chunk) -> str:
    """What is embedded and indexed for BM25: where the chunk sits, then its text. A
    section's words ("Profiles > opt-level") are often the ones a question uses."""
    return _searchable(chunk.heading, chunk.text)


def _searchable_meta(text: str, meta: Any) -> str:
    return _searchable(str(meta.get(HEADING, "")) if meta else "", text)


def _searchable(heading: str, text: str) -> str:
    text = readable(text)
    return f"{heading}\n{text}" if heading else text


def _text(document: str | None, meta: Any) -> str:
    """A chunk's text: in its metadata since format 4, its Chroma document before."""
    text = meta.get(TEXT) if meta else None
    return str(text if text is not None else document)
