"""Scale-out transports, fast: the OpenAI-compatible generator against a small real HTTP
server on loopback (scripted, recording every request), and the Chroma-server store's
refusals and errors. The real servers are exercised in test_backends.py."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from index import IndexDirError, InputError, Store
from index.store import MARKER
from rag import RAG, ModelError
from rag.llm import MESSAGE_OVERHEAD, estimate_tokens
from rag.llm.openai import OpenAICompatibleGenerator
from rag.types import Usage
from tests.fakes import FakeEmbedder, FakeGenerator

MESSAGES = [
    {"role": "system", "content": "Answer from the passages only."},
    {"role": "user", "content": "What is the capital of France?"},
]


def sse(*events: object) -> bytes:
    return b"".join(
        f"data: {e if isinstance(e, str) else json.dumps(e)}\r\n\r\n".encode() for e in events
    )


def chunk(content: str | None = None, finish: str | None = None) -> dict:
    delta = {"content": content} if content is not None else {"role": "assistant"}
    return {
        "object": "chat.completion.chunk",
        "choices": [{"delta": delta, "finish_reason": finish}],
    }


class FakeLLMServer:
    """An OpenAI-compatible server on a free loopback port, scripted per test.

    `tokenizer` picks which tokenizer endpoint exists: "extras" (llama_cpp.server),
    "llama" (llama.cpp's /tokenize) or None (Ollama-like). Tokens are words. `chat`,
    when set, is sent verbatim as (status, body, content type) instead of a stream.
    """

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.models = ["tiny-model"]
        self.tokenizer: str | None = "extras"
        self.replies: list[list[str]] = []
        self.chat: tuple[int, bytes, str] | None = None
        self.reject: set[str] = set()  # request fields refused as unrecognized (400)
        # Sent as the last chunk when asked for (stream_options.include_usage), as OpenAI does
        self.usage: dict | None = {
            "prompt_tokens": 11,
            "completion_tokens": 2,
            "total_tokens": 13,
            "prompt_tokens_details": {"cached_tokens": 4},
        }
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                server.record(self, None)
                if self.path == "/v1/models":
                    data = [{"id": m, "object": "model"} for m in server.models]
                    self._send(200, json.dumps({"object": "list", "data": data}).encode())
                else:
                    self._send(404, b'{"detail": "Not Found"}')

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                server.record(self, body)
                words = lambda key: list(range(len(str(body.get(key, "")).split())))  # noqa: E731
                if self.path == "/extras/tokenize" and server.tokenizer == "extras":
                    self._send(200, json.dumps({"tokens": words("input")}).encode())
                elif self.path == "/tokenize" and server.tokenizer == "llama":
                    self._send(200, json.dumps({"tokens": words("content")}).encode())
                elif self.path == "/v1/chat/completions":
                    self.chat_completion(body)
                else:
                    self._send(404, b'{"detail": "Not Found"}')

            def chat_completion(self, body: dict) -> None:
                for field in sorted(server.reject & set(body)):
                    error = {"error": {"message": f"Unrecognized argument: {field}"}}
                    return self._send(400, json.dumps(error).encode())
                if server.chat is not None:
                    return self._send(*server.chat)
                with server._lock:
                    reply = server.replies.pop(0) if server.replies else ["Hello", " world", "."]
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()  # HTTP/1.0: the body ends when the connection closes
                self.wfile.write(b": ping\r\n\r\n" + sse(chunk()))
                for piece in reply:
                    self.wfile.write(sse(chunk(piece)))
                    self.wfile.flush()
                self.wfile.write(sse(chunk(finish="stop")))
                if server.usage and (body.get("stream_options") or {}).get("include_usage"):
                    self.wfile.write(sse({"choices": [], "usage": server.usage}))
                self.wfile.write(sse("[DONE]"))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def record(self, handler: BaseHTTPRequestHandler, body: dict | None) -> None:
        with self._lock:
            self.requests.append(
                {
                    "method": handler.command,
                    "path": handler.path,
                    "auth": handler.headers.get("Authorization"),
                    "body": body,
                }
            )

    def paths(self) -> list[str]:
        return [r["path"] for r in self.requests]

    def __enter__(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as fake:
        yield fake


def dead_url(path: str = "") -> str:
    """A loopback URL nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def stream(gen: OpenAICompatibleGenerator) -> list[str]:
    return list(gen.stream_chat(MESSAGES, max_tokens=32, temperature=0.0))


# -- the generator ------------------------------------------------------------------


def test_stream_yields_the_server_sent_deltas_in_order(server):
    server.replies = [["Paris", " is", " the capital", " [1]."]]
    gen = OpenAICompatibleGenerator(server.url)
    assert stream(gen) == ["Paris", " is", " the capital", " [1]."]


def test_request_is_greedy_streamed_and_names_the_discovered_model(server):
    gen = OpenAICompatibleGenerator(server.url)
    assert gen.name == server.url  # nothing asked yet
    stream(gen)
    assert server.paths() == ["/v1/models", "/v1/chat/completions"]
    body = server.requests[-1]["body"]
    assert body["model"] == "tiny-model" == gen.name
    assert body["messages"] == MESSAGES and body["stream"] is True
    assert body["max_tokens"] == 32 and body["temperature"] == 0.0 and body["top_p"] == 1
    assert body["repeat_penalty"] == 1.0  # as the in-process model (llama_cpp.server: 1.1)
    stream(gen)
    assert server.paths().count("/v1/models") == 1  # discovered once


def test_a_configured_model_is_used_without_asking(server):
    gen = OpenAICompatibleGenerator(server.url, model="big-model")
    stream(gen)
    assert server.paths() == ["/v1/chat/completions"]
    assert server.requests[0]["body"]["model"] == "big-model" == gen.name


def test_the_bearer_key_is_sent_only_when_configured(server):
    stream(OpenAICompatibleGenerator(server.url, api_key="s3cret"))
    assert {r["auth"] for r in server.requests} == {"Bearer s3cret"}
    server.requests.clear()
    stream(OpenAICompatibleGenerator(server.url))
    assert {r["auth"] for r in server.requests} == {None}


@pytest.mark.parametrize(
    ("tokenizer", "probed"),
    [
        ("extras", ["/extras/tokenize"]),
        ("llama", ["/extras/tokenize", "/tokenize"]),
        (None, ["/extras/tokenize", "/tokenize"]),
    ],
)
def test_token_counts_use_the_servers_tokenizer_found_once(server, tokenizer, probed):
    server.tokenizer = tokenizer
    gen = OpenAICompatibleGenerator(server.url)
    words = len("".join(m["content"] for m in MESSAGES).split())  # one text, as llama.cpp
    exact = words + MESSAGE_OVERHEAD * len(MESSAGES)
    expected = exact if tokenizer else estimate_tokens(MESSAGES)
    assert gen.count_tokens(MESSAGES) == expected
    assert [p for p in server.paths() if "tokenize" in p] == probed
    server.requests.clear()
    assert gen.count_tokens(MESSAGES) == expected
    again = [p for p in server.paths() if "tokenize" in p]
    assert again == ([probed[-1]] if tokenizer else [])  # remembered, not probed again


def test_the_estimate_errs_high():
    english = [{"role": "user", "content": "The Eiffel Tower was completed in 1889. " * 50}]
    assert estimate_tokens(english) >= 9 * 50 + MESSAGE_OVERHEAD  # ~9 BPE tokens a sentence
    cjk = [{"role": "user", "content": "孟晚舟在温哥华被捕" * 40}]
    assert estimate_tokens(cjk) >= 9 * 40  # a token per character at least


@pytest.mark.parametrize(
    "refused", [{"repeat_penalty"}, {"stream_options"}, {"repeat_penalty", "stream_options"}]
)
def test_a_server_that_rejects_an_optional_field_is_asked_again_without_it(server, refused):
    server.reject = refused
    gen = OpenAICompatibleGenerator(server.url, model="m")
    assert stream(gen) == ["Hello", " world", "."]
    assert stream(gen) == ["Hello", " world", "."]
    chats = [r["body"] for r in server.requests if r["path"] == "/v1/chat/completions"]
    assert all(refused.isdisjoint(b) for b in chats[-2:])  # remembered: asked once more only
    assert len(chats) == 2 + len(refused)
    kept = {"repeat_penalty", "stream_options"} - refused
    assert all(kept <= set(b) for b in chats)


def test_usage_is_the_servers_own_count_not_the_number_of_deltas(server):
    server.replies = [["Paris is", " the capital of France", " [1]."]]
    answer = OpenAICompatibleGenerator(server.url, model="m").stream_chat(
        MESSAGES, max_tokens=32, temperature=0.0
    )
    assert list(answer) == ["Paris is", " the capital of France", " [1]."]
    assert server.requests[-1]["body"]["stream_options"] == {"include_usage": True}
    assert answer.usage == Usage(prompt_tokens=11, cached_tokens=4, completion_tokens=2)


@pytest.mark.parametrize("tokenizer", ["extras", None])
def test_without_a_usage_report_the_answer_is_counted_by_tokens_not_deltas(server, tokenizer):
    server.usage, server.tokenizer = None, tokenizer
    server.replies = [["Paris is the capital", " of France", " [1]."]]
    answer = OpenAICompatibleGenerator(server.url, model="m").stream_chat(
        MESSAGES, max_tokens=32, temperature=0.0
    )
    assert "".join(answer) == "Paris is the capital of France [1]."
    text = [{"role": "assistant", "content": "Paris is the capital of France [1]."}]
    expected = 7 if tokenizer else estimate_tokens(text) - MESSAGE_OVERHEAD  # words: tokens
    assert answer.usage.completion_tokens == expected
    assert answer.usage.prompt_tokens is None  # not reported, not guessed


def test_a_tokenizer_that_fails_after_the_answer_costs_the_count_not_the_answer(server):
    gen = OpenAICompatibleGenerator(server.url, model="m")
    gen.count_tokens(MESSAGES)  # the tokenizer endpoint is found...
    server.usage, server.tokenizer = None, None  # ...then fails, and no usage is sent
    with pytest.raises(ModelError, match="failed to tokenize"):
        gen.count_tokens(MESSAGES)
    answer = gen.stream_chat(MESSAGES, max_tokens=32, temperature=0.0)
    assert list(answer) == ["Hello", " world", "."]
    text = [{"role": "assistant", "content": "Hello world."}]
    assert answer.usage.completion_tokens == estimate_tokens(text) - MESSAGE_OVERHEAD


def test_a_server_that_ignores_stream_still_answers(server):
    whole = {
        "choices": [{"message": {"role": "assistant", "content": "Paris [1]."}}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 3},
    }
    server.chat = (200, json.dumps(whole).encode(), "application/json")
    answer = OpenAICompatibleGenerator(server.url, model="m").stream_chat(
        MESSAGES, max_tokens=32, temperature=0.0
    )
    assert list(answer) == ["Paris [1]."]
    assert answer.usage == Usage(prompt_tokens=9, completion_tokens=3)


def test_concurrent_streams_each_get_their_own_answer(server):
    server.replies = [[f"answer {i}", "."] for i in range(6)]
    gen = OpenAICompatibleGenerator(server.url)
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append("".join(stream(gen)))) for _ in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == sorted(f"answer {i}." for i in range(6))


