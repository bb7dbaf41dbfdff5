"""What the public API returns. Plain frozen dataclasses: easy to print, compare, serialize."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from index.search import opened_item
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


@dataclass
class Timings:
    """Where one answer's time went, in seconds, and its token counts. None: the step did
    not happen (no rewrite for a first question, no model call for a refusal the code
    made) or was not measured. Filled while the answer streams."""

    rewrite: float | None = None  # the follow-up rewrite call took
    retrieval: float | None = None  # the search took
    first_token: float | None = None  # since the question arrived, the model's first delta
    first_sentence: float | None = None  # since the question arrived, the first checked one
    generation: float | None = None  # the answer calls took (both tries)
    decode: float | None = None  # the answer call took after its first token
    total: float | None = None  # the whole answer took
    prompt_tokens: int | None = None  # of the last answer call (the model's count if given)
    cached_tokens: int | None = None  # of those, found in the model's KV cache
    completion_tokens: int | None = None  # of the answer (the model's count if given)
    retried: bool = False  # a second answer call was made (see pipeline.Pipeline.run)

    def count(self, usage: Usage) -> None:
        """Take the counts a model reported over the estimates."""
        for name, value in usage.known().items():
            setattr(self, name, value)

    def to_dict(self) -> dict[str, float | int | bool]:
        """What was measured, by name (JSON for the API, the CLI and saved answers)."""
        return {k: v for k, v in asdict(self).items() if v is not None and v is not False}

    @classmethod
    def from_dict(cls, data: dict) -> Timings:
        """The inverse of `to_dict`; names it does not know (older saves) are ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


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
    timings: Timings = field(default_factory=Timings)
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
            passages=tuple(
                Passage(
                    **{
                        **p,
                        "rows": tuple(tuple(r) for r in p.get("rows", ())),
                        "opened": opened_item(p.get("opened")),
                    }
                )
                for p in data.get("passages", ())
            ),
            model=data.get("model", ""),
            timings=Timings.from_dict(data.get("timings", {})),
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
            "timings": self.timings.to_dict(),
            "unsupported": list(self.unsupported),
            "standalone": self.standalone,
            "scope": list(self.scope),
        }


# What `RAG.stream` yields: checked sentences as they are ready, then the final answer.
Event = Sentence | Answer
