"""The answer pipeline, as named stages run in this order by `Pipeline.run`:

1. `rewrite`: a follow-up becomes a standalone question (`Query`);
2. `retrieve`: hybrid search for it, best passages first;
3. `relevant`: the code's own abstention gate (no passage about the question: refuse
   without asking the model);
4. `select`: the prompt (`Prompt`): the best passages within a token budget, fenced;
5. `generate`: the model's deltas, each sentence checked as it completes and released
   only once it passed (`rag.checked`); one retry with every passage when the first try
   gave nothing usable (`worth_retry`) and had left a passage out;
6. `conclude`: the final `Answer`: what was released (with the list its last sentence
   announces, when it copied a list's lead-in: `_listed`), else a quote of a passage
   that clearly answers, else a refusal.

`RAG` (rag/engine.py) is the facade: it checks input, resolves conversations and chosen
documents, and hands the pipeline the engine's store, settings and (lazily) its model.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from collections.abc import Generator as Gen
from dataclasses import dataclass, replace
from functools import cached_property

from index import DocumentError, Passage, Store, read_indexed
from index.chunking import introduced, split_sentences
from index.lexical import tokenize
from index.readable import readable
from index.window import best_window, join_introduced

from .checked import CheckedStream
from .citations import REFUSAL, clean_markers, is_refusal, parse_markers
from .decompose import interleave, question_parts, unanswered
from .errors import InputError
from .llm import Generator, Message
from .prompts import build_messages, build_rewrite_messages
from .safety.injection import drop_planted, is_instruction
from .safety.sanitize import strip_active_content
from .settings import Settings
from .stems import same_word
from .types import Answer, Citation, Event, Sentence, Timings, Usage
from .verify import demands, stated, verify

# Share of the question's (IDF-weighted) terms a passage must hold to count as relevant
# when its embedding similarity alone is under `min_score`.
LEXICAL_EVIDENCE = 0.5
# Small models sometimes refuse with the answer in front of them: when one retrieved
# sentence holds this share of the question's (IDF-weighted) terms, it is quoted instead.
STRONG_EVIDENCE = 0.8
# A refusal is retried once (with a fresh fence code) when a passage is at least this
# close to the question: on-topic enough that the answer is probably in front of it.
RETRY_EVIDENCE = 0.5
# English text runs at ~4 characters per token: close enough for a budget.
CHARS_PER_TOKEN = 4.0
Turns = tuple[tuple[str, str], ...]


def with_previous(question: str, previous: str) -> str:
    """A follow-up with the previous question in front: what is searched beside the
    model's rewrite, and the standalone question when the rewrite is unusable."""
    return f"{previous} {question}"


@dataclass(frozen=True)
class Query:
    """A question as the pipeline answers it."""

    original: str  # the user's words (checked, whitespace collapsed)
    standalone: str  # what is searched and answered: `original`, or a follow-up rewritten
    turns: Turns = ()  # earlier (question, answer) pairs, oldest first
    scope: tuple[str, ...] | None = None  # chosen documents; None: all
    split: bool = True  # False: a part of a compound question, asked alone as it stands

    @cached_property
    def parts(self) -> tuple[str, ...]:
        """What a compound standalone question asks, part by part (`rag.decompose`): read
        by `retrieve` (each part searched), `select` (each part's budget share) and `run`
        (a part the answer left out is asked alone)."""
        return question_parts(self.standalone) if self.split else ()

    @property
    def joined(self) -> bool:
        """Whether a follow-up is searched as the previous question and itself (its
        rewrite was unusable): its "parts" are two questions, only the last one asked."""
        return bool(self.turns) and self.standalone == with_previous(
            self.original, self.turns[-1][0]
        )

    @property
    def asked(self) -> str:
        """The rewritten form of a follow-up, else "" (what `Answer.standalone` holds)."""
        return self.standalone if self.turns else ""


@dataclass(frozen=True)
class Prompt:
    """What the model is sent: the messages and the numbered passages inside them."""

    messages: list[Message]
    passages: list[Passage]
    tokens: int


@dataclass(frozen=True)
class Attempt:
    """One generation, checked: what it released (`checked.shown`) and what it wrote."""

    checked: CheckedStream
    tokens: int  # deltas received
    first_at: float  # perf_counter of the first delta


