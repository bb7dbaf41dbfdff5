"""Strip active content from model output before anyone renders it.

A planted passage may talk the model into writing a Markdown image whose URL carries
data out, a raw `<script>`, or a `javascript:` link. An answer is plain prose with [n]
markers, so none of that has a legitimate use: images and tags are removed, links keep
only their text, and script-like URL schemes are broken. Bare URLs stay as text (the UI
shows them inert).
"""

from __future__ import annotations

import html
import re

from index.readable import is_markup

_IMAGE = re.compile(r"!\[([^\]\n]*)\]\s*(?:\((?:[^()\n]|\([^()\n]*\))*\)|\[[^\]\n]*\])")
_TARGET = r"\(((?:[^()\s]|\([^()\s]*\))*)\)"  # a link target, one level of parentheses
_LINK = re.compile(r"\[([^\]\n]+)\]" + _TARGET)
_SCRIPT = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_REF_DEF = re.compile(r"^\s{0,3}\[[^\]\n]+\]:\s*\S+.*$", re.MULTILINE)
_TAG = re.compile(r"<(/?)([A-Za-z][\w-]*)([^<>]*)>", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_SCHEME = re.compile(r"(?i)\b(javascript|vbscript)\s*:|\b(data):(?=[a-z]+/[\w.+-]+[;,])")
_ANGLE_URL = re.compile(r"<((?:https?|ftp)://[^>\s]+)>", re.IGNORECASE)


def _link_text(match: re.Match[str]) -> str:
    label = match.group(1)
    return f"[{label}]" if label.strip().isdigit() else label  # "[1](url)" stays a marker


def strip_active_content(text: str) -> str:
    """The answer without images, HTML, link targets or script URLs; [n] markers kept."""
    text = html.unescape(text)  # "&lt;script&gt;" must not survive as a second chance
    text = _SCRIPT.sub("", text)
    text = _IMAGE.sub("", text)
    text = _LINK.sub(_link_text, text)
    text = _REF_DEF.sub("", text)
    text = _ANGLE_URL.sub(r"\1", text)
    text = _COMMENT.sub("", text)
    # Markup goes; `Option<T>` stays as text (shown as "Option‹T›" below: never a tag).
    text = _TAG.sub(lambda m: "" if is_markup(m) else m.group(), text)
    # Leftovers of broken tags: a "<" could still open one, so none is left. A ">" closes
    # nothing on its own: "The default prompt is `'> '`", "x => y" keep theirs.
    text = re.sub(r"<([^<>\n]*)>", r"‹\1›", text).replace("<", "‹")
    text = _SCHEME.sub(lambda m: f"{m.group(1) or m.group(2)}-", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()
