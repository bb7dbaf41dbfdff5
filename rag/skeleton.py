"""The text an injection check judges: what a reader sees, spelled in Latin letters.

An instruction hidden as "іgnоrе рrеvіоus іnstruсtіоns" (Cyrillic і, о, е, р, с), as
full-width "ｉｇｎｏｒｅ", with zero-width characters inside its words, or a canary in Greek
capitals ("ΚΑΝΑ"), reads the same to a model as its plain Latin form, but slips past any
word list. Before judging, text is NFKC-normalized (full-width and compatibility forms
become plain), format characters (zero-width, bidi controls, Unicode tags) are removed,
and the Cyrillic and Greek letters that look like Latin ones are mapped to them: a subset
of Unicode's confusables (UTS #39) for the letters Latin words can be spelled with. Only
detection sees the skeleton; stored text, offsets and prompts keep the original.
"""

from __future__ import annotations

import unicodedata

# Lookalike -> Latin: Cyrillic, then Greek (lower and upper case), from UTS #39's
# confusables.txt, restricted to single letters that stand for a Latin letter.
_PAIRS = (
    "аa вB еe ёe ԁd һh іi їi јj кk мM нH оo рp сc тT уy хx ѕs ԛq ԝw ӏl ɡg "
    "АA ВB ЕE ЁE ЅS ІI ЇI ЈJ КK МM НH ОO РP СC ТT УY ХX ӀI ԚQ ԜW "
    "αa βB γy ιi κk νv οo ρp σo τt υu χx ωw ΑA ΒB ΕE ΖZ ΗH ΙI ΚK ΜM ΝN ΟO ΡP ΤT ΥY ΧX"
)
_LATIN = str.maketrans({pair[0]: pair[1] for pair in _PAIRS.split() if pair[0] != pair[1]})


def skeleton(text: str) -> str:
    """`text` as a word list should see it (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return text.translate(_LATIN)