class Pipeline:
    """The stages over one store and one model; stateless between questions."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        generator: Callable[[], Generator],
        model_name: Callable[[], str],
    ) -> None:
        self.settings = settings
        self.store = store
        self._generator = generator  # loads the model on first use
        self._model_name = model_name

    # -- 1. rewrite -----------------------------------------------------------------
    def rewrite(
        self, original: str, turns: Sequence[tuple[str, str]], scope: tuple[str, ...] | None
    ) -> Query:
        """The `Query` for `original`: a follow-up (with `turns`) rewritten by the model
        into a question that stands on its own, so "what did he say about it?" finds the
        right passages. An unusable rewrite (not a question, unchanged, too long) gets
        the previous question prepended instead."""
        turns = tuple(turns)
        return Query(original, self._standalone(original, list(turns)), turns, scope)

    def _standalone(self, q: str, turns: list[tuple[str, str]]) -> str:
        if not turns:
            return q
        messages = build_rewrite_messages(q, turns)
        while turns and self._generator().count_tokens(messages) > self.settings.ctx - 64:
            turns = turns[1:]  # the oldest turns go first when the context is tight
            messages = build_rewrite_messages(q, turns)
        if not turns:
            return q
        pieces = self._generator().stream_chat(messages, max_tokens=64, temperature=0.0)
        rewritten = " ".join("".join(pieces).split()).strip("\"' ")
        rewritten = re.sub(r"^(?:rewritten question|question)\s*:\s*", "", rewritten, flags=re.I)
        usable = 3 <= len(rewritten) <= self.settings.max_question_chars
        if usable and rewritten.endswith("?") and rewritten.lower() != q.lower():
            return rewritten
        return with_previous(q, turns[-1][0])

    # -- 2. retrieve ----------------------------------------------------------------
    def retrieve(self, query: Query, k: int | None = None) -> list[Passage]:
        """Passages for the standalone question, searched along with the follow-up and
        the previous question's words: a small model's rewrite sometimes loses the
        referent ("the one I get with --release" rewritten without "release")."""
        also = [with_previous(query.original, query.turns[-1][0])] if query.turns else []
        k = k or self.settings.top_k
        texts = _Texts(self.store, self.settings.max_file_bytes)
        found = self.store.search(
            query.standalone, k, window=self.settings.window, also=also, sources=query.scope
        )
        found = join_introduced(found, texts)
        if not query.parts:
            return found
        # A question asking two things: each part searched alone, so each finds its passage
        by_part = [
            join_introduced(
                self.store.search(part, k, window=self.settings.window, sources=query.scope),
                texts,
            )
            for part in query.parts
        ]
        return interleave([*by_part, found], k)

    # -- 3. the abstention gate -------------------------------------------------------
    def relevant(self, query: Query, passages: Sequence[Passage]) -> bool:
        """Code-enforced abstention: some passage must be close in meaning or share the
        question's distinctive words; otherwise the model is not asked at all."""
        if any(p.score >= self.settings.min_score for p in passages):
            return True
        return any(
            self.store.term_coverage(query.standalone, p.text) >= LEXICAL_EVIDENCE for p in passages
        )

    # -- 4. select the context --------------------------------------------------------
    def select(self, query: Query, passages: list[Passage], tight: bool) -> Prompt:
        """The prompt: with `tight`, the best passages whose text fits `context_tokens`
        (at least one), else all of them; then whatever fits the context window."""
        chosen = self._tight(query.standalone, passages, query.parts) if tight else passages
        return self._fit(query.standalone, chosen)

    def _tight(
        self, question: str, passages: list[Passage], parts: tuple[str, ...] = ()
    ) -> list[Passage]:
        """Every prompt token costs ~7 ms on a laptop CPU, and the first passages usually
        hold the answer: a tight first try halves the latency of most answers.

        The first passage always goes, cut to the run of sentences within the budget
        that holds most of the question's words: adjacent chunks of a document retrieved
        together join into one passage, which reached 7,569 characters on a news page
        (1,900 prompt tokens, 18 s). Cut there, no set's first try lost a gold quote it
        held whole (bench/quality.py sets; the retry sends every passage whole)."""
        budget = self.settings.context_tokens
        if not budget or not passages:
            return passages
        if parts:
            # A question asking n things: each part's best passage (the first n, see
            # `retrieve`; when two parts share their best, the next one) cut to 1/n of
            # the budget around that part's words. One question's budget: its latency.
            share = int(budget * CHARS_PER_TOKEN / len(parts))
            return [
                best_window(p, share, lambda text, part=part: self.store.term_coverage(part, text))
                for p, part in zip(passages, parts, strict=False)
            ]
        cover = lambda text: self.store.term_coverage(question, text)  # noqa: E731
        first = best_window(passages[0], int(budget * CHARS_PER_TOKEN), cover)
        kept: list[Passage] = []
        used = 0.0
        for p in [first, *passages[1:]]:
            used += len(p.text) / CHARS_PER_TOKEN
            if kept and used > budget:
                break
            kept.append(p)
        return kept

    def _fit(self, question: str, passages: list[Passage]) -> Prompt:
        """Make the prompt fit the context with room for the answer, whatever the corpus.

        The weakest passages go first; a single passage that is still too long (huge
        chunks, a small context) is cut short, keeping its offsets exact.
        """
        budget = self.settings.ctx - self.settings.max_tokens
        while True:
            messages = build_messages(question, passages)
            tokens = self._generator().count_tokens(messages)
            if tokens <= budget:
                return Prompt(messages, passages, tokens)
            if len(passages) > 1:
                passages = passages[:-1]
                continue
            p = passages[0] if passages else None
            keep = int(len(p.text) * budget / tokens * 0.9) if p else 0
            if p is None or keep < 80:
                raise InputError(
                    f"the prompt needs {tokens} tokens but the context allows {budget}; "
                    "ask a shorter question or raise RAG_CTX"
                )
            keep = p.text.rfind(" ", 0, keep) if " " in p.text[:keep] else keep
            passages = [replace(p, text=p.text[:keep], end=p.start + keep)]

    # -- 5. generate, checked -----------------------------------------------------------
    def generate(
        self,
        query: Query,
        prompt: Prompt,
        timings: Timings,
        started: float,
        stop: threading.Event | None,
    ) -> Gen[Sentence, None, Attempt | None]:
        """Stream the model's answer through the checks, yielding each sentence that
        passes; returns the `Attempt` (None: `stop` was set, and the model is free)."""
        question = query.asked or query.original
        checked = CheckedStream(
            prompt.passages, self.store.term_weight, question, query.original, self.store.mentions
        )
        deltas = self._generator().stream_chat(
            prompt.messages,
            max_tokens=self.settings.max_tokens,
            temperature=0.0,  # greedy: grounded
        )
        tokens, first_at = 0, time.perf_counter()
        for delta in deltas:
            if stop is not None and stop.is_set():
                getattr(deltas, "close", lambda: None)()  # the model's lock, now
                return None
            if not tokens:
                first_at = time.perf_counter()
                timings.first_token = first_at - started
            tokens += 1
            yield from _released(checked.feed(delta), timings, started)
            if checked.runaway:  # counting markers to the token limit: stop it here
                getattr(deltas, "close", lambda: None)()
                break
        yield from _released(checked.close(), timings, started)
        # The model's own counts (prompt, KV-cache hits, answer), where it reports them
        usage = getattr(deltas, "usage", None)
        if isinstance(usage, Usage):
            timings.count(usage)
        return Attempt(checked, tokens, first_at)

    def worth_retry(
        self, query: Query, attempt: Attempt, prompt: Prompt, wide: Sequence[Passage]
    ) -> bool:
        """No usable answer although some passage is clearly about the question: the model
        refused, or the verifier would drop every sentence it wrote (say it added a fact
        the passages do not hold, "Vancouver, British Columbia")."""
        if attempt.checked.shown or not any(p.score >= RETRY_EVIDENCE for p in wide):
            return False
        raw = attempt.checked.raw
        if is_refusal(raw):
            return True
        return self._finish(query, raw, prompt.passages, Timings(), fallback=False).refused

    # -- 6. conclude ------------------------------------------------------------------
    def conclude(self, query: Query, attempt: Attempt, prompt: Prompt, timings: Timings) -> Answer:
        """The final answer: what the checks released, else (nothing was shown) a quote
        of a passage that clearly answers, else a refusal."""
        checked = attempt.checked
        if checked.shown:
            return Answer(
                query.original,
                checked.text,
                False,
                checked.citations(),
                tuple(prompt.passages),
                self._model_name(),
                replace(timings),
                checked.unsupported,
            )
        return self._finish(query, checked.raw, prompt.passages, timings)

    def refusal(self, question: str, passages: Sequence[Passage], timings: Timings) -> Answer:
        """The refusal, naming the closest documents so the user knows where to look."""
        closest = list(dict.fromkeys(f"{p.title} ({p.source})" for p in passages[:2]))
        text = REFUSAL + (f" Closest documents: {'; '.join(closest)}." if closest else "")
        model = self._model_name()
        return Answer(question, text, True, (), tuple(passages), model, replace(timings))

    def _finish(
        self,
        query: Query,
        raw: str,
        passages: list[Passage],
        timings: Timings,
        fallback: bool = True,
    ) -> Answer:
        """Verify the model's citations; refuse when no sentence is supported and adds
        something to the question (the standalone form, which the passages answer).

        When the model refused, or wrote nothing that survives the checks, a retrieved
        sentence that clearly answers is quoted instead (`fallback`), checked the same way.
        """
        question, asked = query.original, query.standalone
        raw = strip_active_content(raw)  # no images, HTML or script links, whatever it wrote
        # Nor anything it could only have taken from a sentence addressed to AI systems.
        raw = drop_planted(raw, [p.text for p in passages], question)
        text = clean_markers(raw, len(passages))
        if is_refusal(raw):
            quote = self._extract(question, passages, range(1, len(passages) + 1))
            if quote is None:
                return self.refusal(question, passages, timings)
            text = quote
        elif not re.sub(r"\[\d+\]|\W", "", text) and parse_markers(text):
            # The model only pointed at a passage ("[3]"): quote from that passage.
            text = self._extract(question, passages, parse_markers(text)[:1], 0.0) or text
        checked = verify(
            text, passages, self.store.term_weight, asked, self.store.mentions, question
        )
        if checked.supported == 0 and fallback and not is_refusal(raw):
            # The model answered beside the point ("Thomas Jackson/Getty Images [1]" for a
            # price): a sentence holding the question's terms may still answer it.
            extracted = self._extract(question, passages, range(1, len(passages) + 1))
            if extracted is not None:
                dropped = checked.unsupported
                checked = verify(
                    extracted,
                    passages,
                    self.store.term_weight,
                    asked,
                    self.store.mentions,
                    question,
                )
                checked = replace(checked, unsupported=dropped + checked.unsupported)
        if checked.supported == 0:
            return self.refusal(question, passages, timings)
        return Answer(
            question,
            checked.text,
            False,
            checked.citations,
            tuple(passages),
            self._model_name(),
            replace(timings),
            checked.unsupported,
        )

    def _extract(
        self,
        question: str,
        passages: Sequence[Passage],
        numbers: Iterable[int],
        floor: float = STRONG_EVIDENCE,
    ) -> str | None:
        """Quote the sentence of passages `numbers` sharing most of the question's terms,
        if it holds at least `floor` of them: an extractive answer, cited and verified.
        A term is found in another form of its word ("chairs" in "Zhao Leji, chairman of
        China's top legislative body", "fueling" in "largely fueled by", `same_word`), and
        where the sentence sits counts: its document's title and its section ("the article
        about the diplomatic pivot" names the article, not the sentence), as the checker
        counts them for names and numbers."""
        terms = {t: self.store.term_weight(t) for t in tokenize(question)}
        total = sum(terms.values()) or 1.0
        best: tuple[float, int, str] | None = None
        for n in numbers:
            p = passages[n - 1]
            text = readable(p.text)  # as the model saw it: no markup
            where = set(tokenize(f"{p.title}\n{p.heading}"))
            spans = split_sentences(text) or [(0, len(text))]
            for i, (s, e) in enumerate(spans):
                if is_instruction(text[s:e]):
                    continue  # quarantined from the prompt: never quoted either
                words = where | set(tokenize(text[s:e]))
                found = (w for t, w in terms.items() if any(same_word(t, x) for x in words))
                score = sum(found) / total
                if best is None or score > best[0]:
                    # with what a lead-in introduces, whole sentences, as long as a list
                    upto = introduced(text, spans, i)
                    end = max(
                        b for a, b in spans[i:] if b <= upto and b - s <= LIST_CHARS or a == s
                    )
                    best = (score, n, text[s:end])
        if best is None or best[0] < floor:
            return None
        return f"“{' '.join(best[2].split())}” [{best[1]}]"  # one line: one sentence

    # -- the stages in order ------------------------------------------------------------
    def run(
        self, query: Query, started: float, stop: threading.Event | None = None
    ) -> Iterator[Event]:
        """Yield each checked `Sentence` as it passes, then the `Answer` (nothing when
        `stop` is set). `started`: when the question arrived, for the timings.

        A compound question's answer that leaves a part out (`rag.decompose.unanswered`)
        is completed part by part: each such part is asked alone, as a question of its
        own (its own search, prompt, retry and checks), and what passes is added with its
        citations. A part the documents do not answer adds nothing."""
        answer = None
        for event in self._stages(query, started, stop):
            if isinstance(event, Answer):
                answer = event
            else:
                yield event
        if answer is None:
            return  # stopped
        if query.parts and not query.joined and not answer.refused:
            gives = demands(answer.passages, query.parts)
            for i in unanswered(query.parts, answer.text, gives):
                part = Query(query.parts[i], query.parts[i], scope=query.scope, split=False)
                events = list(self._stages(part, time.perf_counter(), stop))
                if not events or not isinstance(events[-1], Answer):
                    return  # stopped
                added = events[-1]
                if added.refused:
                    continue
                numbers = _renumbering(answer.passages, added.passages)
                said = [_renumbered(e, numbers) for e in events if isinstance(e, Sentence)]
                fresh = [sentence for sentence in said if not _repeats(sentence, answer)]
                if not fresh:
                    continue
                fresh[0] = replace(fresh[0], text=f" {fresh[0].text.lstrip()}")
                yield from fresh
                answer = _joined(answer, added, fresh, numbers, started)
        yield answer

    def _stages(
        self, query: Query, started: float, stop: threading.Event | None
    ) -> Iterator[Event]:
        """One question through the stages: its sentences, then its `Answer`."""
        timings = Timings(rewrite=time.perf_counter() - started if query.turns else None)
        passages = self.retrieve(query)
        timings.retrieval = time.perf_counter() - started - (timings.rewrite or 0.0)
        scoped = {"standalone": query.asked, "scope": query.scope or ()}
        if not self.relevant(query, passages):
            timings.total = timings.first_sentence = time.perf_counter() - started
            answer = scoped_refusal(
                replace(self.refusal(query.original, passages, timings), **scoped)
            )
            yield Sentence(answer.text)
            yield answer
            return
        # The standalone question carries the conversation, so earlier turns are not resent.
        # The best passages first, within a token budget; all of them only if that fails.
        prompt = self.select(query, passages, tight=True)
        timings.prompt_tokens = prompt.tokens
        gen_started = time.perf_counter()
        attempt = yield from self.generate(query, prompt, timings, started, stop)
        wide = None
        if attempt is not None and self.worth_retry(query, attempt, prompt, passages):
            wide = self.select(query, passages, tight=False)
        if wide is not None and wide.passages != prompt.passages:
            # The answer may be in a passage the budget left out: the retry sends every
            # passage, in the same order under the same fence codes, so the first try's
            # passages are still in llama.cpp's KV cache and only the new ones are
            # evaluated (all of them when the first passage had been cut to the budget:
            # the retry sends it whole). Nothing of the first try was shown. With nothing
            # left out there is no retry: the same prompt gets the same greedy answer, and
            # one re-rolled under other fence codes won none of the 7 such retries of run
            # l1 (all unanswerable, refused again after ~10 s more; the 13 answerable
            # questions whose first prompt held every passage were answered by it).
            timings.retried = True
            prompt = wide
            attempt = yield from self.generate(query, prompt, timings, started, stop)
        if attempt is None:
            return  # stopped: the client left
        listed = _listed(attempt.checked, prompt.passages) if attempt.checked.shown else None
        if listed is not None:
            yield listed
        timings.generation = time.perf_counter() - gen_started
        timings.decode = time.perf_counter() - attempt.first_at  # after the first token
        # A generator that does not count (a scripted fake) is assumed one token per delta
        if timings.completion_tokens is None:
            timings.completion_tokens = attempt.tokens
        timings.total = time.perf_counter() - started
        if not attempt.checked.shown:  # a refusal, a quote, or nothing passed: said at once
            timings.first_sentence = timings.total
        answer = scoped_refusal(replace(self.conclude(query, attempt, prompt, timings), **scoped))
        if not attempt.checked.shown:
            yield Sentence(answer.text, answer.citations)
        elif listed is not None:
            answer = replace(
                answer,
                text=answer.text + listed.text,
                citations=_widened(answer.citations, listed.citations[0], prompt.passages),
            )
        yield answer


