"""`rag serve`: the engine behind an OpenAI-compatible HTTP API, answers with citations.

Any OpenAI client (the `openai` package, LangChain, curl) can ask the indexed documents
through `GET /v1/models` and `POST /v1/chat/completions`. A request may add `sources`
(indexed document names or folder prefixes) to ask only those documents; `GET
/v1/documents` lists what is indexed and `GET /v1/documents/{source}` returns a document's
text, into which citation offsets point (unknown names: 404; only indexed documents can be
read, never a path). The reply is a standard
`chat.completion` plus two fields: `citations` (for each `[n]` marker: source, title, the
quoted supporting text and its character offsets, so `document[start:end] == text`) and
`refused`. The last message is the question; earlier user/assistant turns are the history
used to rewrite follow-ups. System messages are ignored: the grounding rules (answer only
from the passages, cite them, refuse otherwise) are not the client's to override.
Sampling fields (`temperature`, `max_tokens`, ...) and the model name are accepted and
ignored: answers are greedy and length-capped by `Settings`.

Streaming sends checked text only, as soon as it is checked. `RAG.stream()` yields each
sentence once it has passed the checks (active content stripped, citations re-pointed,
unsupported sentences dropped; see `rag.checked`), and those sentences join into the
final answer exactly: an API client cannot take back text it has received (it may already
be shown, stored or acted on), so nothing unchecked is ever sent. A stream opens at once
with an empty assistant delta, sends each checked sentence in word-sized deltas as it
passes, SSE comments (`: keep-alive`, ignored by clients) while the model works, and a
last chunk with `finish_reason: "stop"`, `citations`, `refused` and `usage`.

Safe on a laptop: loopback by default, and any other address needs an API key
(`RAG_API_KEY` or `rag serve --api-key-file`), then checked on every request. A foreign
`Host` header is refused (DNS rebinding reaches loopback too), as is a foreign `Origin`;
a POST must be `application/json`, which a web page cannot send cross-origin without a
CORS preflight, and no CORS headers are ever sent. The API only reads the index.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException

from index import StoredDocument

from .engine import RAG
from .errors import DocumentError, InputError, RagError, UnknownDocumentError
from .safety.network import HeaderPolicy, require_secret
from .types import Answer, Sentence

__all__ = ["MODEL_ID", "check_binding", "create_app", "serve"]

MODEL_ID = "rag"  # the one model listed: the whole pipeline, whatever LLM runs inside
KEEP_ALIVE_SECONDS = 10.0  # SSE comment interval while the model works
DISCONNECT_POLL_SECONDS = 1.0  # how often a non-stream request checks its client is there
MAX_BODY_BYTES = 1 << 20  # a long conversation is ~100 KB; more is not a question
HISTORY_ROLES = frozenset({"user", "assistant"})
IGNORED_ROLES = frozenset({"system", "developer", "tool", "function"})
log = logging.getLogger(__name__)


def check_binding(host: str, api_key: str) -> None:
    """Off loopback the documents and the model would be open to the network: need a key."""
    require_secret(
        host, bool(api_key), "the API", "a key", "RAG_API_KEY (or rag serve --api-key-file FILE)"
    )


class ApiError(InputError):
    """A request the API refuses, with its HTTP status and OpenAI error type (bad input,
    so an `InputError`; its own handler gives the status)."""

    def __init__(
        self,
        status: int,
        message: str,
        kind: str = "invalid_request_error",
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.param = status, message, kind, param


def _error_body(message: str, kind: str, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": None}}


def _error(
    status: int,
    message: str,
    kind: str = "invalid_request_error",
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(_error_body(message, kind, param), status_code=status, headers=headers)


# -- request parsing ----------------------------------------------------------------


def _text(content: Any, where: str) -> str:
    """A message's text: a string, or the text parts of an OpenAI content-part list."""
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, list):
        raise ApiError(400, f"{where}.content must be a string or a list of parts", param=where)
    texts = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind != "text" or not isinstance(part.get("text"), str):
            raise ApiError(
                400, f"{where}: only text content parts are supported (got {kind!r})", param=where
            )
        texts.append(part["text"])
    return "\n".join(texts)


