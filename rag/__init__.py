"""Local, offline question answering over your documents, with cited passages.

from rag import RAG
engine = RAG.open()                 # index dir, model: from settings / RAG_* env vars
engine.index(["docs/"])             # -> IndexReport (added, updated, unchanged, removed)
answer = engine.ask("Who is Meng Wanzhou?")
answer.text, answer.refused, answer.citations, answer.passages
"""

from index import Document, IndexReport, Passage, ProgressEvent, StoredDocument
from index.readers import SUPPORTED_SUFFIXES

from .conversations import Conversation, ConversationInfo, Conversations
from .engine import RAG
from .errors import (
    DocumentError,
    IndexDirError,
    IndexLockedError,
    InputError,
    ModelCorruptError,
    ModelError,
    ModelNotFoundError,
    NotAnIndexError,
    PathNotFoundError,
    RagError,
    UnknownConversationError,
    UnknownDocumentError,
)
from .settings import Settings
from .types import Answer, Citation, Event, Sentence, Timings

__all__ = [
    "SUPPORTED_SUFFIXES",
    "RAG",
    "Answer",
    "Citation",
    "Conversation",
    "ConversationInfo",
    "Conversations",
    "Document",
    "DocumentError",
    "Event",
    "IndexDirError",
    "IndexLockedError",
    "IndexReport",
    "InputError",
    "ModelCorruptError",
    "ModelError",
    "ModelNotFoundError",
    "NotAnIndexError",
    "Passage",
    "PathNotFoundError",
    "ProgressEvent",
    "RagError",
    "Sentence",
    "Settings",
    "StoredDocument",
    "Timings",
    "UnknownConversationError",
    "UnknownDocumentError",
]
