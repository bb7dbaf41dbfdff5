"""Turn a file into text without ever crashing on its bytes.

Offsets of every chunk point into the string returned here. Text files are decoded
as they are; HTML, PDF and Word files go through `extract`. Every refusal is a
`DocumentError` that names the file and says why.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from .errors import DocumentError
from .extract import Extracted, html_text, pdf_text
from .word import docx_text

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdx"})
# Plain text as written: notes, and markup whose syntax reads as text (reStructuredText,
# AsciiDoc, Org): their words are indexed, their headings are not parsed.
TEXT_SUFFIXES = MARKDOWN_SUFFIXES | {".txt", ".text", ".rst", ".adoc", ".asciidoc", ".org"}
HTML_SUFFIXES = frozenset({".html", ".htm"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | {".pdf", ".docx"}
MAX_FILE_BYTES = 20 * 1024 * 1024

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode(data: bytes, name: str = "file") -> str:
    """UTF-8 / BOM-marked Unicode first, Latin-1 as the last resort; binary is refused."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise DocumentError(f"{name}: not valid {encoding} despite its BOM") from exc
    if b"\x00" in data[:8192]:
        raise DocumentError(f"{name}: looks binary (NUL bytes), not a text document")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_bytes(path: Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The raw file, refused when its type is unsupported or it is over `max_bytes`."""
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        allowed = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise DocumentError(f"{path.name}: unsupported file type (supported: {allowed})")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DocumentError(f"{path.name}: {size:,} bytes is over the {max_bytes:,} limit")
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise DocumentError(f"{path.name}: cannot read ({exc.strerror or exc})") from exc
    if len(data) > max_bytes:  # it grew while we looked
        raise DocumentError(f"{path.name}: over the {max_bytes:,} byte limit")
    if not data.strip():
        raise DocumentError(f"{path.name}: empty document")
    return data


def extract(data: bytes, suffix: str, name: str = "file") -> Extracted:
    """Text (and PDF page spans) from a file's bytes, by its type."""
    suffix = suffix.lower()
    if suffix == ".pdf":
        result = pdf_text(data, name)
    elif suffix == ".docx":
        result = docx_text(data, name)
    elif suffix in HTML_SUFFIXES:
        result = html_text(decode(data, name), name)
    else:
        result = Extracted(decode(data, name), markdown=suffix in MARKDOWN_SUFFIXES)
    if not result.text.strip():
        raise DocumentError(f"{name}: no text in the document")
    return result


def read_text(path: Path, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The text of a supported document (see `extract`)."""
    return extract(read_bytes(path, max_bytes), path.suffix, path.name).text
