"""`RAG`: the one object the Python API, the CLI and the UI all drive.

It composes parts it is given (or builds defaults lazily from `Settings`): a `Store` with
its embedder for retrieval, and a `Generator` for answers. Loading a model never happens
at import or open time, only when an answer is first needed.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from index import (
    Document,
    Embedder,
    IndexReport,
    Passage,
    Progress,
    Store,
    StoredDocument,
    UnknownDocumentError,
    bundled_corpus,
    make_embedder,
    read_indexed,
)
from index import sync as _sync
from index.chunking import split_sentences
from index.readable import readable
from index.readers import SUPPORTED_SUFFIXES

from .checked import CheckedStream
from .citations import REFUSAL, clean_markers, is_refusal, parse_markers
from .conversations import FILE as CONVERSATIONS_FILE
from .conversations import Conversations
from .errors import InputError
from .llm import Generator, LlamaCppGenerator
from .models import resolve_model
from .prompts import build_messages, build_rewrite_messages, new_fence_code
from .safety.injection import drop_planted, is_instruction
from .safety.sanitize import strip_active_content
from .settings import Settings
from .types import Answer, Event, Sentence, Usage
from .verify import verify

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
HistoryLike = Sequence[Any] | None
UPLOADS = "uploads"  # folder inside the index directory for files added through the UI


def with_previous(question: str, previous: str) -> str:
    """A follow-up with the previous question in front: what is searched beside the
    model's rewrite, and the standalone question when the rewrite is unusable."""
    return f"{previous} {question}"


def _scoped_refusal(answer: Answer) -> Answer:
    """A refusal over chosen documents says so: the others were not searched."""
    if not answer.refused or not answer.scope:
        return answer
    names = ", ".join(answer.scope[:5]) + (
        f" and {len(answer.scope) - 5} more" if len(answer.scope) > 5 else ""
    )
    text = f"I cannot answer that from the chosen documents ({names}): they do not say."
    return replace(answer, text=text + " The other documents were not searched.")


def _normalize_history(history: HistoryLike) -> list[tuple[str, str]]:
    """Accept (question, answer) pairs, `Answer`s or chat dicts; return (user, assistant) pairs."""
    pairs: list[tuple[str, str]] = []
    pending_user: str | None = None
    for turn in history or ():
        if isinstance(turn, Answer):
            pairs.append((turn.question, turn.text))
        elif isinstance(turn, dict):
            role, content = turn.get("role"), turn.get("content")
            if not isinstance(content, str):
                continue
            if role == "user":
                pending_user = content
            elif role == "assistant" and pending_user is not None:
                pairs.append((pending_user, content))
                pending_user = None
        elif isinstance(turn, (tuple, list)) and len(turn) == 2:
            pairs.append((str(turn[0]), str(turn[1])))
        else:
            raise InputError("history items must be (question, answer) pairs or chat messages")
    # Old [n] markers referred to other passages: drop them so they cannot mislead.
    return [(u, re.sub(r"\[\d+\]", "", a).strip()) for u, a in pairs]


