"""Make the index mirror a set of files and folders.

Per document: unchanged content (by hash) is skipped, changed content is re-chunked and
its new chunks are stored *before* the old ones are deleted, so a document never
disappears from search mid-update. A file that fails to read keeps its old chunks.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .chunking import chunk_document
from .clean import clean
from .errors import DocumentError, PathNotFoundError
from .readers import SUPPORTED_SUFFIXES, read_text
from .store import Store
from .types import Document, IndexReport

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class _Target:
    file: Path
    source: str
    root: str


def _collect(paths: Iterable[Path | str]) -> tuple[list[_Target], list[str]]:
    """Resolve arguments to files and the folder roots they mirror; fail before any change."""
    resolved = [Path(p).expanduser() for p in paths]
    missing = [str(p) for p in resolved if not p.exists()]
    if missing:
        raise PathNotFoundError(f"no such file or directory: {', '.join(missing)}")
    targets: dict[str, _Target] = {}
    roots: list[str] = []
    for path in resolved:
        path = path.resolve()
        if path.is_dir():
            roots.append(str(path))
            for file in sorted(path.rglob("*")):
                rel = file.relative_to(path)
                if any(part.startswith(".") for part in rel.parts):
                    continue
                if file.is_file() and file.suffix.lower() in SUPPORTED_SUFFIXES:
                    targets[rel.as_posix()] = _Target(file, rel.as_posix(), str(path))
        else:
            targets[path.name] = _Target(path, path.name, str(path.parent))
    return list(targets.values()), roots


def load_document(file: Path, source: str) -> tuple[Document, list[tuple[int, int]]]:
    """Read and clean one file: the document and the spans of its article text."""
    text = read_text(file)
    cleaned = clean(text, fallback_title=file.stem)
    if not cleaned.blocks:
        raise DocumentError(f"{source}: no article text left after removing boilerplate")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    doc = Document(source, str(file), cleaned.title, text, digest)
    return doc, cleaned.blocks


def sync(
    store: Store,
    paths: Iterable[Path | str],
    *,
    chunk_chars: int = 700,
    overlap_sentences: int = 1,
    progress: Progress | None = None,
) -> IndexReport:
    """Index `paths` into `store`; folders are mirrored (files gone from them are removed)."""
    started = time.perf_counter()
    targets, roots = _collect(paths)
    existing = store.documents()
    report = IndexReport()
    for i, target in enumerate(targets):
        if progress:
            progress(i, len(targets), target.source)
        try:
            doc, blocks = load_document(target.file, target.source)
        except DocumentError as exc:
            report.failed[target.source] = str(exc)
            continue
        old = existing.get(target.source)
        if old is not None and old.content_hash == doc.content_hash:
            report.unchanged.append(doc.source)
            continue
        chunks = chunk_document(
            doc.source, doc.title, doc.text, blocks, chunk_chars, overlap_sentences
        )
        new_ids = store.add(chunks, doc.content_hash, target.root)
        report.chunks_added += len(chunks)
        if old is None:
            report.added.append(doc.source)
        else:
            stale = sorted(set(old.chunk_ids) - set(new_ids))
            store.delete(stale)
            report.chunks_removed += len(stale)
            report.updated.append(doc.source)
    seen = {t.source for t in targets}
    for source, old in existing.items():
        if old.root in roots and source not in seen:
            store.delete(old.chunk_ids)
            report.chunks_removed += len(old.chunk_ids)
            report.removed.append(source)
    if report.changed or not store.lexical_in_sync():
        store.refresh_lexical()
    if progress:
        progress(len(targets), len(targets), "")
    report.seconds = time.perf_counter() - started
    return report
