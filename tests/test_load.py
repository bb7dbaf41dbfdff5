"""Many users at once: nobody gets someone else's answer, answers queue one at a time,
and cheap requests never wait behind a streaming answer. Fake model, real server."""

from __future__ import annotations

import http.client
import importlib.util
import json
import re
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from rag import RAG
from tests.fakes import FakeEmbedder
from ui import build_app, launch
from ui.app import CHAT_GROUP

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("bench_load", REPO / "bench" / "load.py")
bench = sys.modules.setdefault("bench_load", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(bench)  # the benchmark's driver, so test and bench measure alike

AGENTS = (
    "Alder Aspen Birch Cedar Elm Fir Hazel Holly Juniper Larch "
    "Linden Maple Oak Pine Poplar Rowan Spruce Sycamore Willow Yew"
).split()
USERS = len(AGENTS)


def question(agent: str) -> str:
    return f"Where does agent {agent} keep the spare key?"


def locker(agent: str) -> int:
    return 100 + AGENTS.index(agent)


class EchoGenerator:
    """Answers from the prompt it is given: finds the passage about the agent the question
    names and quotes its sentence, one word at a time with a pause, so streams overlap.
    Counts how many generations run at once."""

    name = "echo-llm"

    def __init__(self, delay: float = 0.02) -> None:
        self.delay = delay
        self.active = 0
        self.peak = 0
        self.calls = 0
        self._lock = threading.Lock()

    def count_tokens(self, messages: Sequence[dict[str, str]]) -> int:
        return sum(len(m["content"].split()) for m in messages)

    def stream_chat(
        self, messages: Sequence[dict[str, str]], *, max_tokens: int, temperature: float
    ) -> Iterator[str]:
        prompt = messages[-1]["content"]
        asked = prompt.rsplit("Question:", 1)[-1]
        agent = re.search(r"agent (\w+)", asked).group(1)
        reply = f"No passage about {agent}."
        for n, passage in re.findall(r"\[(\d+)\] \(from [^\n]*\n([^\[]*)", prompt):
            found = re.search(rf"Agent {agent} keeps[^.]*\.", passage)
            if found:
                reply = f"{found.group(0)[:-1]} [{n}]."
                break
        with self._lock:
            self.calls += 1
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            for i, word in enumerate(reply.split(" ")):
                time.sleep(self.delay)
                yield word if i == 0 else " " + word
        finally:
            with self._lock:
                self.active -= 1


def owner(answer: str) -> str | None:
    """Which user's question an answer belongs to (by the agent it names)."""
    named = [a for a in AGENTS if re.search(rf"\b{a}\b", answer.split("\n\n---")[0])]
    return question(named[0]) if len(named) == 1 else None


def check(asked: str, answer: str) -> bool:
    agent = re.search(r"agent (\w+)", asked).group(1)
    text = answer.split("\n\n---")[0]
    return f"Agent {agent} keeps the spare key in locker {locker(agent)}" in text


@pytest.fixture
def agents_engine(tmp_path: Path) -> tuple[RAG, EchoGenerator]:
    folder = tmp_path / "agents"
    folder.mkdir()
    for agent in AGENTS:
        (folder / f"{agent.lower()}.txt").write_text(
            f"Notes on {agent}\n\nAgent {agent} keeps the spare key in locker {locker(agent)}. "
            f"The locker is on floor {AGENTS.index(agent) % 5 + 1}.\n",
            "utf-8",
        )
    generator = EchoGenerator()
    engine = RAG.open(
        db=tmp_path / "db",
        embedder=FakeEmbedder(),
        generator=generator,
        cache_dir=tmp_path / "cache",
        min_score=0.05,
    )
    engine.index([folder])
    return engine, generator


def show(capsys, title: str, summary: dict) -> None:
    with capsys.disabled():
        print(f"\n[{title}] " + bench.report(summary))


def test_chat_events_share_one_serial_group_and_cheap_events_are_unlimited(agents_engine):
    engine, _ = agents_engine
    app = build_app(engine)
    chat = [fn for fn in app.fns.values() if fn.name == "respond"]
    assert len(chat) == 2  # Enter in the box and the Ask button
    assert {(fn.concurrency_id, fn.concurrency_limit) for fn in chat} == {(CHAT_GROUP, 1)}
    config = app.config
    new = next(
        c["id"]
        for c in config["components"]
        if c.get("props", {}).get("value") == "New conversation"
    )
    cheap = [
        app.fns[d["id"]]
        for d in config["dependencies"]
        if any(event == "load" or target == new for target, event in d["targets"])
    ]
    assert len(cheap) >= 2  # page load (status line...) and "New conversation"
    assert all(fn.concurrency_limit is None for fn in cheap)


def test_python_api_is_thread_safe(agents_engine, capsys):
    engine, generator = agents_engine
    results: dict[str, str] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(USERS)
    latencies: list[float] = []

    def ask(agent: str) -> None:
        start.wait()
        t0 = time.perf_counter()
        try:
            results[agent] = engine.ask(question(agent)).text
            latencies.append(time.perf_counter() - t0)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(a,)) for a in AGENTS]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    crossed = [a for a, text in results.items() if owner(text) != question(a)]
    wrong = [a for a, text in results.items() if not check(question(a), text)]
    assert (len(results), crossed, wrong) == (USERS, [], [])
    assert generator.peak > 1  # the fake has no lock: generations really overlapped
    with capsys.disabled():
        print(
            f"\n[python api] {USERS} threads: 0 errors, 0 crossed; seconds p50 "
            f"{bench.percentile(latencies, 50):.2f} / p95 {bench.percentile(latencies, 95):.2f}"
            f", {generator.peak} generations at once"
        )


