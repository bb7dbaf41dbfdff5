"""The index's own folder of uploaded files, and taking documents out of the index.

Uploads are copied into `<index>/uploads/` and indexed like any folder, so `sync` keeps
them exact and crash-safe. Removing a document commits the smaller document list (its
vectors are collected after); removing an upload also deletes the index's own copy,
or the next upload (a sync of that folder) would bring it back.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from .errors import InputError
from .indexer import Progress, sync
from .readers import SUPPORTED_SUFFIXES
from .store import Store
from .types import IndexReport

UPLOADS = "uploads"  # folder inside the index directory for files added through the UI


def add_files(
    store: Store,
    files: Sequence[str | Path],
    *,
    max_bytes: int,
    chunk_chars: int,
    progress: Progress | None = None,
) -> IndexReport:
    """Copy `files` into the index's upload folder and index that folder.

    Each file is checked first (type, size, a plain name); one bad file refuses the whole
    batch before anything is copied, so a failed upload changes nothing. A copy lands
    under its name only once complete (written aside, then renamed).
    """
    checked: list[tuple[Path, str]] = []
    for file in files:
        path = Path(file)
        name = path.name
        if not name or name.startswith(".") or name != name.strip():
            raise InputError(f"{name!r}: not an acceptable file name")
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            allowed = " ".join(sorted(SUPPORTED_SUFFIXES))
            raise InputError(f"{name}: file type not accepted (allowed: {allowed})")
        if not path.is_file():
            raise InputError(f"{name}: not a readable file")
        if path.stat().st_size > max_bytes:
            raise InputError(f"{name}: over the {max_bytes // (1024 * 1024)} MB limit")
        checked.append((path, name))
    if not checked:
        raise InputError("no files to add")
    folder = uploads_dir(store)
    folder.mkdir(exist_ok=True)
    for path, name in checked:
        tmp = folder / f".{name}.part"
        shutil.copyfile(path, tmp)
        os.replace(tmp, folder / name)
    return sync(store, [folder], chunk_chars=chunk_chars, max_bytes=max_bytes, progress=progress)


def remove(store: Store, sources: Sequence[str]) -> list[str]:
    """Take documents out of the index; returns the sources that were there. Files are
    not touched, except the index's own copies of uploads."""
    folder = uploads_dir(store)
    with store.writing():
        docs = store.documents()
        gone = [s for s in sources if s in docs]
        if gone:
            store.commit({s: d for s, d in docs.items() if s not in gone})
            store.collect_garbage()
    for source in gone:
        if Path(docs[source].root) == folder.resolve():
            (folder / source).unlink(missing_ok=True)
    return gone


def uploads_dir(store: Store) -> Path:
    """Where uploads are kept: inside the index, mirrored like a folder."""
    return store.path / UPLOADS