# -- its errors ---------------------------------------------------------------------


def test_nothing_listening_is_a_clear_model_error():
    url = dead_url("/v1")
    gen = OpenAICompatibleGenerator(url)
    for call in (lambda: stream(gen), gen.warm_up, lambda: gen.count_tokens(MESSAGES)):
        with pytest.raises(ModelError, match="cannot reach the LLM server at") as err:
            call()
        assert url in str(err.value) and "RAG_LLM_URL" in str(err.value)
    with pytest.raises(ModelError, match="cannot reach"):
        stream(OpenAICompatibleGenerator(url, model="m"))


def test_an_http_error_quotes_the_servers_message(server):
    server.chat = (500, b'{"error": {"message": "CUDA out of memory"}}', "application/json")
    with pytest.raises(ModelError) as err:
        stream(OpenAICompatibleGenerator(server.url))
    message = str(err.value)
    assert server.url in message and "HTTP 500" in message and "CUDA out of memory" in message


def test_a_refused_key_says_which_setting_to_check(server):
    server.chat = (401, b'{"detail": "Invalid API key"}', "application/json")
    with pytest.raises(ModelError, match=r"HTTP 401 \(check RAG_LLM_API_KEY\): Invalid API key"):
        stream(OpenAICompatibleGenerator(server.url, model="m", api_key="wrong"))