class _Texts:
    """Indexed documents' texts, read on demand and once per question: where a passage
    joins what it introduces (`index.window.join_introduced`), the lines between."""

    def __init__(self, store: Store, max_bytes: int) -> None:
        self.store, self.max_bytes = store, max_bytes
        self._read: dict[str, str | None] = {}

    def __call__(self, source: str) -> str | None:
        if source not in self._read:
            doc = self.store.documents().get(source)
            try:
                self._read[source] = read_indexed(doc, self.max_bytes).text if doc else None
            except (DocumentError, OSError):
                self._read[source] = None  # changed or gone: the passages stay apart
        return self._read[source]


# A list item: a bullet or a number, then text ("• Leader election: …", "2. Build")
_ITEM_LINE = re.compile(r"[ \t]*(?:[-*+•◦▪‣]|\d{1,2}[.)])[ \t]+\S")
# A quoted list stays readable: at most this many items and characters (whole items)
LIST_ITEMS, LIST_CHARS = 12, 1200


def _listed(checked: CheckedStream, passages: Sequence[Passage]) -> Sentence | None:
    """The list an answer's last sentence announces, quoted from its passage.

    A small model asked "Into which subproblems does Raft break the problem?" copies the
    passage's lead-in "…three subproblems, which are discussed in the subsections that
    follow:" and stops (pdf04): its sentence is supported, and says nothing the user
    asked. When the passage span backing the last sentence ends in ":" and list items
    follow it, those items are the answer it announces: quoted as they stand, with the
    same citation (one span from the lead-in to the list's end)."""
    last = checked.shown[-1] if checked.shown else None
    if last is None or len(last.citations) != 1:
        return None
    cited = last.citations[0]
    if not cited.text.rstrip().endswith(":"):
        return None
    p = passages[cited.n - 1]
    rest = p.text[cited.end - p.start :]
    lines = rest.split("\n")
    if lines[0].strip():
        return None  # the lead-in must end its line
    items: list[tuple[list[str], list[int]]] = []  # each item's lines, its [start, end] in `rest`
    pos = len(lines[0]) + 1
    for i, line in enumerate(lines[1:], 1):
        if not line.strip():  # a blank line ends the list unless an item follows it
            after = next((x for x in lines[i + 1 :] if x.strip()), "")
            if not _ITEM_LINE.match(after):
                break
        elif line.lstrip().startswith("#"):
            break  # a section ends it
        else:
            item = _ITEM_LINE.match(line) is not None
            if not items and not item:
                return None  # no list follows the lead-in
            if pos + len(line) > LIST_CHARS or (item and len(items) == LIST_ITEMS):
                if not item:  # the item this line continues would be cut: left out whole
                    items.pop()
                break
            if item:
                items.append(([], [pos, pos]))
            items[-1][0].append(line.strip())
            items[-1][1][1] = pos + len(line)
        pos += len(line) + 1
    shown = [" ".join(strip_active_content(readable(" ".join(i))).split()) for i, _ in items]
    if not items or any(is_instruction(item) for item in shown):
        return None
    start, stop = cited.end + items[0][1][0], cited.end + items[-1][1][1]
    citation = Citation(
        cited.n, p.source, p.title, p.text[start - p.start : stop - p.start], start, stop, p.page
    )
    return Sentence("\n" + "\n".join(shown) + f" [{cited.n}]", (citation,))


