"""`OpenAICompatibleGenerator`: the LLM on a server that speaks OpenAI's chat API.

llama_cpp.server, llama.cpp's own server, vLLM and Ollama all stream
`/v1/chat/completions` as server-sent events. Only the transport differs from the
in-process model: the engine builds the same prompts, and this sends them with the same
greedy sampling. Servers queue concurrent requests themselves and `httpx.Client` is
thread-safe, so, unlike `LlamaCppGenerator`, no lock is held around a generation.

Every failure (nothing listening, a timeout, an HTTP error, a broken stream) becomes a
`ModelError` that names the server and quotes its own error text.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..errors import ExceptionMap, InputError, ModelError, map_exceptions
from ..types import Usage
from .base import MESSAGE_OVERHEAD, ChatStream, Message, estimate_tokens

# A busy server may hold a request in its queue for minutes before the first token.
TIMEOUT = httpx.Timeout(600.0, connect=10.0)
# llama_cpp.server defaults to 1.1 where the in-process model uses 1.0 (greedy, grounded).
SAMPLING = {"top_p": 1.0, "repeat_penalty": 1.0}
# Fields a strict server may refuse (400/422 naming the field): sent until one is refused,
# then left out for good. `stream_options` asks for the server's own token counts.
OPTIONAL_FIELDS = ("repeat_penalty", "stream_options")
# Tokenizer endpoints we know: path from the server root, and the body fields for the text.
TOKENIZERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("/extras/tokenize", ("input",)),  # llama_cpp.server
    ("/tokenize", ("content", "prompt")),  # llama.cpp's server; vLLM
)


def _read_usage(reported: Any, usage: Usage) -> None:
    """The OpenAI `usage` object's counts, where a server sends one (ignored if malformed)."""
    if not isinstance(reported, dict):
        return
    details = reported.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    for name, value in (
        ("prompt_tokens", reported.get("prompt_tokens")),
        ("completion_tokens", reported.get("completion_tokens")),
        ("cached_tokens", cached),
    ):
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            setattr(usage, name, value)


