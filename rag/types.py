"""What the public API returns. Plain frozen dataclasses: easy to print, compare, serialize."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from index.types import Passage


@dataclass
class Usage:
    """Tokens of one model call as the model counted them: the prompt, the part of it its
    KV cache already held (not evaluated again), and the answer. None: not reported.
    Filled while the call streams; complete once its deltas are exhausted."""

    prompt_tokens: int | None = None
    cached_tokens: int | None = None
    completion_tokens: int | None = None

    def known(self) -> dict[str, int]:
        """The counts that were reported, by name."""
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class Citation:
    """Passage `n` of the prompt, cited by an `[n]` marker in the answer.

    `text` is the quoted supporting span of that passage (the sentences that back the
    claim); `start`/`end` are its offsets in the source document, so
    `document[start:end] == text`. The whole passage is `answer.passages[n - 1]`.
    """

    n: int
    source: str
    title: str
    text: str
    start: int
    end: int
    page: int | None = None  # 1-based page of a PDF source


@dataclass(frozen=True)
class Sentence:
    """A checked sentence of an answer being streamed, released once it passed the checks.

    `text` starts with the space or line break that separates it from the sentence before
    (none for the first), so the texts of a stream join into the final `Answer.text`.
    `citations` are the passages this sentence cites, each with the span backing it.
    """

    text: str
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True)
class Answer:
    """A grounded answer: text with [n] markers, the citations they resolve to, the passages."""

    question: str
    text: str
    refused: bool
    citations: tuple[Citation, ...] = ()
    passages: tuple[Passage, ...] = ()
    model: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    unsupported: tuple[str, ...] = ()  # sentences no retrieved passage supports (flagged)
    # A follow-up as rewritten to stand on its own (what was searched and answered);
    # empty for a first question.
    standalone: str = ""
    # The documents the question was limited to (`sources=`), resolved; empty: all of them.
    scope: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, question: str, data: dict) -> Answer:
        """The inverse of `to_dict` (which leaves the question out): a saved answer."""
        return cls(
            question=question,
            text=data["answer"],
            refused=bool(data["refused"]),
            citations=tuple(Citation(**c) for c in data.get("citations", ())),
            passages=tuple(Passage(**p) for p in data.get("passages", ())),
            model=data.get("model", ""),
            timings=dict(data.get("timings", {})),
            unsupported=tuple(data.get("unsupported", ())),
            standalone=data.get("standalone", ""),
            scope=tuple(data.get("scope", ())),
        )

    def to_dict(self) -> dict:
        return {
            "answer": self.text,
            "refused": self.refused,
            "citations": [asdict(c) for c in self.citations],
            "passages": [asdict(p) for p in self.passages],
            "model": self.model,
            "timings": dict(self.timings),
            "unsupported": list(self.unsupported),
            "standalone": self.standalone,
            "scope": list(self.scope),
        }


# What `RAG.stream` yields: checked sentences as they are ready, then the final answer.
Event = Sentence | Answer