def _renumbering(passages: Sequence[Passage], added: Sequence[Passage]) -> dict[int, int]:
    """Each added passage's number in the joined answer: the same number when the answer
    already shows that passage, else the next free one."""
    where = {(p.source, p.start, p.end): n for n, p in enumerate(passages, 1)}
    numbers, free = {}, len(passages)
    for n, p in enumerate(added, 1):
        key = (p.source, p.start, p.end)
        if key not in where:
            free += 1
            where[key] = free
        numbers[n] = where[key]
    return numbers


def _renumber_text(text: str, numbers: dict[int, int]) -> str:
    return re.sub(r"\[(\d+)\]", lambda m: f"[{numbers.get(int(m.group(1)), m.group(1))}]", text)


def _renumbered(sentence: Sentence, numbers: dict[int, int]) -> Sentence:
    """A sentence of a part's answer as the joined answer numbers its passages."""
    return Sentence(
        _renumber_text(sentence.text, numbers),
        tuple(replace(c, n=numbers[c.n]) for c in sentence.citations),
    )


def _repeats(sentence: Sentence, answer: Answer) -> bool:
    """Whether a part's sentence says again what the answer already says: it cites only
    spans the answer already cites and states no number or name the answer does not.
    Asked alone about the feature limit, the model first repeated the size limit the
    answer had just given ("Crates.io currently has a 10MB size limit on the `.crate`
    file [1]." after "The maximum size of a `.crate` file is 10MB [1].")."""
    if not sentence.citations:
        return False
    for c in sentence.citations:
        if not any(
            a.source == c.source and a.start <= c.start and c.end <= a.end for a in answer.citations
        ):
            return False
    return stated(sentence.text) <= stated(answer.text)