def _error_text(response: httpx.Response) -> str:
    """The server's own words for what went wrong, from the usual error shapes."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("error", "detail", "message"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message", value)
            if value:
                return value if isinstance(value, str) else json.dumps(value)[:500]
    return " ".join(response.text.split())[:500] or response.reason_phrase


def _sse_data(lines: Iterable[str]) -> Iterator[str]:
    """The data of each server-sent event; comments (pings), ids and event names skipped."""
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)


class OpenAICompatibleGenerator:
    """Chat completions from an OpenAI-compatible server at `url` (e.g. http://host:8080/v1).

    `model` defaults to the first id the server lists; `api_key` is sent as a bearer
    token. `client` lets tests and callers pass their own `httpx.Client`.
    """

    def __init__(
        self,
        url: str,
        *,
        model: str = "",
        api_key: str = "",
        timeout: httpx.Timeout | float = TIMEOUT,
        client: httpx.Client | None = None,
    ) -> None:
        self.url = url.strip().rstrip("/")
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(
                f"RAG_LLM_URL {url!r} is not a server address like http://127.0.0.1:8080/v1"
            )
        # Tokenizer endpoints hang off the server's root, not its /v1 API.
        self._root = self.url[: -len("/v1")] if self.url.endswith("/v1") else self.url
        self._model = model.strip()
        self.name = self._model or self.url
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # Never through an HTTP(S)_PROXY from the environment: the server is ours to name.
        self._client = client or httpx.Client(timeout=timeout, trust_env=False)
        self._lock = threading.RLock()  # the tokenizer probe asks for the model under it
        self._tokenizer: tuple[str, tuple[str, ...]] | None = None
        self._probed = False
        self._refused: set[str] = set()  # OPTIONAL_FIELDS this server rejected

    # -- plumbing -------------------------------------------------------------------

    def _transport(self, what: str) -> ExceptionMap:
        """httpx's failures during `what`, as the `ModelError`s the user reads."""
        where = f"the LLM server at {self.url} (RAG_LLM_URL)"
        return {
            httpx.ConnectError: lambda e: ModelError(
                f"cannot reach {where}: {e or 'connection failed'}"
            ),
            httpx.TimeoutException: lambda e: ModelError(
                f"{where} did not answer {what} in time ({type(e).__name__})"
            ),
            httpx.HTTPError: lambda e: ModelError(
                f"{where} broke off {what}: {e or type(e).__name__}"
            ),
        }

    def _status(self, response: httpx.Response, what: str) -> ModelError:
        hint = " (check RAG_LLM_API_KEY)" if response.status_code in (401, 403) else ""
        return ModelError(
            f"the LLM server at {self.url} answered {what} with HTTP "
            f"{response.status_code}{hint}: {_error_text(response)}"
        )

    def _json(self, method: str, url: str, what: str, **kwargs: Any) -> tuple[int, Any]:
        """(status, parsed body or None); transport failures raise `ModelError`."""
        with map_exceptions(self._transport(what)):
            response = self._client.request(method, url, headers=self._headers, **kwargs)
        if response.status_code in (401, 403):
            raise self._status(response, what)
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None

    # -- the Generator protocol -------------------------------------------------------

    def model(self) -> str:
        """The model to ask for: the configured one, else the first the server lists."""
        if not self._model:
            with self._lock:
                if not self._model:
                    rows = self._models().get("data")
                    ids = [r["id"] for r in rows or () if isinstance(r, dict) and r.get("id")]
                    if not ids:
                        raise ModelError(
                            f"the LLM server at {self.url} lists no model (GET /models); "
                            "set RAG_LLM_MODEL to the model's name"
                        )
                    self._model = self.name = str(ids[0])
        return self._model

    def _models(self) -> dict[str, Any]:
        status, body = self._json("GET", f"{self.url}/models", "GET /models")
        if status >= 400 or not isinstance(body, dict):
            raise ModelError(
                f"the LLM server at {self.url} answered GET /models with HTTP {status}; "
                "is RAG_LLM_URL its OpenAI API root (usually ending in /v1)?"
            )
        return body

    def warm_up(self, messages: Sequence[Message] | None = None) -> None:
        """Check now that the server answers (and learn its model name); the server
        keeps its own cache, so `messages` are not sent."""
        if self._model:
            self._models()
        else:
            self.model()

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """Prompt tokens by the server's own tokenizer where it has an endpoint for it
        (probed once), else a deliberately high estimate."""
        text = "".join(m["content"] for m in messages)
        if not self._probed:
            with self._lock:
                if not self._probed:
                    count = self._probe(text)
                    self._probed = True
                    if count is not None:
                        return count + MESSAGE_OVERHEAD * len(messages)
        if self._tokenizer is None:
            return estimate_tokens(messages)
        count = self._tokenize(self._tokenizer, text)
        if count is None:
            path = self._tokenizer[0]
            raise ModelError(f"the LLM server at {self.url} failed to tokenize ({path})")
        return count + MESSAGE_OVERHEAD * len(messages)

    def _probe(self, text: str) -> int | None:
        for endpoint in TOKENIZERS:
            count = self._tokenize(endpoint, text)
            if count is not None:
                self._tokenizer = endpoint
                return count
        return None

    def _tokenize(self, endpoint: tuple[str, tuple[str, ...]], text: str) -> int | None:
        """Token count from one endpoint; None if it has none (or answers nonsense)."""
        path, fields = endpoint
        body: dict[str, Any] = {"model": self.model(), **dict.fromkeys(fields, text)}
        status, data = self._json("POST", self._root + path, f"POST {path}", json=body)
        if status >= 400 or not isinstance(data, dict):
            return None
        tokens, count = data.get("tokens"), data.get("count")
        n = len(tokens) if isinstance(tokens, list) else count if isinstance(count, int) else None
        return None if n is None or (text and n == 0) else n

    def stream_chat(
        self, messages: Sequence[Message], *, max_tokens: int, temperature: float
    ) -> ChatStream:
        """Stream the answer's text deltas as the server sends them; the stream's `usage`
        holds the server's token counts (else its tokenizer's count of the answer)."""
        usage = Usage()
        return ChatStream(self._stream(messages, max_tokens, temperature, usage), usage)

    def _stream(
        self, messages: Sequence[Message], max_tokens: int, temperature: float, usage: Usage
    ) -> Iterator[str]:
        body = {
            "model": self.model(),
            "messages": list(messages),
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
            **SAMPLING,
        }
        what = "POST /chat/completions"
        text: list[str] = []
        with map_exceptions(self._transport(what)), self._open(body, what) as response:
            if "application/json" in response.headers.get("content-type", ""):
                deltas = self._whole(response, what, usage)  # a server ignoring `stream`
            else:
                deltas = self._deltas(response.iter_lines(), what, usage)
            for delta in deltas:
                text.append(delta)
                yield delta
        if usage.completion_tokens is None:  # the server did not count: its tokenizer does
            usage.completion_tokens = self._answer_tokens("".join(text))

    def _answer_tokens(self, text: str) -> int:
        """An answer's tokens by the server's tokenizer, else the estimate: a count for the
        usage report must never turn an answer already streamed into an error."""
        answer = [{"role": "assistant", "content": text}]
        try:
            return max(0, self.count_tokens(answer) - MESSAGE_OVERHEAD)
        except ModelError:
            return max(0, estimate_tokens(answer) - MESSAGE_OVERHEAD)

    @contextmanager
    def _open(self, body: dict[str, Any], what: str) -> Iterator[httpx.Response]:
        """The streaming response; asked again without an optional field it refused."""
        url = f"{self.url}/chat/completions"
        body = {k: v for k, v in body.items() if k not in self._refused}
        with self._client.stream("POST", url, json=body, headers=self._headers) as response:
            if response.status_code < 400:
                yield response
                return
            response.read()
            strict = response.status_code in (400, 422)
            named = [f for f in OPTIONAL_FIELDS if f in body and strict and f in response.text]
            if not named:
                raise self._status(response, what)
        self._refused.update(named)  # a strict server: its own defaults it is
        with self._open(body, what) as response:
            yield response

    def _deltas(self, lines: Iterable[str], what: str, usage: Usage) -> Iterator[str]:
        finished = False
        for data in _sse_data(lines):
            if data.strip() == "[DONE]":
                break
            choice = self._choice(data, what, usage)
            if choice is None:
                continue
            delta = choice.get("delta") or {}
            content = delta.get("content") if isinstance(delta, dict) else None
            if isinstance(content, str) and content:
                yield content
            finished = finished or bool(choice.get("finish_reason"))
        if not finished:  # every server sends a finish_reason last, unless cut short
            raise ModelError(
                f"the LLM server at {self.url} ended the stream of {what} before the answer "
                "was complete (llama_cpp.server does this when another request arrives, "
                "unless started with --interrupt_requests False)"
            )

    def _choice(self, data: str, what: str, usage: Usage) -> dict[str, Any] | None:
        """The first choice of one streamed chunk; None for chunks without any (usage)."""
        try:
            chunk = json.loads(data)
        except ValueError:
            chunk = None
        if isinstance(chunk, dict) and chunk.get("error"):
            error = chunk["error"]
            message = error.get("message", error) if isinstance(error, dict) else error
            raise ModelError(f"the LLM server at {self.url} failed during {what}: {message}")
        if isinstance(chunk, dict):
            _read_usage(chunk.get("usage"), usage)
        choices = chunk.get("choices") if isinstance(chunk, dict) else None
        if not isinstance(choices, list) or not all(isinstance(c, dict) for c in choices):
            raise ModelError(
                f"the LLM server at {self.url} sent a malformed stream for {what}: {data[:200]!r}"
            )
        return choices[0] if choices else None

    def _whole(self, response: httpx.Response, what: str, usage: Usage) -> Iterator[str]:
        response.read()
        try:
            whole = response.json()
            content = whole["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            whole = content = None
        if isinstance(whole, dict):
            _read_usage(whole.get("usage"), usage)
        if not isinstance(content, str):
            raise ModelError(
                f"the LLM server at {self.url} sent a malformed answer for {what}: "
                f"{response.text[:200]!r}"
            )
        if content:
            yield content
