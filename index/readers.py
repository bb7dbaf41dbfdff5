"""Turn a file into text without ever crashing on its bytes.

Offsets of every chunk point into the string returned here, so nothing is normalized:
the text is exactly the decoded file.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from .errors import DocumentError

SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".markdown"})
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


def read_text(path: Path, max_bytes: int = MAX_FILE_BYTES) -> str:
    """Read a supported document; every refusal is a `DocumentError` naming the file."""
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        allowed = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise DocumentError(f"{path.name}: unsupported file type (supported: {allowed})")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DocumentError(f"{path.name}: {size:,} bytes is over the {max_bytes:,} limit")
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"{path.name}: cannot read ({exc.strerror or exc})") from exc
    text = decode(data, path.name)
    if not text.strip():
        raise DocumentError(f"{path.name}: empty document")
    return text
