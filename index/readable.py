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

_TAG = re.compile(r"<(/?)([A-Za-z][\w-]*)([^<>\n]*)>")
_ATTRIBUTE = re.compile(r"\s+[\w:.-]+\s*=")
_AUTOLINK = re.compile(r"<((?:https?|ftp)://[^<>\s]+)>", re.IGNORECASE)
# What `<...>` is markup: an HTML element by name, a closing tag, or a tag with attributes
# (an MDX component: `<TabItem value="npm">`). The rest is text a reader sees: Rust's
# `Option<T>`, a command's `cargo add <name>`, a config key's `target.<triple>.linker`,
# Node's `Returns: <number[]>`. Element names are a fixed vocabulary, not a calibration.
HTML_ELEMENTS = frozenset(
    """a abbr address article aside audio b bdi bdo blockquote body br button caption
    center cite code col colgroup data dd del details dfn dialog div dl dt em embed
    fieldset figcaption figure font footer form h1 h2 h3 h4 h5 h6 head header hr html i
    iframe img input ins kbd label legend li link main mark meta nav nobr noscript object
    ol optgroup option output p picture pre q rp rt ruby s samp script section select
    small source span strike strong style sub summary sup svg table tbody td template
    textarea tfoot th thead time title tr track tt u ul var video wbr""".split()
)


def is_markup(match: re.Match[str]) -> bool:
    """True for a `_TAG` match that is HTML markup rather than text in angle brackets."""
    closing, name, rest = match.groups()
    if name in HTML_ELEMENTS:
        return True
    return bool(closing) or bool(_ATTRIBUTE.match(rest)) or rest.strip() == "/"


def strip_tags(text: str) -> str:
    """`text` without its HTML markup; angle-bracketed text and autolinked URLs stay."""
    text = _AUTOLINK.sub(r"\1", text)
    return _TAG.sub(lambda m: "" if is_markup(m) else m.group(), text)


_INLINE_LINK = re.compile(r"(!?)\[([^\]\n]*)\]\([^)\n]*\)")
_REF_LINK = re.compile(r"\[([^\]\n]+)\]\[[^\]\n]*\]")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]{2,8});")
_LINK_DEFINITION = re.compile(r"^ {0,3}\[[^\]\n]+\]:[ \t]*\S+.*$", re.M)  # [label]: https://…
_LIGATURES = str.maketrans(
    {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"}
)
_LINE_HYPHEN = re.compile(r"(?<=[^\W\d_])-\n(?=[^\W\d_])")  # "nonde-\nterminism"
# A code fence's own line ("```bash"): Markdown syntax a reader never sees rendered. No
# chunk holds one (the cleaner drops it), but a lead-in joined with its code block does
# (`window.join_introduced`); shown, the model answered "[2][2]" instead of the flag the
# lead-in names.
_FENCE_LINE = re.compile(r"^ {0,3}(?:```|~~~)[^\n`]*(?:\n|$)", re.M)
_PLAIN = re.compile(r"[<&ﬀ-ﬆ]|\]\(|\]\[|\]:|-\n|```|~~~")  # nothing readable() would change


def readable(text: str) -> str:
    """The text without markup; unchanged when it has none (the common case: fast)."""
    if not _PLAIN.search(text):
        return text
    text = _LINE_HYPHEN.sub("", text.translate(_LIGATURES))
    text = _LINK_DEFINITION.sub("", text)
    text = _FENCE_LINE.sub("", text)
    text = _INLINE_LINK.sub(lambda m: m.group(2), text)
    text = _REF_LINK.sub(lambda m: m.group(1), text)
    text = strip_tags(text)
    if "&" in text:
        text = _ENTITY.sub(lambda m: html.unescape(m.group()), text)
    return re.sub(r"[ \t]{2,}", " ", text)