def _joined(
    answer: Answer,
    added: Answer,
    sentences: Sequence[Sentence],
    numbers: dict[int, int],
    started: float,
) -> Answer:
    """`answer` with the `sentences` of a part's answer after it (renumbered by
    `numbers`, as streamed): their passages and citations, its model time counted."""
    passages = list(answer.passages)
    for n, p in enumerate(added.passages, 1):
        if numbers[n] > len(passages):
            passages.append(p)
    timings = replace(answer.timings, total=time.perf_counter() - started)
    timings.generation = (timings.generation or 0.0) + (added.timings.generation or 0.0)
    timings.retried = timings.retried or added.timings.retried
    cited = {c.n for sentence in sentences for c in sentence.citations}
    citations = [replace(c, n=numbers[c.n]) for c in added.citations]
    return replace(
        answer,
        text=answer.text + "".join(sentence.text for sentence in sentences),
        citations=answer.citations + tuple(c for c in citations if c.n in cited),
        passages=tuple(passages),
        timings=timings,
        unsupported=answer.unsupported + added.unsupported,
    )


def _widened(
    citations: Sequence[Citation], extra: Citation, passages: Sequence[Passage]
) -> tuple[Citation, ...]:
    """The answer's citations with the lead-in's span running on through its list."""
    p = passages[extra.n - 1]
    out = []
    for c in citations:
        if c.n == extra.n and c.start <= extra.start and c.end <= extra.end:
            c = replace(c, text=p.text[c.start - p.start : extra.end - p.start], end=extra.end)
        out.append(c)
    return tuple(out)


def _released(sentences: list[Sentence], timings: Timings, started: float) -> Iterator[Sentence]:
    if sentences and timings.first_sentence is None:
        timings.first_sentence = time.perf_counter() - started
    yield from sentences


def scoped_refusal(answer: Answer) -> Answer:
    """A refusal over chosen documents says so: the others were not searched."""
    if not answer.refused or not answer.scope:
        return answer
    names = ", ".join(answer.scope[:5]) + (
        f" and {len(answer.scope) - 5} more" if len(answer.scope) > 5 else ""
    )
    text = f"I cannot answer that from the chosen documents ({names}): they do not say."
    return replace(answer, text=text + " The other documents were not searched.")
