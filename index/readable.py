"""What a reader sees of a span of raw Markdown: tags, link targets and entities gone.

Markdown documentation embeds HTML (`<dt><code>-i</code></dt>`) and link targets
(`[config](config.md#jobs)`). Chunk text stays the exact original, so citations map
back; but what is embedded, indexed for BM25, shown to the model and checked against
its answer is this readable form, where markup no longer outweighs the words.
"""

from __future__ import annotations

import html
import re

_TAG = re.compile(r"</?[A-Za-z][^<>\n]*>")
_INLINE_LINK = re.compile(r"(!?)\[([^\]\n]*)\]\([^)\n]*\)")
_REF_LINK = re.compile(r"\[([^\]\n]+)\]\[[^\]\n]*\]")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]{2,8});")


def readable(text: str) -> str:
    """The text without markup; unchanged when it has none (the common case: fast)."""
    if "<" not in text and "](" not in text and "][" not in text and "&" not in text:
        return text
    text = _INLINE_LINK.sub(lambda m: m.group(2), text)
    text = _REF_LINK.sub(lambda m: m.group(1), text)
    text = _TAG.sub("", text)
    if "&" in text:
        text = _ENTITY.sub(lambda m: html.unescape(m.group()), text)
    return re.sub(r"[ \t]{2,}", " ", text)
