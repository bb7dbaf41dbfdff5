"""Text out of HTML, PDF and Word files, through well-kept parsers, never by hand.

Each extractor turns every parser failure into a `DocumentError` naming the file, so one
bad file is reported and skipped while the rest of a folder is indexed.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass

from .errors import DocumentError


@dataclass(frozen=True)
class Extracted:
    """Plain text; for PDFs also each page's (start, end) span in it."""

    text: str
    pages: tuple[tuple[int, int], ...] = ()


# Elements that are never article text: code, styling, page furniture, hidden content.
_DROP_TAGS = (
    "script, style, noscript, template, svg, canvas, iframe, object, embed, form, button, "
    "select, nav, header, footer, aside, menu, dialog, head"
)
_DROP_SELECTORS = (
    "[hidden], [aria-hidden=true], [role=navigation], [role=banner], [role=contentinfo], "
    "[role=complementary], [role=search]"
)
_INVISIBLE_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_BLOCK_TAGS = frozenset(
    "p div section article main li ul ol h1 h2 h3 h4 h5 h6 blockquote pre table tr td th "
    "dd dt dl figure figcaption br hr address".split()
)


def html_text(html: str, name: str = "file") -> Extracted:
    """Main text only: scripts, styles, navigation and hidden elements are dropped.

    `<main>` or `<article>` wins when the page has one; block elements become line
    breaks so the chunker sees paragraphs.
    """
    from selectolax.lexbor import LexborHTMLParser

    try:
        tree = LexborHTMLParser(html)
    except Exception as exc:  # selectolax raises plain exceptions on hopeless input
        raise DocumentError(f"{name}: cannot parse HTML ({exc})") from exc
    title_node = tree.css_first("title")
    title = " ".join((title_node.text() if title_node else "").split())
    for node in tree.css(f"{_DROP_TAGS}, {_DROP_SELECTORS}"):
        node.decompose()
    for node in tree.css("[style]"):
        if _INVISIBLE_STYLE.search(node.attributes.get("style") or ""):
            node.decompose()
    root = tree.css_first("main") or tree.css_first("article") or tree.body or tree.root
    if root is None:
        raise DocumentError(f"{name}: no text in the HTML")
    parts: list[str] = []
    for node in root.traverse(include_text=True):
        if node.tag == "-text":
            parts.append(node.text_content or "")
        elif node.tag in _BLOCK_TAGS:
            parts.append("\n")
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    text = "\n".join(line for line in lines if line)
    if title and not text.startswith(title):
        text = f"{title}\n{text}"
    return Extracted(text)


def pdf_text(data: bytes, name: str = "file") -> Extracted:
    """Text per page; encrypted, truncated and image-only PDFs are refused with a reason."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # it warns on every odd xref
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(f"{name}: the PDF is encrypted (password protected)")
        texts = [page.extract_text() or "" for page in reader.pages]
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise DocumentError(f"{name}: damaged or truncated PDF ({exc})") from exc
    except Exception as exc:  # pypdf has no single base exception for malformed input
        raise DocumentError(f"{name}: unreadable PDF ({type(exc).__name__}: {exc})") from exc
    text, pages = "", []
    for page in texts:
        page = page.strip()
        start = len(text)
        text += page
        pages.append((start, len(text)))
        text += "\n\n"
    if not any(t.strip() for t in texts):
        raise DocumentError(f"{name}: the PDF has no extractable text (scanned images?)")
    return Extracted(text.rstrip("\n"), tuple(pages))


def docx_text(data: bytes, name: str = "file") -> Extracted:
    """Paragraphs and table cells of a Word document, in reading order."""
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(f"{name}: not a valid .docx file ({exc})") from exc
    except Exception as exc:  # lxml and zip errors on damaged packages
        raise DocumentError(f"{name}: unreadable .docx ({type(exc).__name__}: {exc})") from exc
    paragraphs = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            paragraphs.append(" | ".join(cell.text.strip() for cell in row.cells))
    return Extracted("\n\n".join(p.strip() for p in paragraphs if p.strip()))