@dataclass(frozen=True)
class ChatRequest:
    """What a chat.completions body asks: the question, earlier turns, streaming, and the
    documents to limit it to (`sources`, our extension; None: all)."""

    question: str
    history: list[dict[str, str]]
    stream: bool
    sources: list[str] | None = None


def _sources(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ApiError(400, "'sources' must be a list of indexed document names", param="sources")
    if not value:
        raise ApiError(400, "'sources' is empty: name at least one document", param="sources")
    return value


def parse_chat_request(body: Any) -> ChatRequest:
    """The question, history as chat dicts, stream flag and sources of a request body."""
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "'messages' must be a non-empty list of messages", param="messages")
    n = body.get("n")
    if n is not None and (type(n) is not int or n != 1):
        raise ApiError(400, "only n=1 is supported: there is one grounded answer", param="n")
    stream = body.get("stream") or False
    if not isinstance(stream, bool):
        raise ApiError(400, "'stream' must be true or false", param="stream")
    last = messages[-1].get("role") if isinstance(messages[-1], dict) else None
    if last != "user":
        raise ApiError(
            400,
            f"the last message must be the user's question (role 'user'), not {last!r}",
            param="messages",
        )
    turns: list[tuple[str, str]] = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        role = message.get("role") if isinstance(message, dict) else None
        if role in HISTORY_ROLES:
            turns.append((role, _text(message.get("content"), where)))
        elif role not in IGNORED_ROLES:
            raise ApiError(400, f"{where}: unknown or missing role {role!r}", param=where)
    history = [{"role": role, "content": text} for role, text in turns[:-1]]
    return ChatRequest(turns[-1][1], history, stream, _sources(body.get("sources")))


async def _read_json(request: Request) -> Any:
    size, chunks = 0, []
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiError(413, f"the request body is over {MAX_BODY_BYTES // 1024} KiB")
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, f"the request body is not valid JSON: {exc}") from None


# -- responses ------------------------------------------------------------------------


def _citations(answer: Answer) -> list[dict[str, Any]]:
    return [asdict(c) for c in answer.citations]


def _usage(answer: Answer) -> dict[str, int]:
    prompt = answer.timings.prompt_tokens or 0
    completion = answer.timings.completion_tokens or 0
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def completion(answer: Answer, cid: str, created: int) -> dict[str, Any]:
    """A `chat.completion` object, plus `citations` and `refused`."""
    return {
        "id": cid,
        "object": "chat.completion",
        "created": created,
        "model": MODEL_ID,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.text},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": _usage(answer),
        "citations": _citations(answer),
        "refused": answer.refused,
    }


def _chunk(
    cid: str, created: int, delta: dict[str, str], finish: str | None = None
) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": created,
        "model": MODEL_ID,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }


def _sse(data: dict[str, Any]) -> str:
    # ASCII-only JSON: no U+2028 or other characters a client's line splitter might cut at.
    return f"data: {json.dumps(data, separators=(',', ':'))}\n\n"


def words(text: str) -> list[str]:
    """Word-sized pieces that join back to `text` exactly (spaces ride with the word before)."""
    return [piece for piece in re.split(r"(?<=\s)(?=\S)", text) if piece]


# -- running the engine ---------------------------------------------------------------


