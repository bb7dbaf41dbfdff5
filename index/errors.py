"""The project's one exception tree.

It lives in the lowest layer so that `index` can raise it without importing `rag`;
`rag` re-exports it and adds the model errors::

    RagError
    ├── InputError            bad question (empty, too long) or bad argument
    │   └── UnknownDocumentError  a document name that is not indexed
    ├── PathNotFoundError     a path to index does not exist
    ├── DocumentError         a file that cannot be read as a document
    ├── IndexError_           base of index-directory problems
    │   ├── NotAnIndexError   the directory holds something that is not our index
    │   └── IndexLockedError  another process is writing to the index
    └── (rag) ModelError      missing / corrupt model file, model part not installed

A vendor's exceptions (Chroma, httpx, llama.cpp) become these at the boundary where the
vendor is called, through `map_exceptions` (httpx's own pattern): one table per boundary
says which vendor error becomes which of ours, and with what message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

# A vendor exception type (or a tuple of them) -> how it becomes ours.
ExceptionMap = Mapping[
    type[BaseException] | tuple[type[BaseException], ...], Callable[[Exception], "RagError"]
]


@contextmanager
def map_exceptions(mapping: ExceptionMap) -> Iterator[None]:
    """Re-raise a vendor exception inside the block as the `RagError` the first matching
    entry of `mapping` makes of it (chained, so the vendor's traceback stays readable).

    Our own errors pass through untouched (a vendor may call back into our code, as
    Chroma calls our embedder); anything the table does not name is a bug and propagates
    as it is.
    """
    try:
        yield
    except RagError:
        raise
    except Exception as exc:
        for kinds, make in mapping.items():
            if isinstance(exc, kinds):
                raise make(exc) from exc
        raise


class RagError(Exception):
    """Base of every error this project raises on purpose; the CLI and UI show its message."""


class InputError(RagError, ValueError):
    """A question or argument the user must change."""


class UnknownDocumentError(InputError):
    """A document was named (to read it, or to limit a question to it) that is not indexed."""


class PathNotFoundError(RagError, FileNotFoundError):
    """A path given for indexing does not exist."""


class DocumentError(RagError):
    """A file could not be read as a document (unsupported type, undecodable, empty)."""


class IndexDirError(RagError):
    """The index directory cannot be used."""


class NotAnIndexError(IndexDirError):
    """The directory exists and holds files that are not ours: refuse to write into it."""


class IndexLockedError(IndexDirError):
    """Another process holds the index's write lock; readers are unaffected."""
