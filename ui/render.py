"""Answers and sources as Markdown that is safe to render.

Model output and passages are untrusted text: HTML is escaped and Markdown images and
links are broken up, so nothing rendered can load a remote resource or run script.
"""

from __future__ import annotations

import html
import re

from rag import Answer, Citation, Document, Passage

_LINK = re.compile(r"\]\s*\(")
_IMAGE = re.compile(r"!\[")
_AUTOLINK = re.compile(r"(?i)\b(https?|ftp|javascript|data|vbscript|file):")
_EMPHASIS = re.compile(r"([*_~`])")


def safe_text(text: str) -> str:
    """Escape HTML and defuse Markdown links/images while keeping [n] markers readable."""
    text = html.escape(text, quote=False)
    text = _IMAGE.sub(r"!\\[", text)
    text = _LINK.sub(r"]\\(", text)
    # Break URL schemes so neither Markdown autolinking nor a click can follow them.
    return _AUTOLINK.sub(lambda m: m.group(1) + "&#58;", text)


def safe_code(text: str) -> str:
    """A file name for inside backticks: no backtick can end the code span early."""
    return text.replace("`", "'").replace("\n", " ")


def _plain(text: str) -> str:
    """Safe text that also cannot open or close emphasis (used inside highlighted quotes)."""
    return _EMPHASIS.sub(r"\\\1", safe_text(text))


def highlight(passage: Passage, citation: Citation) -> str:
    """The passage as a quote, with the citation's exact supporting span in bold."""
    s, e = citation.start - passage.start, citation.end - passage.start
    if passage.source != citation.source or not 0 <= s < e <= len(passage.text):
        return _quote(_plain(passage.text))
    return _quote(_marked(passage.text, s, e))


def _marked(text: str, start: int, end: int) -> str:
    """Safe text with `text[start:end]` in bold, line by line (bold cannot span lines)."""
    span = "\n".join(
        f"**{_plain(line)}**" if line.strip() else line for line in text[start:end].split("\n")
    )
    return _plain(text[:start]) + span + _plain(text[end:])


def _quote(text: str) -> str:
    return "\n".join("> " + line if line.strip() else ">" for line in text.split("\n"))


def render_answer(answer: Answer) -> str:
    """The answer (and how many unsupported sentences were left out of it), then each
    source with its span in bold. What the checks dropped is never shown."""
    text = safe_text(answer.text)
    if answer.unsupported and not answer.refused:
        n = len(answer.unsupported)
        text += f"\n\n*({n} sentence{'s' * (n > 1)} left out: not supported by the documents)*"
    parts = [text]
    if answer.citations:
        parts.append("\n\n---\n**Sources**")
        for c in answer.citations:
            passage = answer.passages[c.n - 1] if c.n <= len(answer.passages) else None
            body = highlight(passage, c) if passage else _quote(_plain(c.text))
            where = f"page {c.page}, " if c.page else ""
            # who wrote it, when the document says (a page's byline): the answer may name them
            by = f" · by {_plain(passage.author)}" if passage and passage.author else ""
            parts.append(
                f"\n\n**[{c.n}] {_plain(c.title)}**  \n"
                f"`{safe_code(c.source)}`{by} · {where}supporting text at characters "
                f"{c.start}–{c.end}\n\n{body}"
            )
    elif answer.refused and answer.passages:
        parts.append("\n\n*The closest passages did not contain the answer.*")
    return "".join(parts)


# Characters of a long document shown on either side of a cited span (a PDF shows its page).
DOCUMENT_CONTEXT = 2500


def render_document(doc: Document, start: int, end: int, heading: str = "") -> str:
    """A document opened at a citation: title, file, page and heading path, then its text
    (the PDF page, or the span with the text around it) with the cited span in bold."""
    page = next((i for i, (s, e) in enumerate(doc.pages, 1) if s <= start < e), None)
    if page is not None:
        lo, hi = doc.pages[page - 1]
    else:
        lo, hi = max(0, start - DOCUMENT_CONTEXT), min(len(doc.text), end + DOCUMENT_CONTEXT)
        lo = doc.text.rfind("\n", 0, lo) + 1 if lo else 0  # whole lines
        cut = doc.text.find("\n", hi)
        hi = len(doc.text) if cut < 0 else cut
    start, end = max(lo, min(start, hi)), max(lo, min(end, hi))
    where = [f"`{safe_code(doc.source)}`"] + ([f"by {_plain(doc.author)}"] if doc.author else [])
    where += [f"page {page} of {len(doc.pages)}"] if page else []
    where += [_plain(heading)] if heading else []
    body = _marked(doc.text[lo:hi], start - lo, end - lo)
    more = (["*… (earlier text not shown)*"] if lo > 0 and page is None else []) + [body]
    more += ["*… (later text not shown)*"] if hi < len(doc.text) and page is None else []
    return f"### {_plain(doc.title)}\n{' · '.join(where)}\n\n" + "\n\n".join(more)


def cited(answer: Answer) -> list[dict]:
    """What "Open a source" needs of each citation: where its span is, and its heading."""
    out = []
    for c in answer.citations:
        passage = answer.passages[c.n - 1] if c.n <= len(answer.passages) else None
        heading = passage.heading if passage and passage.source == c.source else ""
        out.append(
            {"n": c.n, "source": c.source, "title": c.title, "start": c.start, "end": c.end,
             "page": c.page, "heading": heading}
        )  # fmt: skip
    return out
