"""`RAG`: the one object the Python API, the CLI and the UI all drive.

It composes parts it is given (or builds defaults lazily from `Settings`): a `Store` with
its embedder for retrieval, and a `Generator` for answers. Loading a model never happens
at import or open time, only when an answer is first needed.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
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
from index.uploads import add_files as _add_files
from index.uploads import remove as _remove
from index.uploads import uploads_dir

from .conversations import FILE as CONVERSATIONS_FILE
from .conversations import Conversations
from .errors import InputError
from .llm import Generator, LlamaCppGenerator, resolve_model
from .pipeline import Pipeline
from .prompts import build_messages
from .settings import Settings
from .types import Answer, Event

HistoryLike = Sequence[Any] | None


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
        self.pipeline = Pipeline(settings, store, lambda: self.generator, self._model_name)

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
                from .llm.openai import OpenAICompatibleGenerator

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
        warm_up = getattr(self.generator, "warm_up", None)  # a scripted fake may have none
        if warm_up is not None:
            # The rules' tokens go into the KV cache now, not on the first question.
            warm_up(build_messages("Hello", []))
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
        return uploads_dir(self.store)

    def add_files(
        self, files: Sequence[str | Path], progress: Progress | None = None
    ) -> IndexReport:
        """Copy files (e.g. browser uploads) into the index's own folder and index them
        (see `index.uploads.add_files`: one bad file refuses the whole batch before
        anything is copied, so a failed upload changes nothing)."""
        with self._index_lock:
            return _add_files(
                self.store,
                files,
                max_bytes=self.settings.max_file_bytes,
                chunk_chars=self.settings.chunk_chars,
                progress=progress,
            )

    def remove(self, sources: Sequence[str]) -> list[str]:
        """Take documents out of the index. Files are not touched, except the index's own
        copies of uploads (else the next upload would bring them back)."""
        with self._index_lock:
            return _remove(self.store, list(sources))

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
        query = self.pipeline.rewrite(original, _normalize_history(history), scope)
        return self.pipeline.retrieve(query, k)

    def resolve_sources(self, sources: Sequence[str] | None) -> tuple[str, ...] | None:
        """`sources` (names or folder prefixes) resolved to indexed documents (None: all),
        checked before any work: a typo is an `UnknownDocumentError`, not an answer from
        the wrong documents."""
        if sources is None:
            return None
        if isinstance(sources, str):
            sources = [sources]
        return tuple(self.store.resolve_sources(sources))

    def standalone_question(self, question: str, history: HistoryLike = None) -> str:
        """A follow-up rewritten by the model into a question that stands on its own.

        Retrieval and the answer prompt both use it, so "what did he say about it?" finds
        the right passages. If the rewrite is unusable (not a question, unchanged, too
        long), the previous question is prepended instead.
        """
        query = self.pipeline.rewrite(
            self._check_question(question), _normalize_history(history), None
        )
        return query.standalone

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
        started = time.perf_counter()
        if sources is None:
            self.ensure_indexed()
        scope = self.resolve_sources(sources)
        query = self.pipeline.rewrite(original, _normalize_history(history), scope)
        yield from self.pipeline.run(query, started, stop)

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
