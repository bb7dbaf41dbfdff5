"""Generators: the one thing that turns chat messages into streamed text.

`LlamaCppGenerator` owns a llama.cpp context, which can serve only one request at a time:
a lock is held for the whole of each generation, so concurrent callers queue rather than
corrupt each other's KV cache. Tests use a scripted fake with the same two methods.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from .errors import ModelError

Message = dict[str, str]


@runtime_checkable
class Generator(Protocol):
    """A chat model that streams text deltas."""

    name: str

    def stream_chat(
        self, messages: Sequence[Message], *, max_tokens: int, temperature: float
    ) -> Iterator[str]: ...

    def count_tokens(self, messages: Sequence[Message]) -> int: ...


class LlamaCppGenerator:
    """A local GGUF model through llama-cpp-python, loaded once and kept in the process."""

    def __init__(self, model_path: Path, *, n_ctx: int = 4096, threads: int = 2) -> None:
        self.model_path = Path(model_path)
        self.name = self.model_path.name
        self.n_ctx = n_ctx
        self.threads = threads
        self._llama: Any = None
        self._lock = threading.Lock()
        self.load_seconds = 0.0

    def _load(self) -> Any:
        # Called with the lock held.
        if self._llama is None:
            from llama_cpp import Llama

            started = time.perf_counter()
            try:
                self._llama = Llama(
                    model_path=str(self.model_path),
                    n_ctx=self.n_ctx,
                    n_threads=self.threads,
                    n_threads_batch=self.threads,
                    n_batch=512,
                    seed=0,
                    verbose=False,
                )
            except (ValueError, RuntimeError, OSError) as exc:
                raise ModelError(f"llama.cpp could not load {self.model_path}: {exc}") from exc
            self.load_seconds = time.perf_counter() - started
        return self._llama

    def warm_up(self) -> None:
        """Load now (and evaluate one token) so the first question is not slow."""
        with self._lock:
            llama = self._load()
            llama.create_completion("Hi", max_tokens=1)

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """Tokens the chat prompt will take (template overhead estimated per message)."""
        with self._lock:
            llama = self._load()
            text = "".join(m["content"] for m in messages)
            return len(llama.tokenize(text.encode("utf-8"), add_bos=False)) + 8 * len(messages)

    def stream_chat(
        self, messages: Sequence[Message], *, max_tokens: int, temperature: float
    ) -> Iterator[str]:
        with self._lock:
            llama = self._load()
            stream = llama.create_chat_completion(
                messages=list(messages),
                max_tokens=max_tokens,
                temperature=temperature,
                top_p=1.0,
                repeat_penalty=1.0,
                stream=True,
            )
            for chunk in stream:
                delta = chunk["choices"][0].get("delta", {}).get("content")
                if delta:
                    yield delta
