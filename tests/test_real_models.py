"""The real product: bundled corpus, real all-MiniLM-L6-v2, real default GGUF via llama.cpp.

Always runs (in CI too). It is slow (about two minutes), so it shares one loaded engine.
"""

from __future__ import annotations

import pytest
from conftest import DATA
from evalcheck import is_correct, load

from rag import RAG, Answer

pytestmark = pytest.mark.real

DEV = load(DATA / "dev.jsonl")  # a copy of ../shared/eval/dev.jsonl


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> RAG:
    engine = RAG.open(db=tmp_path_factory.mktemp("real") / "db")
    report = engine.index()
    assert report.counts()["added"] == 5
    return engine


@pytest.fixture(scope="module")
def answers(engine) -> dict[str, Answer]:
    return {item["id"]: engine.ask(item["question"]) for item in DEV}


def test_real_index_is_idempotent_and_exact(engine):
    assert not engine.index().changed
    for passage in engine.retrieve("Meng Wanzhou arrested in Vancouver", k=5):
        from index import bundled_corpus

        original = (bundled_corpus() / passage.source).read_text("utf-8")
        assert original[passage.start : passage.end] == passage.text


def test_demo_question_is_answered_with_a_cited_source(engine):
    answer = engine.ask("In which city was Meng Wanzhou arrested?")
    assert not answer.refused and "vancouver" in answer.text.lower()
    assert answer.citations
    assert any("Vancouver" in c.text for c in answer.citations)


def test_dev_questions_are_answered_correctly_and_cited(answers):
    answerable = [item for item in DEV if item["type"] != "unanswerable"]
    correct = [item["id"] for item in answerable if is_correct(item, answers[item["id"]])]
    report = {i["id"]: answers[i["id"]].text[:120] for i in answerable if i["id"] not in correct}
    assert len(correct) >= 9, f"only {len(correct)}/{len(answerable)} correct; wrong: {report}"


def test_every_citation_points_at_a_retrieved_passage(answers):
    for answer in answers.values():
        spans = {(p.source, p.start, p.end) for p in answer.passages}
        for c in answer.citations:
            assert (c.source, c.start, c.end) in spans


def test_world_knowledge_question_is_refused(answers):
    assert answers["d13"].refused, answers["d13"].text
    assert answers["d13"].citations == ()
