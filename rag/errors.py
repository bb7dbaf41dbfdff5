"""The model errors, added to the one tree rooted at `index.errors.RagError`."""

from index.errors import (
    DocumentError,
    ExceptionMap,
    IndexDirError,
    IndexLockedError,
    InputError,
    NotAnIndexError,
    PathNotFoundError,
    RagError,
    UnknownDocumentError,
    map_exceptions,
)


class UnknownConversationError(InputError):
    """A conversation id that does not exist, or is not this user's."""


class ModelError(RagError):
    """The language model cannot be prepared or loaded."""


class ModelNotFoundError(ModelError, FileNotFoundError):
    """A model file, or a package holding part of one, is missing."""


class ModelCorruptError(ModelError):
    """A model file or part fails its size or sha256 check."""


__all__ = [
    "DocumentError",
    "ExceptionMap",
    "IndexDirError",
    "IndexLockedError",
    "InputError",
    "ModelCorruptError",
    "ModelError",
    "ModelNotFoundError",
    "NotAnIndexError",
    "PathNotFoundError",
    "RagError",
    "UnknownConversationError",
    "UnknownDocumentError",
    "map_exceptions",
]
