"""`rag eval`: score a question file against the engine.

The file format is the dev set's (one JSON object per line):

- `question` (required), `id`, `type` (`unanswerable` means the right result is a refusal)
- `answer_all`: keyword groups; correct when every group has one alternative in the answer
  (case-insensitive, from a word boundary; alternatives of 3 characters or fewer match
  whole words only)
- `gold_docs`: file-name prefixes; a citation is precise when its file starts with one
- `gold_quote`: exact text a retrieved passage must show (its heading path, author or
  text) for retrieval to count
- `history` (optional): earlier turns, `[[question, answer], ...]`, for follow-up questions
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from index.types import Passage

from .errors import InputError, PathNotFoundError
from .pipeline import with_previous
from .types import Answer


def load_questions(path: Path | str) -> list[dict[str, Any]]:
    """Read and validate a question file; a bad line is an error naming its number."""
    path = Path(path)
    if not path.is_file():
        raise PathNotFoundError(f"no such question file: {path}")
    items = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise InputError(f"{path.name} line {number}: not JSON ({exc.msg})") from exc
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            raise InputError(f'{path.name} line {number}: needs a "question" string')
        item.setdefault("id", f"q{number}")
        item.setdefault("type", "factoid")
        item.setdefault("answer_all", [])
        item.setdefault("gold_docs", [])
        item.setdefault("gold_quote", "")
        items.append(item)
    if not items:
        raise InputError(f"{path.name}: no questions")
    return items


def squash(text: str) -> str:
    return " ".join(text.split())


def quote_in(quote: str, text: str) -> bool:
    """`quote` occurs in `text` with whitespace collapsed on both sides: PDF passages keep
    the PDF's line breaks where a reader (and a gold quote) sees a space."""
    return squash(quote) in squash(text)


def keyword_hit(alternative: str, text: str) -> bool:
    """Whether the answer states `alternative`; its citation markers do not count, or
    "[3]" would answer "opt-level 3"."""
    text = re.sub(r"\[\d+\]", " ", text)
    # Whole words where the keyword has a word at its edge ("3" is not in "13"); a keyword
    # that starts with a sign ("--check", "'> '") has no word boundary before it to find.
    start = r"(?<!\w)" if re.match(r"\w", alternative) else ""
    end = r"(?!\w)" if len(alternative) <= 3 and re.search(r"\w$", alternative) else ""
    pattern = start + re.escape(alternative) + end
    return re.search(pattern, text, re.IGNORECASE) is not None


def answer_correct(item: dict, answer: Answer) -> bool:
    """Dev-set rule: refusal for unanswerable; else every keyword group and a gold citation."""
    if item["type"] == "unanswerable":
        return answer.refused
    if answer.refused:
        return False
    groups = item["answer_all"]
    keywords = all(any(keyword_hit(a, answer.text) for a in group) for group in groups)
    gold = tuple(item["gold_docs"])
    cited = any(c.source.startswith(gold) for c in answer.citations) if gold else True
    return keywords and cited


@dataclass
class Row:
    id: str
    type: str
    question: str
    answer: str
    refused: bool
    correct: bool
    gold_rank: int | None  # 1-based rank of the first passage holding gold_quote; 0 = missed
    citations: list[str]
    precise_citations: int
    seconds: float
    first_token: float | None
    prompt_tokens: int | None
    # follow-ups: the model's standalone rewrite was used (False: it fell back to the
    # previous question prepended); None for first questions
    rewritten: bool | None = None
    standalone: str = ""  # follow-ups: the question searched and answered
    first_sentence: float | None = None  # seconds to the first checked sentence streamed
    cached_tokens: int | None = None  # of prompt_tokens, already in the model's KV cache
    retried: bool = False  # a second answer call was made
    # where the seconds went (`Timings.to_dict`: rewrite, retrieval, generation, ...), so
    # the time outside the model calls is measured, not guessed
    timings: dict[str, float | int | bool] = field(default_factory=dict)


