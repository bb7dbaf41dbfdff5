"""Documents, chunks, embeddings, the Chroma store and search. Never imports `rag` or `ui`."""

from . import offline  # noqa: F401  (first: sets offline switches before chromadb loads)
from .corpus import bundled_corpus
from .embedding import Embedder, EmbedderError, SentenceTransformerEmbedder, make_embedder
from .errors import (
    DocumentError,
    IndexDirError,
    IndexLockedError,
    InputError,
    NotAnIndexError,
    PathNotFoundError,
    RagError,
    UnknownDocumentError,
)
from .indexer import Progress, ProgressEvent, read_indexed, sync
from .snapshot import StoredDocument
from .store import Store
from .types import Chunk, Document, IndexReport, Passage

__all__ = [
    "Chunk",
    "Document",
    "DocumentError",
    "Embedder",
    "EmbedderError",
    "IndexDirError",
    "IndexLockedError",
    "IndexReport",
    "InputError",
    "NotAnIndexError",
    "Passage",
    "Progress",
    "ProgressEvent",
    "PathNotFoundError",
    "RagError",
    "UnknownDocumentError",
    "SentenceTransformerEmbedder",
    "make_embedder",
    "Store",
    "StoredDocument",
    "bundled_corpus",
    "read_indexed",
    "sync",
]
