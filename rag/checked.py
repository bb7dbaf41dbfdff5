"""Check an answer while the model writes it, and release each sentence once it passes.

A streamed word cannot be taken back once a user has read it, so nothing the model writes
is shown raw. A sentence is judged as soon as the next one has begun (only then are its
end and its trailing `[n]` markers known), by the same steps as a finished answer:
active content stripped, words planted by a quarantined passage dropped, markers
cleaned, then `verify.Checker` (support, names and numbers in the cited passage,
citations re-pointed). What fails is never released.

Two rules keep the stream equal to the answer the checks would give the whole text:
- nothing is released while the text may still turn out to be a refusal (no `[n]` yet
  and its opening could say "the passages do not say"), because a refusal is answered by
  a quote or "I cannot answer", not by the model's other sentences;
- nothing is released before a sentence that adds something to the question: an answer
  made only of restatements ("The cap replaced the tariff [1].") is refused, so its
  sentences wait and are released with the first one that answers.
When the stream ends with nothing released, the caller decides (retry, quote, refusal).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from index.types import Passage

from .citations import clean_markers, is_refusal, refusal_possible
from .safety.injection import planted_tokens, without_planted
from .safety.sanitize import strip_active_content
from .types import Citation, Sentence
from .verify import _ENUMERATOR, Checker, Mentions, segments

_MARKERS = re.compile(r"\[\d+\]|\[\d*$")  # whole markers, and one still being written
_MARKER_RUN = re.compile(r"(?:\[\d+\]\s*)+$")  # markers with nothing between them, at the end


def _begun(piece: str) -> bool:
    """Whether a segment has words of its own: then the segment before it is complete."""
    rest = _MARKERS.sub("", piece).strip()
    return bool(re.search(r"\w", rest)) and not _ENUMERATOR.fullmatch(rest)


def _separator(space: str) -> str:
    return "\n\n" if space.count("\n") >= 2 else "\n" if "\n" in space else " "


class CheckedStream:
    """Feed the model's deltas; get back the checked sentences ready to be shown."""

    def __init__(
        self,
        passages: Sequence[Passage],
        weight: Callable[[str], float] | None = None,
        question: str = "",
        original: str = "",
        mentions: Mentions | None = None,
    ) -> None:
        """`question`: what the passages answer (a follow-up's standalone form), judged
        by the checks; `original`: the question as asked, whose words are no plant;
        `mentions` as in `verify`."""
        self.passages = passages
        self.checker = Checker(passages, weight, question, mentions, asked_as=original)
        # words only quarantined sentences hold: the same for every sentence of the answer
        self.planted = planted_tokens([p.text for p in passages], original or question)
        self.raw = ""
        self.done = 0  # raw[:done] has been judged
        self.held: list[Sentence] = []  # passed, waiting for the rules above
        self.shown: list[Sentence] = []

    @property
    def text(self) -> str:
        """Everything released so far: the answer's text once the stream is closed."""
        return "".join(s.text for s in self.shown)

    def citations(self) -> tuple[Citation, ...]:
        return self.checker.citations()

    @property
    def unsupported(self) -> tuple[str, ...]:
        return tuple(self.checker.unsupported)

    @property
    def runaway(self) -> bool:
        """Whether the model has stopped writing an answer and only counts markers: more
        in a row than there are passages ("led by [1] [2][3] … [55]"), each a token, to
        the token limit (28 s on docs18). Nothing after such a run can be released."""
        run = _MARKER_RUN.search(self.raw[-12 * (len(self.passages) + 2) :])
        return run is not None and len(_MARKERS.findall(run.group())) > len(self.passages)

    def feed(self, delta: str) -> list[Sentence]:
        self.raw += delta
        return self._release(final=False)

    def close(self) -> list[Sentence]:
        """The last sentence judged; what is still held is released only if it is an answer."""
        return self._release(final=True)

    def _release(self, final: bool) -> list[Sentence]:
        rest = self.raw[self.done :]
        spans = segments(rest)
        if not final:
            begun = [i for i, (s, e) in enumerate(spans) if _begun(rest[s:e])]
            spans = spans[: begun[-1]] if begun else []
        pos = 0
        for s, e in spans:
            self._judge(rest[pos:s], rest[s:e])
            pos = e
        self.done += pos
        if final and is_refusal(self.raw):
            return []  # the caller answers a refusal; nothing was released (see above)
        if not self.checker.supported or (not final and refusal_possible(self.raw)):
            return []
        out, self.held = self.held, []
        self.shown += out
        return out

    def _judge(self, space: str, piece: str) -> None:
        piece = strip_active_content(piece)
        piece = without_planted(piece, self.planted)
        piece = clean_markers(piece, len(self.passages))
        checked = self.checker.check(piece) if piece else None
        if checked is None:
            return
        text, numbers, claims = checked
        sep = _separator(space) if self.shown or self.held else ""
        cites = tuple(self.checker.citation(n, [claims[n]]) for n in numbers)
        self.held.append(Sentence(sep + text, cites))
