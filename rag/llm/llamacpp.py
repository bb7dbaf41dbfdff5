"""`LlamaCppGenerator`: a local GGUF model through llama-cpp-python, in this process.

It owns a llama.cpp context, which can serve only one request at a time: a lock is held
for the whole of each generation, so concurrent callers queue rather than corrupt each
other's KV cache.

llama.cpp keeps the KV cache of the last sequence and re-evaluates only what differs
from it, so every call that starts with the same system message skips those tokens; the
streams it returns report how many prompt tokens that saved (`ChatStream.usage`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import ModelError, map_exceptions
from ..types import Usage
from .base import MESSAGE_OVERHEAD, ChatStream, Message


def _common_prefix(a: Any, b: Any) -> int:
    n = min(len(a), len(b))
    differ = (a[:n] != b[:n]).nonzero()[0]
    return int(differ[0]) if len(differ) else n


class LlamaCppGenerator:
    """A local GGUF model through llama-cpp-python, loaded once and kept in the process."""

    def __init__(
        self, model_path: Path, *, n_ctx: int = 4096, threads: int = 2, draft_tokens: int = 0
    ) -> None:
        self.model_path = Path(model_path)
        self.draft_tokens = draft_tokens
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
            extra: dict[str, Any] = {}
            if self.draft_tokens:
                # Prompt-lookup speculative decoding: drafts copied from the prompt. Off by
                # default: on 2 CPU cores it measured slower (bench/answer.py --draft).
                # 0.3.36 sizes its logits buffer from `logits_all`, which drafts need.
                from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

                extra["draft_model"] = LlamaPromptLookupDecoding(num_pred_tokens=self.draft_tokens)
                extra["logits_all"] = True
            failed = (ValueError, RuntimeError, OSError)
            could_not = f"llama.cpp could not load {self.model_path}"
            with map_exceptions({failed: lambda e: ModelError(f"{could_not}: {e}")}):
                self._llama = Llama(
                    model_path=str(self.model_path),
                    n_ctx=self.n_ctx,
                    n_threads=self.threads,
                    n_threads_batch=self.threads,
                    n_batch=512,
                    # Prompt evaluation is most of an answer's time on a CPU: flash
                    # attention evaluates a 600-token prompt ~7% faster on 2 cores (8.1-8.5
                    # -> 7.5-7.6 s, medians of 3; a quantized KV cache measured slower).
                    flash_attn=True,
                    seed=0,
                    verbose=False,
                    **extra,
                )
            self.load_seconds = time.perf_counter() - started
        return self._llama

    def warm_up(self, messages: Sequence[Message] | None = None) -> None:
        """Load now and evaluate `messages` (the static system prompt), so the first
        question finds that prefix in the KV cache and evaluates only its own tokens."""
        with self._lock:
            llama = self._load()
            if messages:
                llama.create_chat_completion(messages=list(messages), max_tokens=1, temperature=0)
            else:
                llama.create_completion("Hi", max_tokens=1)

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """Tokens the chat prompt will take (template overhead estimated per message)."""
        with self._lock:
            llama = self._load()
            text = "".join(m["content"] for m in messages)
            tokens = len(llama.tokenize(text.encode("utf-8"), add_bos=False))
            return tokens + MESSAGE_OVERHEAD * len(messages)

    def stream_chat(
        self, messages: Sequence[Message], *, max_tokens: int, temperature: float
    ) -> ChatStream:
        usage = Usage()
        return ChatStream(self._deltas(messages, max_tokens, temperature, usage), usage)

    def _deltas(
        self, messages: Sequence[Message], max_tokens: int, temperature: float, usage: Usage
    ) -> Iterator[str]:
        with self._lock:
            llama = self._load()
            before = llama.input_ids[: llama.n_tokens].copy()
            stream = llama.create_chat_completion(
                messages=list(messages),
                max_tokens=max_tokens,
                temperature=temperature,
                top_p=1.0,
                repeat_penalty=1.0,
                stream=True,
            )
            usage.completion_tokens = 0
            for chunk in stream:
                if usage.prompt_tokens is None:  # the prompt has just been evaluated
                    now = llama.input_ids[: llama.n_tokens]
                    usage.prompt_tokens = len(now)
                    usage.cached_tokens = _common_prefix(before, now)
                delta = chunk["choices"][0].get("delta", {}).get("content")
                if delta:  # llama.cpp streams one sampled token per text chunk
                    usage.completion_tokens += 1
                    yield delta