def join_queue(port: int, fn_index: int, session: str) -> tuple[float, dict]:
    """Run one queued event the way the browser does (join, then read the SSE stream);
    returns (seconds, process_completed message)."""
    t0 = time.perf_counter()
    body = json.dumps(
        {"data": [], "fn_index": fn_index, "session_hash": session, "event_data": None}
    )
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/gradio_api/queue/join", body, {"Content-Type": "application/json"})
        joined = conn.getresponse()
        assert joined.status == 200, joined.read()
        joined.read()
        conn.request("GET", f"/gradio_api/queue/data?session_hash={session}")
        stream = conn.getresponse()
        while line := stream.readline().decode():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    return time.perf_counter() - t0, message
    finally:
        conn.close()
    raise AssertionError("the event never completed")


@pytest.mark.slow
def test_twenty_users_stream_their_own_answers_and_cheap_requests_stay_fast(agents_engine, capsys):
    engine, generator = agents_engine
    generator.delay = 0.03  # ~0.3 s per answer: 20 queued answers take ~6 s in all
    port = bench.free_port()
    app = launch(engine, port=port, prevent_thread_lock=True, quiet=True)
    try:
        load_fn = next(
            d["id"] for d in app.config["dependencies"] if any(t[1] == "load" for t in d["targets"])
        )
        questions = [question(a) for a in AGENTS]
        results: list = []
        runner = threading.Thread(
            target=lambda: results.extend(
                bench.run_clients(app.local_url, questions, check=check, owner=owner, timeout=120)
            )
        )
        runner.start()
        while generator.calls < 2 and runner.is_alive():  # the queue is busy answering
            time.sleep(0.01)
        cheap = {}
        for path in ("/config", "/gradio_api/info"):
            t0 = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", path)
            assert conn.getresponse().status == 200
            conn.close()
            cheap[path] = time.perf_counter() - t0
        cheap["app.load event"], done = join_queue(port, load_fn, "cheap-user")
        answering = generator.calls < USERS or generator.active > 0
        runner.join(timeout=180)
    finally:
        app.close()
    assert "documents" in done["output"]["data"][0]
    assert all(seconds < 2.0 for seconds in cheap.values()), cheap
    assert answering, "the cheap requests were not made while answers were still queued"
    summary = bench.summarize(results)
    show(capsys, "ui", summary)
    with capsys.disabled():
        print(
            "  cheap requests while answers queued: "
            + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in cheap.items())
        )
    assert [r.error for r in results if r.error] == []
    assert (summary["clients"], summary["crossed"], summary["correct"]) == (USERS, 0, USERS)
    assert all(r.echoed == r.question for r in results)
    assert generator.peak == 1  # one generation at a time, across both chat triggers
    # each user saw its answer come in: the placeholder, the checked sentence, the answer
    assert all(r.updates >= 3 for r in results)
    # FIFO: waits spread over the whole run instead of everyone starting at once.
    waits = sorted(r.queue_wait for r in results)
    assert waits[-1] > waits[0] + 10 * generator.delay * 5


@pytest.mark.parametrize(
    ("overrides", "slots"),
    [
        ({}, 1),
        ({"concurrency": 6}, 1),  # a local llama.cpp context: one answer at a time, always
        ({"llm_url": "http://127.0.0.1:9/v1"}, 4),
        ({"llm_url": "http://127.0.0.1:9/v1", "concurrency": 8}, 8),
    ],
)
def test_answers_at_once_follow_the_backend(tmp_path, overrides, slots):
    from tests.fakes import FakeEmbedder

    engine = RAG.open(db=tmp_path / "db", embedder=FakeEmbedder(), **overrides)
    assert engine.settings.answer_slots == slots
    chat = [fn for fn in build_app(engine).fns.values() if fn.name == "respond"]
    assert {(fn.concurrency_id, fn.concurrency_limit) for fn in chat} == {(CHAT_GROUP, slots)}


@pytest.mark.slow
def test_against_a_parallel_llm_server_the_ui_answers_several_users_at_once(tmp_path, corpus):
    """RAG_CONCURRENCY follows the backend: four users, four answers generated at once by
    a server that serves in parallel, each user with its own question's answer."""
    from tests.fakes import FakeEmbedder

    server = bench.ParallelLLMServer(delay=0.05)
    try:
        engine = RAG.open(db=tmp_path / "db", embedder=FakeEmbedder(), llm_url=server.url,
                          concurrency=4, min_score=0.05)  # fmt: skip
        engine.index([corpus])
        app = launch(engine, port=bench.free_port(), prevent_thread_lock=True, quiet=True)
        try:
            questions = [
                "How hot should green tea be brewed?",
                "How long should green tea steep?",
                "When was the Eiffel Tower completed?",
                "What is the capital of France?",
            ]
            results = bench.run_clients(app.local_url, questions, timeout=120)
        finally:
            app.close()
    finally:
        server.close()
    summary = bench.summarize(results)
    assert summary["errors"] == 0 and summary["crossed"] == 0, results
    assert server.peak >= 2, "the answers were generated one at a time"
    assert all("[1]" in r.answer for r in results), [r.answer for r in results]
