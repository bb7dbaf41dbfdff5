"""Result types that leave the `index` layer. Chroma's shapes never do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

# The Chroma metadata keys of a chunk's text and heading path (absent when it has none):
# written by `store`, read back into `Passage`s by `search`.
TEXT = "text"
HEADING = "heading"
ROWS = "rows"  # printed table rows in a chunk, values named (JSON; see `columns`)
AUTHOR = "author"  # who the document says wrote it (absent when it does not say)
OPENED = "opened"  # the keyed list item a chunk opens inside (JSON; see `Opened`)

# (start, end, label, named): a printed table row's span in its document, its label, and
# the row written one line per value named by its row and column, which the model reads
# after the passages when the question names the row (`rag.prompts.asked_rows`)
TableRow = tuple[int, int, str, str]

# (end, keys): the keyed list item a chunk opens inside, below the line that names it
# ("**Default:** `8`." of "* `tabSize` {integer} …"): where the item ends in its document,
# and the keys it is about. What the chunk states before `end` is said of those keys.
Opened = tuple[int, tuple[str, ...]]


@dataclass(frozen=True)
class Document:
    """A readable file: `text` is the extracted text that chunk offsets point into."""

    source: str  # path relative to the folder it was indexed from (or the file name)
    path: str  # absolute path on disk when indexed
    title: str
    text: str
    content_hash: str  # of the file's bytes: unchanged files are skipped without parsing
    pages: tuple[tuple[int, int], ...] = ()  # PDF: (start, end) of each page in `text`
    rows: tuple[TableRow, ...] = ()  # PDF: its printed table rows, values named
    author: str = ""  # who the document says wrote it (a web page's byline metadata)


@dataclass(frozen=True)
class Chunk:
    """A span of a document: `document.text[start:end] == text` always holds."""

    source: str
    title: str
    text: str
    start: int
    end: int
    page: int | None = None  # 1-based page of a PDF
    # Where it sits, outermost first: "Guide > Running tests > Consecutive runs", from the
    # document's own structure (its title and headings); "" for plain text.
    heading: str = ""
    rows: tuple[TableRow, ...] = ()  # the document's table rows that overlap it
    author: str = ""  # its document's (see `Document.author`)
    opened: Opened | None = None  # the keyed list item it opens inside


def heading_path(title: str, path: Sequence[str]) -> str:
    """A document's title and the headings above a span, without saying the title twice."""
    parts = [p for p in path if p]
    if title and (not parts or parts[0].casefold() != title.casefold()):
        parts.insert(0, title)
    return " > ".join(parts)


@dataclass(frozen=True)
class Passage:
    """A retrieved span, best first; `score` is cosine similarity in [-1, 1]."""

    source: str
    title: str
    text: str
    start: int
    end: int
    score: float
    page: int | None = None  # 1-based page of a PDF
    heading: str = ""  # where it sits (see `Chunk.heading`)
    rows: tuple[TableRow, ...] = ()  # its chunks' table rows (`columns.held_rows`)
    author: str = ""  # who its document says wrote it (see `Document.author`)
    opened: Opened | None = None  # the keyed list item it opens inside (`Chunk.opened`)


@dataclass
class IndexReport:
    """What one indexing run did, in documents."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # source -> reason
    # Files in the folders that are no document type we read: extension -> how many
    skipped: dict[str, int] = field(default_factory=dict)
    chunks_added: int = 0  # chunks of added and updated documents
    chunks_embedded: int = 0  # of those, how many had to be embedded
    chunks_reused: int = 0  # ...and how many copied the vectors of identical content
    chunks_removed: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "removed": len(self.removed),
            "failed": len(self.failed),
        }

    def to_dict(self) -> dict:
        return {
            **self.counts(),
            "chunks_added": self.chunks_added,
            "chunks_embedded": self.chunks_embedded,
            "chunks_reused": self.chunks_reused,
            "chunks_removed": self.chunks_removed,
            "failures": dict(self.failed),
            "skipped_types": dict(self.skipped),
            "seconds": round(self.seconds, 3),
        }