def test_a_wrong_api_root_is_pointed_out(server):
    gen = OpenAICompatibleGenerator(server.url.removesuffix("/v1"))  # forgot /v1
    with pytest.raises(ModelError, match=r"GET /models with HTTP 404.*ending in /v1"):
        gen.warm_up()


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"data: {not json\n\n", "malformed stream"),
        (b'data: {"object": "chunk"}\n\n', "malformed stream"),
        (sse(chunk("Par")), "ended the stream .* before the answer was complete"),
        (sse(chunk("Par"), "[DONE]"), "--interrupt_requests False"),
        (sse(chunk("Par"), {"error": {"message": "context overflow"}}), "context overflow"),
    ],
    ids=["not-json", "no-choices", "cut-short", "interrupted", "error-event"],
)
def test_a_broken_stream_is_a_clear_model_error(server, body, match):
    server.chat = (200, body, "text/event-stream")
    with pytest.raises(ModelError, match=match) as err:
        stream(OpenAICompatibleGenerator(server.url, model="m"))
    assert server.url in str(err.value)


def test_a_bad_llm_url_is_an_input_error():
    with pytest.raises(InputError, match="RAG_LLM_URL"):
        OpenAICompatibleGenerator("localhost:8080")


# -- the engine over it -------------------------------------------------------------


