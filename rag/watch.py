"""`rag index --watch`: keep an index in sync with folders while files come and go.

Every batch of file-system changes (debounced: an editor's save or a copied folder is one
batch) triggers an ordinary incremental `RAG.index` run over the same paths, so watching
has exactly the guarantees of indexing: unchanged files are skipped by hash, a rename
reuses its vectors, a deletion removes its chunks, each run takes the one-writer lock and
publishes atomically (a kill leaves the old or the new state). A run that fails (another
writer holds the lock, a folder vanished) is reported and the next change tries again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import watchfiles

from index import IndexReport
from index.readers import SUPPORTED_SUFFIXES

from .engine import RAG
from .errors import RagError

# Milliseconds of quiet before a batch of changes is indexed: long enough that a file
# copied in pieces or a folder moved in is one run, short enough to feel immediate.
DEBOUNCE_MS = 1000

Report = Callable[[IndexReport | RagError], None]


def watch(
    engine: RAG,
    paths: Sequence[str | Path],
    on_report: Report,
    stop: threading.Event | None = None,
    debounce_ms: int = DEBOUNCE_MS,
) -> None:
    """Index `paths`, then again after every batch of changes, until `stop` is set (or
    Ctrl-C). The first run's errors (a missing path) are raised; later ones reported."""
    targets = [Path(p) for p in paths]
    on_report(engine.index(targets))
    own = engine.store.path.resolve()

    def relevant(change: watchfiles.Change, path: str) -> bool:
        p = Path(path)
        if p.resolve().is_relative_to(own):  # the index's own files (uploads, SQLite)
            return False
        # a deleted folder has no suffix to tell by: it may have held documents
        return p.suffix.lower() in SUPPORTED_SUFFIXES or change == watchfiles.Change.deleted

    for _ in watchfiles.watch(
        *targets,
        watch_filter=relevant,
        debounce=debounce_ms,
        stop_event=stop,
        raise_interrupt=False,  # Ctrl-C ends the loop; the last run has finished or not begun
    ):
        try:
            on_report(engine.index(targets))
        except RagError as exc:
            on_report(exc)
