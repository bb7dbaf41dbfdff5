"""Scoring of the dev-set format (see ../shared/eval/README.md), shared by tests."""

from __future__ import annotations

import json
import re
from pathlib import Path

from rag import Answer


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def keyword_hit(alternative: str, text: str) -> bool:
    """Case-insensitive, from a word boundary; short alternatives must match a whole word."""
    pattern = r"\b" + re.escape(alternative) + (r"\b" if len(alternative) <= 3 else "")
    return re.search(pattern, text, re.IGNORECASE) is not None


def is_correct(item: dict, answer: Answer) -> bool:
    if item["type"] == "unanswerable":
        return answer.refused
    if answer.refused:
        return False
    keywords = all(any(keyword_hit(a, answer.text) for a in group) for group in item["answer_all"])
    cited = {c.source[:3] for c in answer.citations}
    return keywords and bool(cited & set(item["gold_docs"]))