class _Job:
    """One answer computed in the threadpool, stoppable between model deltas.

    The whole `RAG.stream()` runs in one worker thread (the generator holds the model's
    lock while it iterates); its checked sentences are handed to the event loop as they
    pass (`sentences`, ended by None) and its final `Answer` is the task's result. `stop`
    ends a job whose client has gone, freeing the model.
    """

    def __init__(self, engine: RAG, request: ChatRequest) -> None:
        self.stop = threading.Event()
        self.sentences: asyncio.Queue[Sentence | None] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self.task = asyncio.ensure_future(run_in_threadpool(self._run, engine, request))
        # A job abandoned by its client may still fail later: nobody will ask, so consume it.
        self.task.add_done_callback(lambda t: t.cancelled() or t.exception())

    def _hand_over(self, sentence: Sentence | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody left to tell
            self._loop.call_soon_threadsafe(self.sentences.put_nowait, sentence)

    def _run(self, engine: RAG, request: ChatRequest) -> Answer | None:
        events = engine.stream(request.question, request.history, request.sources, stop=self.stop)
        try:
            for event in events:
                if isinstance(event, Answer):
                    return event
                self._hand_over(event)
        finally:
            events.close()  # releases the model's lock now, not at garbage collection
            self._hand_over(None)
        return None  # stopped: its client has gone

    async def wait(self, timeout: float | None) -> bool:
        """True once the answer (or its error) is ready; False after `timeout` seconds."""
        done, _ = await asyncio.wait({self.task}, timeout=timeout)
        return bool(done)

    def result(self) -> Answer:
        answer = self.task.result()  # re-raises the engine's error
        if answer is None:
            raise RagError("the answer was cancelled")
        return answer


async def _stream_events(job: _Job, cid: str, created: int) -> AsyncIterator[str]:
    """The SSE body: opening delta, checked sentences as they pass (keep-alives between),
    closing chunk, [DONE]. An error after some sentences ends the stream with its body."""
    try:
        yield _sse(_chunk(cid, created, {"role": "assistant", "content": ""}))
        while True:
            try:
                sentence = await asyncio.wait_for(job.sentences.get(), KEEP_ALIVE_SECONDS)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if sentence is None:
                break
            for piece in words(sentence.text):
                yield _sse(_chunk(cid, created, {"content": piece}))
        await job.wait(None)
        answer = job.result()
    except InputError as exc:
        yield _sse(_error_body(str(exc), "invalid_request_error"))
        return
    except RagError as exc:
        yield _sse(_error_body(str(exc), "server_error"))
        return
    except Exception:
        log.exception("error while streaming an answer")
        yield _sse(_error_body("internal server error", "server_error"))
        return
    finally:
        job.stop.set()  # a no-op when done; frees the model when the client has left
    last = _chunk(cid, created, {}, "stop")
    last.update(citations=_citations(answer), refused=answer.refused, usage=_usage(answer))
    yield _sse(last)
    yield "data: [DONE]\n\n"


# -- the app --------------------------------------------------------------------------


class _Guard:
    """The outermost layer: Host, Origin, API key and body type, checked before any route."""

    def __init__(self, app: Any, *, api_key: str, host: str) -> None:
        self.app = app
        self.key = api_key.encode("utf-8")
        self.policy = HeaderPolicy(host)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        refusal = self.refusal(scope) if scope["type"] == "http" else None
        if refusal is None:
            await self.app(scope, receive, send)
        else:
            await refusal(scope, receive, send)

    def refusal(self, scope: dict) -> Response | None:
        """The error response for a request that must not reach a route, else None."""
        headers = Headers(scope=scope)
        refused = self.policy.refusal(
            headers.get("host", ""), headers.get("origin"), scope.get("scheme", "http")
        )
        if refused is not None:
            kind = "invalid_request_error" if refused.status == 400 else "permission_error"
            return _error(refused.status, refused.reason, kind)
        if self.key and not self._authorized(headers.get("authorization", "")):
            return _error(
                401,
                "missing or wrong API key: send 'Authorization: Bearer <key>'",
                "authentication_error",
                headers={"WWW-Authenticate": "Bearer"},
            )
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        if scope["method"] == "POST" and media != "application/json":
            return _error(415, "the request body must be JSON (Content-Type: application/json)")
        return None

    def _authorized(self, header: str) -> bool:
        scheme, _, token = header.strip().partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode("utf-8"), self.key
        )


def _document_card(doc: StoredDocument) -> dict[str, Any]:
    return {
        "object": "document",
        "source": doc.source,
        "title": doc.title,
        "chunks": len(doc.chunk_ids),
        "pages": doc.pages,
    }


def _model_card(created: int) -> dict[str, Any]:
    return {"id": MODEL_ID, "object": "model", "created": created, "owned_by": "rag"}