class RAG:
    """Index documents and answer questions from them, with citations."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        generator: Generator | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self._generator = generator
        self._generator_lock = threading.Lock()
        self._index_lock = threading.Lock()
        self._conversations: Conversations | None = None

    @classmethod
    def open(
        cls,
        db: str | Path | None = None,
        *,
        model: str | None = None,
        embedder: Embedder | None = None,
        generator: Generator | None = None,
        settings: Settings | None = None,
        reembed: bool = False,
        **overrides: Any,
    ) -> RAG:
        """Open (or create) the index at `db`; every argument defaults from `Settings`.
        `reembed`: an index built by another embedder is embedded again with this one."""
        settings = settings or Settings.from_env(db=db, model=model, **overrides)
        embedder = embedder or make_embedder(settings.embed_backend, settings.cache_dir)
        store = Store(settings.db, embedder, chroma_url=settings.chroma_url, reembed=reembed)
        return cls(settings, store, generator)

    # -- models ------------------------------------------------------------------
    @property
    def generator(self) -> Generator:
        """The LLM, prepared (assembled, verified) and loaded on first use; with
        `llm_url`, a client for that server instead (no local model is touched)."""
        with self._generator_lock:
            if self._generator is None and self.settings.llm_url:
                from .remote import OpenAICompatibleGenerator

                self._generator = OpenAICompatibleGenerator(
                    self.settings.llm_url,
                    model=self.settings.llm_model,
                    api_key=self.settings.llm_api_key,
                )
            if self._generator is None:
                path = resolve_model(
                    self.settings.model, self.settings.cache_dir, self.settings.model_sha256
                )
                self._generator = LlamaCppGenerator(
                    path,
                    n_ctx=self.settings.ctx,
                    threads=self.settings.threads,
                    draft_tokens=self.settings.draft_tokens,
                )
            return self._generator

    def warm_up(self) -> None:
        """Load both models now, so the first question is answered at full speed."""
        gen = self.generator
        if isinstance(gen, LlamaCppGenerator):
            # The rules' tokens go into the KV cache now, not on the first question.
            gen.warm_up(build_messages("Hello", []))
        elif hasattr(gen, "warm_up"):
            gen.warm_up()
        self.store.embedder.embed(["warm up"])

    # -- indexing ----------------------------------------------------------------
    def index(
        self, paths: Iterable[str | Path] | None = None, progress: Progress | None = None
    ) -> IndexReport:
        """Make the index mirror `paths` (default: the bundled corpus).

        `progress` receives `ProgressEvent`s (files read, chunks embedded). Another
        process indexing into the same directory makes this raise `IndexLockedError`.
        """
        targets = list(paths) if paths is not None else [bundled_corpus()]
        if not targets:
            raise InputError("nothing to index: give at least one file or folder")
        with self._index_lock:
            return _sync(
                self.store,
                targets,
                chunk_chars=self.settings.chunk_chars,
                max_bytes=self.settings.max_file_bytes,
                progress=progress,
            )

    def documents(self) -> list[StoredDocument]:
        """What is indexed, by source name."""
        return sorted(self.store.documents().values(), key=lambda d: d.source)

    def document(self, source: str) -> Document:
        """An indexed document's text, the one its passages' and citations' offsets point
        into (`document.text[c.start:c.end] == c.text`; PDFs: `pages` spans), to show a
        citation in its context. Only indexed sources can be read, never a path."""
        doc = self.store.documents().get(source) if isinstance(source, str) else None
        if doc is None:
            raise UnknownDocumentError(f"no indexed document is named {source!r}")
        return read_indexed(doc, self.settings.max_file_bytes)

    @property
    def conversations(self) -> Conversations:
        """Saved conversations (list, get, rename, delete, markdown), kept in the index
        directory; `ask(..., conversation=id)` answers a follow-up in one and saves it."""
        if self._conversations is None:
            self._conversations = Conversations(self.store.path / CONVERSATIONS_FILE)
        return self._conversations

    @property
    def uploads_dir(self) -> Path:
        """Where `add_files` keeps its copies: inside the index, mirrored like a folder."""
        return self.store.path / UPLOADS

    def add_files(
        self, files: Sequence[str | Path], progress: Progress | None = None
    ) -> IndexReport:
        """Copy files (e.g. browser uploads) into the index's own folder and index them.

        Each file is checked first (type, size, a plain name); one bad file refuses the
        whole batch before anything is copied, so a failed upload changes nothing.
        """
        limit = self.settings.max_file_bytes
        checked: list[tuple[Path, str]] = []
        for file in files:
            path = Path(file)
            name = path.name
            if not name or name.startswith(".") or name != name.strip():
                raise InputError(f"{name!r}: not an acceptable file name")
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                allowed = " ".join(sorted(SUPPORTED_SUFFIXES))
                raise InputError(f"{name}: file type not accepted (allowed: {allowed})")
            if not path.is_file():
                raise InputError(f"{name}: not a readable file")
            if path.stat().st_size > limit:
                raise InputError(f"{name}: over the {self.settings.max_file_mb} MB limit")
            checked.append((path, name))
        if not checked:
            raise InputError("no files to add")
        self.uploads_dir.mkdir(exist_ok=True)
        for path, name in checked:
            tmp = self.uploads_dir / f".{name}.part"
            shutil.copyfile(path, tmp)
            os.replace(tmp, self.uploads_dir / name)
        return self.index([self.uploads_dir], progress=progress)

    def remove(self, sources: Sequence[str]) -> list[str]:
        """Take documents out of the index. Files are not touched, except the index's own
        copies of uploads (else the next upload would bring them back)."""
        with self._index_lock:
            docs = self.store.documents()
            gone = self.store.remove(list(sources))
            for source in gone:
                if Path(docs[source].root) == self.uploads_dir.resolve():
                    (self.uploads_dir / source).unlink(missing_ok=True)
            return gone

    def ensure_indexed(self) -> IndexReport | None:
        """Index the bundled corpus if the index is empty (first run of the demo)."""
        if self.store.count() == 0:
            return self.index()
        return None

    def info(self) -> dict[str, Any]:
        """What the UI and CLI show: which model and which index are in use."""
        docs = self.store.documents()
        return {
            "model": self._model_name(),
            "db": str(self.store.path),
            "documents": len(docs),
            "chunks": sum(len(d.chunk_ids) for d in docs.values()),
            "updated": self.store.snapshots.published(),  # when the index last changed
            # only the bundled news (or nothing yet): the demo's example questions fit
            "demo": all(Path(d.root).resolve() == bundled_corpus() for d in docs.values()),
        }

    # -- answering ---------------------------------------------------------------
    def _check_question(self, question: str) -> str:
        if not isinstance(question, str):
            raise InputError("the question must be text")
        q = " ".join(question.split())
        if not q:
            raise InputError("the question is empty")
        limit = self.settings.max_question_chars
        if len(q) > limit:
            raise InputError(
                f"the question is {len(q):,} characters; the limit is {limit:,} "
                "(RAG_MAX_QUESTION_CHARS)"
            )
        return q

    def retrieve(
        self,
        question: str,
        k: int | None = None,
        history: HistoryLike = None,
        sources: Sequence[str] | None = None,
    ) -> list[Passage]:
        """The passages most relevant to `question`, best first: those an answer is given
        (a follow-up is rewritten with `history` first; `sources` as in `stream`)."""
        original = self._check_question(question)
        scope = self.resolve_sources(sources)
        turns = _normalize_history(history)
        return self._search(self._rewrite(original, turns), original, turns, k, scope)

    def resolve_sources(self, sources: Sequence[str] | None) -> tuple[str, ...] | None:
        """`sources` (names or folder prefixes) resolved to indexed documents (None: all),
        checked before any work: a typo is an `UnknownDocumentError`, not an answer from
        the wrong documents."""
        if sources is None:
            return None
        if isinstance(sources, str):
            sources = [sources]
        return tuple(self.store.resolve_sources(sources))

    def _search(
        self,
        q: str,
        original: str,
        turns: list[tuple[str, str]],
        k: int | None = None,
        scope: Sequence[str] | None = None,
    ) -> list[Passage]:
        """`q`, the standalone question, searched along with the follow-up and the previous
        question's words: a small model's rewrite sometimes loses the referent ("the one I
        get with --release" rewritten without "release")."""
        also = [with_previous(original, turns[-1][0])] if turns else []
        return self.store.search(
            q, k or self.settings.top_k, window=self.settings.window, also=also, sources=scope
        )

    def standalone_question(self, question: str, history: HistoryLike = None) -> str:
        """A follow-up rewritten by the model into a question that stands on its own.

        Retrieval and the answer prompt both use it, so "what did he say about it?" finds
        the right passages. If the rewrite is unusable (not a question, unchanged, too
        long), the previous question is prepended instead.
        """
        return self._rewrite(self._check_question(question), _normalize_history(history))

    def _rewrite(self, q: str, turns: list[tuple[str, str]]) -> str:
        if not turns:
            return q
        messages = build_rewrite_messages(q, turns)
        while turns and self.generator.count_tokens(messages) > self.settings.ctx - 64:
            turns = turns[1:]  # the oldest turns go first when the context is tight
            messages = build_rewrite_messages(q, turns)
        if not turns:
            return q
        pieces = self.generator.stream_chat(messages, max_tokens=64, temperature=0.0)
        rewritten = " ".join("".join(pieces).split()).strip("\"' ")
        rewritten = re.sub(r"^(?:rewritten question|question)\s*:\s*", "", rewritten, flags=re.I)
        usable = 3 <= len(rewritten) <= self.settings.max_question_chars
        if usable and rewritten.endswith("?") and rewritten.lower() != q.lower():
            return rewritten
        return with_previous(q, turns[-1][0])

    def _relevant(self, question: str, passages: Sequence[Passage]) -> bool:
        """Code-enforced abstention: some passage must be close in meaning or share the
        question's distinctive words; otherwise the model is not asked at all."""
        if any(p.score >= self.settings.min_score for p in passages):
            return True
        return any(self.store.term_coverage(question, p.text) >= LEXICAL_EVIDENCE for p in passages)

    def _fit(
        self, question: str, passages: list[Passage], code: str
    ) -> tuple[list[dict], list[Passage], int]:
        """Make the prompt fit the context with room for the answer, whatever the corpus.

        The weakest passages go first; a single passage that is still too long (huge
        chunks, a small context) is cut short, keeping its offsets exact.
        """
        budget = self.settings.ctx - self.settings.max_tokens
        while True:
            messages = build_messages(question, passages, code)
            tokens = self.generator.count_tokens(messages)
            if tokens <= budget:
                return messages, passages, tokens
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

    def _refusal(self, question: str, passages: Sequence[Passage], timings: dict) -> Answer:
        closest = list(dict.fromkeys(f"{p.title} ({p.source})" for p in passages[:2]))
        text = REFUSAL + (f" Closest documents: {'; '.join(closest)}." if closest else "")
        return Answer(question, text, True, (), tuple(passages), self._model_name(), dict(timings))

    def _model_name(self) -> str:
        if self._generator is not None:
            return self._generator.name
        if self.settings.llm_url:  # not contacted yet: say where answers will come from
            return f"{self.settings.llm_model or 'model'} at {self.settings.llm_url}"
        return self.settings.model

    def stream(
        self,
        question: str,
        history: HistoryLike = None,
        sources: Sequence[str] | None = None,
        conversation: str | None = None,
        user: str = "",
        stop: threading.Event | None = None,
    ) -> Iterator[Event]:
        """Yield each checked `Sentence` as soon as it passes, then the final `Answer`.

        Nothing unchecked is ever yielded: the sentences join into `Answer.text` exactly
        (see `rag.checked`); a refusal comes as one sentence. `sources` limits the
        question to some documents: names or folder prefixes of indexed sources (an
        unknown name is an `InputError`); a refusal then says the chosen documents do not
        hold the answer. `conversation`: a saved conversation's id (of `user`); its turns
        are the history (unless `history` is given) and the answer is saved to it as soon
        as it is final. Setting `stop` ends the stream between two model tokens, with no
        `Answer` (a client that left): the model is free at once.
        """
        original = self._check_question(question)
        if conversation is not None:
            saved = self.conversations.get(conversation, user)  # unknown id: error now
            history = saved.history() if history is None else history
            for event in self.stream(original, history, sources, stop=stop):
                if isinstance(event, Answer):
                    self.conversations.add(conversation, event, user)
                yield event
            return
        turns = _normalize_history(history)
        started = time.perf_counter()
        if sources is None:
            self.ensure_indexed()
        scope = self.resolve_sources(sources)
        q = self._rewrite(original, turns)
        asked = q if turns else ""
        timings = {"rewrite": time.perf_counter() - started} if turns else {}
        passages = self._search(q, original, turns, scope=scope)
        timings["retrieval"] = time.perf_counter() - started - timings.get("rewrite", 0.0)
        scoped = {"standalone": asked, "scope": scope or ()}
        if not self._relevant(q, passages):
            timings["total"] = timings["first_sentence"] = time.perf_counter() - started
            answer = _scoped_refusal(replace(self._refusal(original, passages, timings), **scoped))
            yield Sentence(answer.text)
            yield answer
            return
        # The standalone question carries the conversation, so earlier turns are not resent.
        # The best passages first, within a token budget; all of them only if that fails.
        wide = passages
        code = new_fence_code()
        messages, passages, prompt_tokens = self._fit(q, self._tight(passages), code)
        timings["prompt_tokens"] = prompt_tokens
        gen_started = time.perf_counter()
        first_at = gen_started
        for attempt in range(2):
            checked = CheckedStream(passages, self.store.term_weight, asked or original, original)
            deltas = self.generator.stream_chat(
                messages,
                max_tokens=self.settings.max_tokens,
                temperature=0.0,  # greedy: grounded
            )
            tokens = 0
            for delta in deltas:
                if stop is not None and stop.is_set():
                    getattr(deltas, "close", lambda: None)()  # the model's lock, now
                    return
                if not tokens:
                    first_at = time.perf_counter()
                    timings["first_token"] = first_at - started
                tokens += 1
                yield from self._released(checked.feed(delta), timings, started)
            yield from self._released(checked.close(), timings, started)
            # The model's own counts (prompt, KV-cache hits, answer), where it reports them
            usage = getattr(deltas, "usage", None)
            reported = usage.known() if isinstance(usage, Usage) else {}
            timings.update(reported)
            if (
                checked.shown
                or attempt
                or not self._worth_retry(original, checked.raw, passages, wide, q)
            ):
                break
            # The answer may be in a passage the budget left out: the retry sends every
            # passage, in the same order under the same fence code, so the first try's
            # passages are still in llama.cpp's KV cache and only the new ones are
            # evaluated. With no passage left out, a fresh code changes the prompt's
            # tokens instead: a small model sometimes refuses with the answer in front of
            # it, and one more try usually answers. Nothing of the first try was shown.
            timings["retried"] = 1
            if len(passages) >= len(wide):
                code = new_fence_code()
            messages, passages, prompt_tokens = self._fit(q, wide, code)
        timings["generation"] = time.perf_counter() - gen_started
        timings["decode"] = time.perf_counter() - first_at  # after the first token
        # A generator that does not count (a scripted fake) is assumed one token per delta
        timings.setdefault("completion_tokens", tokens)
        timings["total"] = time.perf_counter() - started
        if checked.shown:
            answer = Answer(
                original,
                checked.text,
                False,
                checked.citations(),
                tuple(passages),
                self._model_name(),
                dict(timings),
                checked.unsupported,
            )
        else:  # a refusal, a quote of the passages, or nothing that passed: said at once
            timings["first_sentence"] = timings["total"]
            answer = self._finish(original, checked.raw, passages, timings, q)
        answer = _scoped_refusal(replace(answer, **scoped))
        if not checked.shown:
            yield Sentence(answer.text, answer.citations)
        yield answer

    @staticmethod
    def _released(sentences: list[Sentence], timings: dict, started: float) -> Iterator[Sentence]:
        if sentences and "first_sentence" not in timings:
            timings["first_sentence"] = time.perf_counter() - started
        yield from sentences

    def _tight(self, passages: list[Passage]) -> list[Passage]:
        """The best passages whose text fits `context_tokens` (at least one).

        Every prompt token costs ~7 ms on a laptop CPU, and the first passages usually
        hold the answer: a tight first try halves the latency of most answers.
        """
        budget = self.settings.context_tokens
        if not budget:
            return passages
        kept: list[Passage] = []
        used = 0.0
        for p in passages:
            used += len(p.text) / CHARS_PER_TOKEN
            if kept and used > budget:
                break
            kept.append(p)
        return kept

    def _worth_retry(
        self, question: str, raw: str, shown: list[Passage], wide: Sequence[Passage], asked: str
    ) -> bool:
        """No usable answer although some passage is clearly about the question: the model
        refused, or the verifier would drop every sentence it wrote (say it added a fact
        the passages do not hold, "Vancouver, British Columbia")."""
        if not any(p.score >= RETRY_EVIDENCE for p in wide):
            return False
        if is_refusal(raw):
            return True
        return self._finish(question, raw, shown, {}, asked, fallback=False).refused

    def _finish(
        self,
        question: str,
        raw: str,
        passages: list[Passage],
        timings: dict,
        asked: str = "",
        fallback: bool = True,
    ) -> Answer:
        """Verify the model's citations; refuse when no sentence is supported and adds
        something to the question (`asked`: the standalone form the passages answer).

        When the model refused, or wrote nothing that survives the checks, a retrieved
        sentence that clearly answers is quoted instead (`fallback`), checked the same way.
        """
        raw = strip_active_content(raw)  # no images, HTML or script links, whatever it wrote
        # Nor anything it could only have taken from a sentence addressed to AI systems.
        raw = drop_planted(raw, [p.text for p in passages], question)
        text = clean_markers(raw, len(passages))
        if is_refusal(raw):
            quote = self._extract(question, passages, range(1, len(passages) + 1))
            if quote is None:
                return self._refusal(question, passages, timings)
            text = quote
        elif not re.sub(r"\[\d+\]|\W", "", text) and parse_markers(text):
            # The model only pointed at a passage ("[3]"): quote from that passage.
            text = self._extract(question, passages, parse_markers(text)[:1], 0.0) or text
        checked = verify(text, passages, self.store.term_weight, asked or question)
        if checked.supported == 0 and fallback and not is_refusal(raw):
            # The model answered beside the point ("Thomas Jackson/Getty Images [1]" for a
            # price): a sentence holding the question's terms may still answer it.
            extracted = self._extract(question, passages, range(1, len(passages) + 1))
            if extracted is not None:
                dropped = checked.unsupported
                checked = verify(extracted, passages, self.store.term_weight, asked or question)
                checked = replace(checked, unsupported=dropped + checked.unsupported)
        if checked.supported == 0:
            return self._refusal(question, passages, timings)
        return Answer(
            question,
            checked.text,
            False,
            checked.citations,
            tuple(passages),
            self._model_name(),
            dict(timings),
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
        if it holds at least `floor` of them: an extractive answer, cited and verified."""
        best: tuple[float, int, str] | None = None
        for n in numbers:
            text = readable(passages[n - 1].text)  # as the model saw it: no markup
            for s, e in split_sentences(text) or [(0, len(text))]:
                if is_instruction(text[s:e]):
                    continue  # quarantined from the prompt: never quoted either
                score = self.store.term_coverage(question, text[s:e])
                if best is None or score > best[0]:
                    best = (score, n, text[s:e])
        if best is None or best[0] < floor:
            return None
        return f"“{best[2]}” [{best[1]}]"

    def ask(
        self,
        question: str,
        history: HistoryLike = None,
        sources: Sequence[str] | None = None,
        conversation: str | None = None,
        user: str = "",
    ) -> Answer:
        """Answer `question` from the indexed documents (indexing the demo corpus if empty),
        or only from `sources`; in (and saved to) a saved `conversation` (see `stream`)."""
        answer: Answer | None = None
        for event in self.stream(question, history, sources, conversation, user):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer
