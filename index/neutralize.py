"""Defuse text that could pass for instructions or chat structure before it is indexed.

Documents come from strangers. A chat template turns `<|im_start|>` inside a passage into
a real control token, a line "Assistant: ..." reads like a turn, and zero-width or
Unicode tag characters hide instructions that the reader of a page never sees. All of
that is made inert here, at ingest, so every stored chunk (and the offsets that cite it)
is already safe; the prompt builder applies the same function again to whatever it sends.
"""

from __future__ import annotations

import re

# Zero-width and bidi-control characters, soft hyphens, the BOM, and the Unicode tag block
# (U+E0000-E007F, which can spell out ASCII text invisibly).
_INVISIBLE = re.compile(
    "[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]"
)
# Chat-template control tokens of the common model families: <|im_start|>, <|eot_id|>...
_SPECIAL_TOKEN = re.compile(r"<\|([^|<>\n]{1,40})\|>")
_LLAMA_MARKERS = re.compile(r"\[/?INST\]|<</?SYS>>|</?s>", re.IGNORECASE)
# A line that starts like a chat turn: "User:", "### Assistant:", "<system>:"...
_ROLE_LINE = re.compile(
    r"^([ \t>#*]*)(system|user|assistant|human|ai|developer|tool)([ \t]*):",
    re.IGNORECASE | re.MULTILINE,
)


def neutralize(text: str) -> str:
    """Remove invisible characters and turn role markers into plain, quoted-looking text."""
    text = _INVISIBLE.sub("", text)
    text = _SPECIAL_TOKEN.sub(lambda m: f"[{m.group(1).strip()}]", text)
    text = _LLAMA_MARKERS.sub(lambda m: f"({m.group(0).strip('[]<>/')})", text)
    return _ROLE_LINE.sub(lambda m: f"{m.group(1)}{m.group(2)} (quoted){m.group(3)}:", text)