@dataclass
class EvalReport:
    rows: list[Row] = field(default_factory=list)
    k: int = 5

    def metrics(self) -> dict[str, float | int | None]:
        answerable = [r for r in self.rows if r.type != "unanswerable"]
        unanswerable = [r for r in self.rows if r.type == "unanswerable"]
        ranks = [r.gold_rank for r in self.rows if r.gold_rank is not None]
        cites = sum(len(r.citations) for r in answerable)
        seconds = sorted(r.seconds for r in self.rows)
        counted = [r for r in self.rows if r.prompt_tokens and r.cached_tokens is not None]

        def share(part: int, whole: int) -> float | None:
            return round(part / whole, 3) if whole else None

        return {
            "questions": len(self.rows),
            f"recall@{self.k}": share(sum(1 for r in ranks if r), len(ranks)),
            "mrr": round(sum(1 / r for r in ranks if r) / len(ranks), 3) if ranks else None,
            "answer_accuracy": share(sum(r.correct for r in answerable), len(answerable)),
            "refusal_accuracy": share(sum(r.correct for r in unanswerable), len(unanswerable)),
            "false_refusals": sum(r.refused for r in answerable),
            "citation_precision": share(sum(r.precise_citations for r in answerable), cites),
            # of the answers given (not refused), whatever the question: uncited is unchecked
            "cited_share": share(
                sum(bool(r.citations) for r in self.rows if not r.refused),
                sum(not r.refused for r in self.rows),
            ),
            "median_seconds": round(statistics.median(seconds), 2) if seconds else None,
            "p95_seconds": round(seconds[min(len(seconds) - 1, int(0.95 * len(seconds)))], 2)
            if seconds
            else None,
            "median_first_token": _median([r.first_token for r in self.rows]),
            "median_retrieval": _median([r.timings.get("retrieval") for r in self.rows]),
            # what is neither the rewrite call nor the answer calls: search, prompt
            # building, checks, the quote (the naive pipeline's is its search alone)
            "median_outside_model": _median([_outside_model(r) for r in self.rows]),
            "median_prompt_tokens": _median([r.prompt_tokens for r in self.rows]),
            "median_first_sentence": _median([r.first_sentence for r in self.rows]),
            # of the last answer call's prompt tokens, those llama.cpp did not evaluate again
            "cached_share": share(
                sum(r.cached_tokens or 0 for r in counted),
                sum(r.prompt_tokens or 0 for r in counted),
            ),
            "retried": share(sum(r.retried for r in self.rows), len(self.rows)),
            # each answer's first checked sentence as a share of its whole time, median
            "first_sentence_share": _median(
                [r.first_sentence / r.seconds for r in self.rows if r.first_sentence and r.seconds]
            ),
            "rewrites_used": share(
                sum(bool(r.rewritten) for r in self.rows),
                sum(r.rewritten is not None for r in self.rows),
            ),
        }

    def to_dict(self) -> dict[str, Any]:
        return {"metrics": self.metrics(), "rows": [asdict(r) for r in self.rows]}

    def table(self) -> str:
        lines = [f"{'id':<6} {'ok':<3} {'rank':>4} {'sec':>5}  answer"]
        for r in self.rows:
            rank = "-" if r.gold_rank is None else (str(r.gold_rank) if r.gold_rank else "miss")
            text = " ".join(r.answer.split())[:70]
            mark = "yes" if r.correct else "NO"
            lines.append(f"{r.id:<6} {mark:<3} {rank:>4} {r.seconds:>5.1f}  {text}")
        lines.append("")
        width = max(len(k) for k in self.metrics())
        lines += [f"{k:<{width}}  {v}" for k, v in self.metrics().items()]
        return "\n".join(lines)


def _outside_model(row: Row) -> float | None:
    if "generation" not in row.timings:
        return None
    used = float(row.timings.get("rewrite", 0.0)) + float(row.timings["generation"])
    return max(0.0, row.seconds - used)


def _median(values: Sequence[float | int | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 2) if present else None


def quote_rank(quote: str, texts: Iterable[str]) -> int:
    """1-based rank of the first text holding `quote` (`quote_in`); 0: none does."""
    return next((i for i, text in enumerate(texts, 1) if quote_in(quote, text)), 0)


def shown(passage: Passage) -> str:
    """A passage as the prompt shows it: where it sits (its heading path, else its
    document's title), who wrote it, then its text. An answer given by a heading ("“Rez
    Infinite” ($30)" over a game's review) or a byline is in what the model reads and
    cites, and counted as retrieved; on the text alone, recall@5 missed html14, w12,
    w16 and w22, all four answered right."""
    return "\n".join(part for part in (passage.heading or passage.title, passage.author,
                                        passage.text) if part)  # fmt: skip


def _gold_rank(engine: Any, item: dict[str, Any], history: list, k: int) -> int | None:
    if not item.get("gold_quote"):
        return None
    passages = engine.retrieve(item["question"], k=k, history=history)
    return quote_rank(item["gold_quote"], map(shown, passages))


def evaluate(
    engine: Any,
    items: Sequence[dict[str, Any]],
    k: int = 5,
    on_row: Callable[[Row], None] | None = None,
) -> EvalReport:
    """Ask every question; score retrieval (gold_quote in top k) and the answer."""
    report = EvalReport(k=k)
    engine.ensure_indexed()
    for item in items:
        history = [tuple(turn) for turn in item.get("history", [])]
        # A first question's recall is looked up after its answer, so the answer's search
        # runs as a user's does, its sentences not yet embedded (looked up before, they
        # were cached for it, and the seconds left that out). A follow-up's lookup asks
        # the model for its rewrite: after the answer, it would leave another prompt than
        # the answer's in llama.cpp's KV cache for the next question, so it stays first
        # (and the answer's rewrite finds its prompt cached: say so when comparing).
        gold_rank = _gold_rank(engine, item, history, k) if history else None
        started = time.perf_counter()
        answer = engine.ask(item["question"], history=history or None)
        seconds = round(time.perf_counter() - started, 3)
        if not history:
            gold_rank = _gold_rank(engine, item, history, k)
        gold = tuple(item["gold_docs"])
        row = Row(
            id=str(item["id"]),
            type=item["type"],
            question=item["question"],
            answer=answer.text,
            refused=answer.refused,
            correct=answer_correct(item, answer),
            gold_rank=gold_rank,
            citations=[c.source for c in answer.citations],
            precise_citations=sum(
                1 for c in answer.citations if gold and c.source.startswith(gold)
            ),
            seconds=seconds,
            first_token=answer.timings.first_token,
            prompt_tokens=answer.timings.prompt_tokens,
            rewritten=answer.standalone
            != " ".join(with_previous(item["question"], history[-1][0]).split())
            if history
            else None,
            standalone=answer.standalone,
            first_sentence=answer.timings.first_sentence,
            cached_tokens=answer.timings.cached_tokens,
            retried=answer.timings.retried,
            timings=answer.timings.to_dict(),
        )
        report.rows.append(row)
        if on_row:
            on_row(row)
    return report
