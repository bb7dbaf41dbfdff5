"""Read and normalise the model's [n] markers, and recognise refusals.

A marker may only point at a passage that was in the prompt: anything else (a number out
of range, "[source 9]") is removed from the text, so every marker a user sees resolves.
`rag.verify` then checks each marker and turns it into a `Citation`.
"""

from __future__ import annotations

import re

REFUSAL = "I cannot answer that from the documents."

# [1]  [1, 2]  [1,2,3]  [1; 2]  [Passage 1]  [passage 1, 2]
_MARKER = re.compile(
    r"\[\s*(?:passages?|sources?|doc(?:ument)?s?)?\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]", re.I
)
REFUSAL_HEAD = 200  # where a refusal is looked for: the answer's opening
_REFUSAL_PATTERNS = re.compile(
    r"cannot answer|can ?not be answered|can't answer|unable to answer"
    r"|(?:do|does) not (?:contain|provide|include|mention|say|specify|state)"
    r"|(?:no|not enough|insufficient) information"
    r"|not (?:mentioned|specified|stated|provided|found) in"
    r"|passages? (?:do|does)n't",
    re.I,
)


# A fence's code (8 hex digits, `prompts.fence_code`) echoed as if a marker.
_FENCE_CODE = re.compile(r"\s*\[(?:END\s+|PASSAGE\s+\d+\s+)?[0-9A-F]{8}\]")


def parse_markers(text: str) -> list[int]:
    """Every number cited, in order of appearance (repeats kept)."""
    return [int(n) for m in _MARKER.finditer(text) for n in re.split(r"[,;]", m.group(1))]


def clean_markers(text: str, valid: int) -> str:
    """Rewrite markers to the canonical `[n]` form, dropping numbers outside 1..valid."""

    def fix(match: re.Match[str]) -> str:
        nums = [int(n) for n in re.split(r"[,;]", match.group(1))]
        kept = list(dict.fromkeys(n for n in nums if 1 <= n <= valid))
        return "".join(f"[{n}]" for n in kept)

    cleaned = _FENCE_CODE.sub("", _MARKER.sub(fix, text))
    cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned)  # space left before punctuation
    return re.sub(r"[ \t]{2,}", " ", cleaned).strip()


def is_refusal(text: str) -> bool:
    """The model said the passages do not hold the answer (and gave no cited answer)."""
    stripped = text.strip()
    if not stripped:
        return True
    head = stripped[:REFUSAL_HEAD]
    return bool(_REFUSAL_PATTERNS.search(head)) and not parse_markers(stripped)


def refusal_possible(text: str) -> bool:
    """Whether `text`, still being written, may yet turn out to be a refusal: it has no
    marker and its opening is not complete or already refuses."""
    stripped = text.strip()
    return is_refusal(stripped) or (len(stripped) < REFUSAL_HEAD and not parse_markers(stripped))
