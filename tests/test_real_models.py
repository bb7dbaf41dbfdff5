"""The real product: bundled corpus, real all-MiniLM-L6-v2, real default GGUF via llama.cpp.

Always runs, in CI too (about four minutes). It is also the quality regression gate:
`rag eval` metrics on the dev set and the follow-up set must stay above floors set just
under the measured numbers (see the README's "Measured" section). Greedy decoding is not
bit-identical across runs (llama.cpp's prompt-cache reuse changes batch splits), so the
floors allow one flaky answer.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import openai
import pytest

from index import bundled_corpus
from rag import RAG
from rag.evaluation import EvalReport, evaluate, load_questions
from tests.fakes import DATA, save_report

pytestmark = pytest.mark.real

# Measured: dev 0.769-0.923 accuracy (10-12 of 13) over the last four runs (2026-12-02):
# d01 has missed "Huawei" since search gives k passages, and d03 and d08 flip with the
# random fence code (d03 right in 1 of 3 runs of the morning's code, 2 of 3 of the
# evening's), so the floor allows those two flips; citation precision 0.923-1.0, every
# answer cited; follow-ups 0.769-1.0 accuracy.
DEV_FLOORS = {
    "recall@5": 1.0,
    "answer_accuracy": 0.76,
    "refusal_accuracy": 1.0,
    "citation_precision": 0.9,
    "cited_share": 0.9,
}
FOLLOWUP_FLOORS = {
    "recall@5": 0.9,
    "answer_accuracy": 0.69,
    "refusal_accuracy": 1.0,
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> RAG:
    engine = RAG.open(db=tmp_path_factory.mktemp("real") / "db")
    report = engine.index()
    assert report.counts()["added"] == 5
    return engine


@pytest.fixture(scope="module")
def dev(engine) -> EvalReport:
    return evaluate(engine, load_questions(DATA / "dev.jsonl"))


def _check(report: EvalReport, floors: dict[str, float]) -> None:
    metrics = report.metrics()
    low = {k: metrics[k] for k, floor in floors.items() if (metrics[k] or 0) < floor}
    assert not low, f"below floor: {low}\n{report.table()}"


def test_real_index_is_idempotent_and_exact(engine):
    assert not engine.index().changed
    for passage in engine.retrieve("Meng Wanzhou arrested in Vancouver", k=5):
        original = (bundled_corpus() / passage.source).read_text("utf-8")
        assert original[passage.start : passage.end] == passage.text


def test_demo_question_is_answered_with_a_cited_source(engine):
    answer = engine.ask("In which city was Meng Wanzhou arrested?")
    assert not answer.refused and "vancouver" in answer.text.lower()
    assert any("Vancouver" in c.text for c in answer.citations)
    for c in answer.citations:
        original = (bundled_corpus() / c.source).read_text("utf-8")
        assert original[c.start : c.end] == c.text


def test_a_follow_up_reuses_the_kv_cache_of_the_shared_prompt_prefix(engine):
    """The rewrite call and the answer call share the system message; llama.cpp keeps its
    KV cache, so the answer after a rewrite evaluates only its own tokens."""
    from rag.prompts import SYSTEM

    first = engine.ask("Who is Mark Ceolin?")
    follow = engine.ask("What did he say about the trip?", history=[first])
    rules = engine.generator.count_tokens([{"role": "system", "content": SYSTEM}])
    t = follow.timings
    assert t.rewrite is not None and t.cached_tokens >= rules - 16, t
    assert t.prompt_tokens > t.cached_tokens


def test_dev_set_meets_the_quality_floors(dev):
    save_report("dev", dev)
    _check(dev, DEV_FLOORS)
    assert dev.metrics()["false_refusals"] <= 1


def test_world_knowledge_questions_are_refused(dev):
    for row in dev.rows:
        if row.type == "unanswerable":
            assert row.refused and row.citations == [], row.answer


def test_follow_up_conversations_meet_the_quality_floors(engine):
    report = evaluate(engine, load_questions(DATA / "followups.jsonl"))
    save_report("news-followups", report)
    _check(report, FOLLOWUP_FLOORS)


def test_every_citation_points_into_a_retrieved_passage(engine):
    answer = engine.ask("What did Ontario Premier Doug Ford accuse Carney of after the EV deal?")
    assert not answer.refused
    for c in answer.citations:
        p = answer.passages[c.n - 1]
        assert p.source == c.source and p.start <= c.start < c.end <= p.end


def test_serve_answers_the_openai_client_with_citations(tmp_path):
    """`rag serve` as users run it: a process that indexes the bundled corpus, loads the
    default model and answers the official client, with and without streaming."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "RAG_API_KEY"}
    log = tmp_path / "serve.log"
    cmd = [sys.executable, "-m", "rag", "serve", "--db", str(tmp_path / "db"), "--port", str(port)]
    with log.open("wb") as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=err, env=env)
    try:
        client = openai.OpenAI(
            base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0, timeout=600
        )
        deadline = time.monotonic() + 300
        while True:
            assert proc.poll() is None, log.read_text("utf-8")
            try:
                assert client.models.list().data[0].id == "rag"
                break
            except openai.APIConnectionError:
                assert time.monotonic() < deadline, "not serving after 5 minutes"
                time.sleep(1)
        assert f"http://127.0.0.1:{port}/v1" in log.read_text("utf-8")
        corpus = {path.name for path in bundled_corpus().iterdir()}
        messages = [{"role": "user", "content": "In which city was Meng Wanzhou arrested?"}]
        resp = client.chat.completions.create(model="rag", messages=messages)
        assert not resp.refused and "vancouver" in resp.choices[0].message.content.lower()
        assert resp.citations and all(c["source"] in corpus for c in resp.citations)
        chunks = list(client.chat.completions.create(model="rag", messages=messages, stream=True))
        text = "".join(c.choices[0].delta.content or "" for c in chunks)
        assert "vancouver" in text.lower() and chunks[-1].choices[0].finish_reason == "stop"
        assert chunks[-1].citations and all(c["source"] in corpus for c in chunks[-1].citations)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