def create_app(engine: RAG, *, api_key: str = "", host: str = "127.0.0.1") -> FastAPI:
    """The API over `engine`, for serving on `host`. The key defaults to `RAG_API_KEY`;
    a non-loopback host without one raises `InputError` before anything is built."""
    key = (api_key or engine.settings.api_key).strip()  # HTTP strips it from headers too
    check_binding(host, key)
    app = FastAPI(title="rag", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(_Guard, api_key=key, host=host)
    created = int(time.time())

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> Response:
        return _error(exc.status, exc.message, exc.kind, exc.param)

    @app.exception_handler(UnknownDocumentError)
    async def _unknown_document(request: Request, exc: UnknownDocumentError) -> Response:
        if request.method == "GET":  # /v1/documents/{source}
            return _error(404, str(exc), "not_found_error")
        return _error(400, str(exc), param="sources")

    @app.exception_handler(InputError)
    async def _input_error(_: Request, exc: InputError) -> Response:
        return _error(400, str(exc), param="messages")

    @app.exception_handler(DocumentError)
    async def _document_error(_: Request, exc: DocumentError) -> Response:
        return _error(409, str(exc), "invalid_request_error")

    @app.exception_handler(RagError)
    async def _rag_error(_: Request, exc: RagError) -> Response:
        return _error(500, str(exc), "server_error")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> Response:
        kind = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
        return _error(exc.status_code, str(exc.detail), kind, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception) -> Response:
        log.error("unexpected error", exc_info=exc)
        return _error(500, "internal server error", "server_error")

    @app.get("/v1/models")
    async def list_models() -> dict[str, Any]:
        return {"object": "list", "data": [_model_card(created)]}

    @app.get("/v1/models/{model_id}")
    async def get_model(model_id: str) -> dict[str, Any]:
        if model_id != MODEL_ID:
            raise ApiError(
                404, f"no model {model_id!r}: this server has {MODEL_ID!r}", "not_found_error"
            )
        return _model_card(created)

    @app.get("/v1/documents")
    async def list_documents() -> dict[str, Any]:
        docs = await run_in_threadpool(engine.documents)
        return {"object": "list", "data": [_document_card(d) for d in docs]}

    @app.get("/v1/documents/{source:path}")
    async def get_document(source: str) -> dict[str, Any]:
        doc = await run_in_threadpool(engine.document, source)
        pages = [{"page": i, "start": s, "end": e} for i, (s, e) in enumerate(doc.pages, 1)]
        return {
            "object": "document",
            "source": doc.source,
            "title": doc.title,
            "text": doc.text,
            "pages": pages,
        }

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        chat = parse_chat_request(await _read_json(request))
        cid, now = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        if chat.stream:
            # Bad questions get a 400 before the 200 of a stream: with no history this
            # only checks the question (empty, too long) and the sources, without the model.
            engine.standalone_question(chat.question)
            engine.resolve_sources(chat.sources)
            return StreamingResponse(
                _stream_events(_Job(engine, chat), cid, now),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        job = _Job(engine, chat)
        try:
            while not await job.wait(DISCONNECT_POLL_SECONDS):
                if await request.is_disconnected():
                    return Response(status_code=499)  # nobody left to read it
            answer = job.result()
        finally:
            job.stop.set()
        return JSONResponse(completion(answer, cid, now))

    return app


# -- serving --------------------------------------------------------------------------


def _bind(host: str, port: int) -> socket.socket:
    """Claim the port first, so a busy one fails in a second, not after loading models."""
    name = host.strip().strip("[]")
    sock = socket.socket(socket.AF_INET6 if ":" in name else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((name, port))
    except (OSError, OverflowError) as exc:
        sock.close()
        reason = getattr(exc, "strerror", None) or exc
        raise InputError(f"cannot listen on {host}:{port}: {reason}") from None
    return sock


def base_url(host: str, port: int) -> str:
    name = host.strip().strip("[]")
    return f"http://{f'[{name}]' if ':' in name else name}:{port}/v1"


def serve(
    engine: RAG,
    host: str = "127.0.0.1",
    port: int = 8000,
    api_key: str = "",
    *,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Check the binding policy and claim the port, index the demo corpus if the index is
    empty and load the models, then serve until interrupted. `on_ready` gets the base URL
    once the models are loaded, just before requests are accepted."""
    app = create_app(engine, api_key=api_key, host=host)
    sock = _bind(host, port)
    try:
        engine.ensure_indexed()
        engine.warm_up()
        if on_ready is not None:
            on_ready(base_url(host, sock.getsockname()[1]))
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            proxy_headers=False,
            server_header=False,
            ws="none",
            lifespan="off",
            timeout_graceful_shutdown=5,
        )
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