def test_the_engine_answers_the_same_through_a_server(server, corpus, tmp_path, monkeypatch):
    def no_local_model(*args: object, **kwargs: object) -> None:
        raise AssertionError("a local model was resolved although llm_url is set")

    monkeypatch.setattr("rag.engine.resolve_model", no_local_model)
    reply = "Green tea is brewed at 80 degrees Celsius [1]."
    server.replies = [[reply[i : i + 5] for i in range(0, len(reply), 5)]]
    remote = RAG.open(
        db=tmp_path / "remote",
        embedder=FakeEmbedder(),
        cache_dir=tmp_path / "cache",
        min_score=0.05,
        llm_url=server.url,
        llm_api_key="k",
    )
    local = RAG.open(
        db=tmp_path / "local",
        embedder=FakeEmbedder(),
        generator=FakeGenerator([reply]),
        cache_dir=tmp_path / "cache",
        min_score=0.05,
    )
    question = "At what temperature is green tea brewed?"
    answers = []
    for engine in (remote, local):
        engine.index([corpus])
        answers.append(engine.ask(question))
    assert isinstance(remote.generator, OpenAICompatibleGenerator)
    assert not answers[0].refused and answers[0].model == "tiny-model"
    assert answers[0].text == answers[1].text
    assert answers[0].citations == answers[1].citations
    assert answers[0].passages == answers[1].passages
    sent = [r for r in server.requests if r["path"] == "/v1/chat/completions"]
    prompt = sent[0]["body"]["messages"]
    assert [m["role"] for m in prompt] == [m["role"] for m in local.generator.prompts[0]]
    assert question in prompt[-1]["content"]


# -- the store on a Chroma server -----------------------------------------------------


def test_a_chroma_server_that_is_not_there_is_named(tmp_path):
    url = dead_url()
    with pytest.raises(IndexDirError, match="cannot reach the Chroma server at") as err:
        Store(tmp_path / "db", FakeEmbedder(), chroma_url=url)
    assert url in str(err.value) and "Connection refused" in str(err.value)
    assert not (tmp_path / "db" / MARKER).exists()  # nothing recorded: fix the URL, retry
    with pytest.raises(IndexDirError, match=url):
        RAG.open(db=tmp_path / "db", embedder=FakeEmbedder(), chroma_url=url)


def test_a_chroma_url_must_be_a_server_address(tmp_path):
    for bad in ("localhost:8000", "http://host:port", "http://host:8000/some/path", "ftp://h"):
        with pytest.raises(InputError, match="RAG_CHROMA_URL"):
            Store(tmp_path / "db", FakeEmbedder(), chroma_url=bad)


def test_an_index_opens_only_where_its_vectors_are(tmp_path):
    Store(tmp_path / "embedded", FakeEmbedder())
    with pytest.raises(IndexDirError, match="is an embedded index.*unset RAG_CHROMA_URL"):
        Store(tmp_path / "embedded", FakeEmbedder(), chroma_url=dead_url())
    served = tmp_path / "served"
    served.mkdir()
    marker = {"format": 3, "embedder": "fake-bow-256", "collection": "chunks-abc"}
    (served / MARKER).write_text(json.dumps({**marker, "chroma_url": "http://h:1"}))
    with pytest.raises(IndexDirError, match="vectors on a Chroma server.*chunks-abc.*http://h:1"):
        Store(served, FakeEmbedder())
    assert sorted(p.name for p in served.iterdir()) == [MARKER]  # no embedded Chroma made


def test_info_names_the_llm_server_before_it_is_contacted(tmp_path):
    from rag import RAG
    from tests.fakes import FakeEmbedder

    engine = RAG.open(
        db=tmp_path / "db",
        embedder=FakeEmbedder(),
        llm_url="http://127.0.0.1:9/v1",
        llm_model="qwen",
    )
    assert engine.info()["model"] == "qwen at http://127.0.0.1:9/v1"
