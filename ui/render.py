"""Answers and sources as Markdown that is safe to render.

Model output and passages are untrusted text: HTML is escaped and Markdown images and
links are broken up, so nothing rendered can load a remote resource or run script.
"""

from __future__ import annotations

import html
import re

from rag import Answer

_LINK = re.compile(r"\]\s*\(")
_IMAGE = re.compile(r"!\[")
_AUTOLINK = re.compile(r"(?i)\b(https?|ftp|javascript|data|vbscript):")


def safe_text(text: str) -> str:
    """Escape HTML and defuse Markdown links/images while keeping [n] markers readable."""
    text = html.escape(text, quote=False)
    text = _IMAGE.sub(r"!\\[", text)
    text = _LINK.sub(r"]\\(", text)
    # Break URL schemes so neither Markdown autolinking nor a click can follow them.
    return _AUTOLINK.sub(lambda m: m.group(1) + "&#58;", text)


def quote(text: str) -> str:
    return "\n".join("> " + line if line.strip() else ">" for line in safe_text(text).splitlines())


def render_answer(answer: Answer) -> str:
    """The answer, then each cited source: [n] title, file, and the quoted passage."""
    parts = [safe_text(answer.text)]
    if answer.citations:
        parts.append("\n\n---\n**Sources**")
        for c in answer.citations:
            parts.append(
                f"\n\n**[{c.n}] {safe_text(c.title)}**  \n"
                f"`{c.source}` · characters {c.start}–{c.end}\n\n{quote(c.text)}"
            )
    elif answer.refused and answer.passages:
        parts.append("\n\n*The closest passages did not contain the answer.*")
    return "".join(parts)
