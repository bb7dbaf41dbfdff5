"""What a reader sees of a span of raw text: tags, link targets and entities gone,
typographic ligatures spelled out, words hyphenated over a line break joined.

Markdown documentation embeds HTML (`<dt><code>-i</code></dt>`) and link targets
(`[config](config.md#jobs)`). Chunk text stays the exact original, so citations map
back; but what is embedded, indexed for BM25, shown to the model and checked against
its answer is this readable form, where markup no longer outweighs the words. Text
copied out of PDFs keeps the font's ligatures ("ﬁles") and the typesetter's hyphens ("nonde-\n
terminism"): left as they are, neither word matches what a reader would type.
"""

from __future__ import annotations

import html
import re

_TAG = re.compile(r"</?[A-Za-z][^<>\n]*>")
_INLINE_LINK = re.compile(r"(!?)\[([^\]\n]*)\]\([^)\n]*\)")
_REF_LINK = re.compile(r"\[([^\]\n]+)\]\[[^\]\n]*\]")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]{2,8});")
_LINK_DEFINITION = re.compile(r"^ {0,3}\[[^\]\n]+\]:[ \t]*\S+.*$", re.M)  # [label]: https://…
_LIGATURES = str.maketrans(
    {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"}
)
_LINE_HYPHEN = re.compile(r"(?<=[^\W\d_])-\n(?=[^\W\d_])")  # "nonde-\nterminism"
_PLAIN = re.compile(r"[<&ﬀ-ﬆ]|\]\(|\]\[|\]:|-\n")  # nothing readable() would change


def readable(text: str) -> str:
    """The text without markup; unchanged when it has none (the common case: fast)."""
    if not _PLAIN.search(text):
        return text
    text = _LINE_HYPHEN.sub("", text.translate(_LIGATURES))
    text = _LINK_DEFINITION.sub("", text)
    text = _INLINE_LINK.sub(lambda m: m.group(2), text)
    text = _REF_LINK.sub(lambda m: m.group(1), text)
    text = _TAG.sub("", text)
    if "&" in text:
        text = _ENTITY.sub(lambda m: html.unescape(m.group()), text)
    return re.sub(r"[ \t]{2,}", " ", text)
