"""What search may see: the committed documents and the BM25 index over exactly their chunks.

Chroma holds vectors, but it is not the source of truth for which documents are indexed:
an indexer killed mid-document leaves some of its chunks in Chroma. A snapshot is
written to a fresh `snapshot-*/` folder (manifest + BM25), flushed to disk, and published
by atomically replacing the small `snapshot.json` pointer. Search only returns chunks the
current snapshot lists, so a reader sees the old state or the new one, never a
half-indexed document, and the vector and lexical sides always agree.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from .atomic import fsync, write_json_atomic, write_synced
from .lexical import Lexical, TextsOf

POINTER = "snapshot.json"
PREFIX = "snapshot-"


@dataclass(frozen=True)
class StoredDocument:
    """What the index knows of one document: enough to list, skip, replace or delete it."""

    source: str
    title: str
    content_hash: str
    root: str  # the folder it was indexed from (folders are mirrored)
    chunk_ids: tuple[str, ...]
    path: str = ""  # where the file was when indexed
    pages: int = 0  # PDF page count (0 for other formats)


@dataclass(frozen=True)
class Snapshot:
    name: str
    documents: dict[str, StoredDocument]
    lexical: Lexical
    chunk_ids: frozenset[str]


class Snapshots:
    """Publishes snapshots and loads the current one (re-read only when it changes).

    `texts_of` reads chunk texts from the vector store: each commit reads only the chunks
    it adds, and a snapshot saved by an older version has its BM25 rebuilt from them.
    """

    def __init__(self, root: Path, texts_of: TextsOf) -> None:
        self.root = root
        self.texts_of = texts_of
        self._loaded: Snapshot | None = None

    def pointer(self) -> str | None:
        try:
            return json.loads((self.root / POINTER).read_text("utf-8"))["dir"]
        except (OSError, ValueError, KeyError):
            return None

    def exists(self) -> bool:
        return self.pointer() is not None

    def published(self) -> float | None:
        """When the current snapshot was published (the index last changed), epoch seconds."""
        try:
            return (self.root / POINTER).stat().st_mtime
        except OSError:
            return None

    def current(self) -> Snapshot | None:
        """The published snapshot, or None before the first commit."""
        for _ in range(3):  # a writer may replace it between reading the pointer and loading
            name = self.pointer()
            if name is None:
                return None
            if self._loaded is not None and self._loaded.name == name:
                return self._loaded
            try:
                self._loaded = self._read(name)
                return self._loaded
            except (OSError, ValueError, KeyError):
                continue
        raise OSError(f"{self.root}: the published snapshot keeps disappearing")

    def _read(self, name: str) -> Snapshot:
        folder = self.root / name
        raw = json.loads((folder / "documents.json").read_text("utf-8"))
        documents = {
            d["source"]: StoredDocument(**{**d, "chunk_ids": tuple(d["chunk_ids"])}) for d in raw
        }
        try:
            lexical = Lexical.load(folder)
        except ValueError:  # saved by an older version, or damaged
            if self.pointer() != name:
                raise  # replaced while we read it: load the new one
            # Rebuilt in memory only: a reader holds no lock to write with.
            ids = [cid for doc in documents.values() for cid in doc.chunk_ids]
            lexical = Lexical.build(None, ids, self.texts_of)
        return Snapshot(name, documents, lexical, frozenset(lexical.ids))

    def publish(self, documents: Iterable[StoredDocument], ids: Sequence[str]) -> Snapshot:
        """Write a complete snapshot, then switch the pointer to it in one atomic step.

        Only the caller (holding the write lock) publishes, so the current snapshot stays
        on disk while its BM25 counts are reused.
        """
        try:
            previous = self.current()
        except OSError:
            previous = None  # unreadable: rebuild BM25 from every text
        name = f"{PREFIX}{uuid.uuid4().hex[:12]}"
        folder = self.root / name
        folder.mkdir(parents=True)
        docs = sorted(documents, key=lambda d: d.source)
        try:
            lexical = Lexical.build(folder, ids, self.texts_of, previous and previous.lexical)
        except (OSError, ValueError):  # the previous counts are damaged: count every chunk
            lexical = Lexical.build(folder, ids, self.texts_of)
        write_synced(folder / "documents.json", json.dumps([asdict(d) for d in docs]))
        for file in folder.iterdir():
            fsync(file)
        fsync(folder)
        write_json_atomic(self.root / POINTER, {"dir": name})  # the switch, all or nothing
        self._loaded = Snapshot(name, {d.source: d for d in docs}, lexical, frozenset(ids))
        self.remove_stale()
        return self._loaded

    def remove_stale(self) -> None:
        """Delete folders of older or never-published snapshots."""
        current = self.pointer()
        for old in self.root.glob(f"{PREFIX}*"):
            if old.name != current and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
