"""`rag eval` scoring: the rules the suite's README states, checked on scripted answers."""

from __future__ import annotations

import json

from index.types import Passage
from rag.evaluation import (
    EvalReport,
    Row,
    evaluate,
    keyword_hit,
    load_questions,
    quote_in,
    quote_rank,
    shown,
)
from rag.types import Answer
from tests.fakes import make_engine


def test_gold_quotes_match_with_whitespace_collapsed_on_both_sides():
    assert quote_in("A user study with 43 students", "shows:\nA user study with\n43  students at")
    assert not quote_in("A user study with 44 students", "A user study with\n43 students")


def test_a_citation_marker_is_no_keyword():
    answer = "The release profile uses `1` [3]."
    assert not keyword_hit("3", answer) and keyword_hit("1", answer)
    assert keyword_hit("3", "It uses opt-level 3 [1].")
    # a keyword that starts with a sign is found too (no word boundary before "'")
    assert keyword_hit("'> '", "The default prompt is `'> '` [1].")
    assert keyword_hit("--check", "Run it with --check [2].") and not keyword_hit("13", "113")


def test_recall_counts_a_quote_across_a_line_break_and_answers_are_scored(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "paper.txt").write_text(
        "Raft was evaluated in a user study. A user study with 43 students at two\n"
        "universities shows that Raft is easier to understand than Paxos.\n",
        "utf-8",
    )
    questions = tmp_path / "q.jsonl"
    rows = [
        {"id": "a", "question": "How many students took part in the user study?",
         "answer_all": [["43"]], "gold_docs": ["paper"],
         "gold_quote": "A user study with 43 students at two universities"},
        {"id": "b", "type": "unanswerable", "question": "Who funded the user study?"},
    ]  # fmt: skip
    questions.write_text("\n".join(json.dumps(r) for r in rows), "utf-8")
    engine = make_engine(
        tmp_path, ["43 students took part in the user study [1].", "I cannot answer that."]
    )
    engine.index([folder])
    report = evaluate(engine, load_questions(questions))
    metrics = report.metrics()
    assert metrics["recall@5"] == 1.0 and report.rows[0].gold_rank == 1
    assert metrics["answer_accuracy"] == 1.0 and metrics["refusal_accuracy"] == 1.0
    assert metrics["citation_precision"] == 1.0


def test_cited_share_is_over_the_answers_given_not_over_the_questions():
    def row(id_: str, type_: str, refused: bool, citations: list[str]) -> Row:
        return Row(id_, type_, "q", "a", refused, False, None, citations, 0, 1.0, None, None)

    report = EvalReport(
        [
            row("a", "factoid", False, ["x.md"]),
            row("b", "factoid", True, []),  # a false refusal is not an uncited answer
            row("c", "unanswerable", False, []),  # an uncited answer to anything counts
        ]
    )
    assert report.metrics()["cited_share"] == 0.5


def test_follow_ups_report_how_often_the_models_rewrite_was_used(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "paper.txt").write_text("A user study with 43 students compared Raft and Paxos.\n")
    chat = [["How many students took part in the user study?", "43 [1]."]]
    items = [
        {
            "id": "a",
            "type": "unanswerable",
            "question": "Who funded the user study?",
            "gold_docs": [],
        },
        {
            "id": "b",
            "type": "unanswerable",
            "question": "Who ran it?",
            "history": chat,
            "gold_docs": [],
        },
        {"id": "c", "type": "unanswerable", "question": "Where?", "history": chat, "gold_docs": []},
    ]
    refusal = "I cannot answer that from the documents."
    # b: a usable rewrite; c: an unusable one (no question), so the previous is prepended
    replies = [refusal, "Who ran the user study?", refusal, "Somewhere.", refusal]
    engine = make_engine(tmp_path, replies)
    engine.index([folder])
    report = evaluate(engine, items)
    assert [r.rewritten for r in report.rows] == [None, True, False]
    assert report.metrics()["rewrites_used"] == 0.5


def test_the_share_of_prompt_tokens_the_kv_cache_held_and_retries_are_reported(tmp_path):
    def row(prompt: int | None, cached: int | None, retried: bool) -> Row:
        return Row("a", "factoid", "q", "a", False, True, None, [], 0, 1.0, None, prompt,
                   cached_tokens=cached, retried=retried)  # fmt: skip

    report = EvalReport([row(800, 600, False), row(1200, 0, True), row(None, None, False)])
    metrics = report.metrics()
    assert metrics["cached_share"] == 0.3  # 600 of 2000: a row not counted is left out
    assert metrics["retried"] == round(1 / 3, 3)
    assert EvalReport([row(None, None, False)]).metrics()["cached_share"] is None

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "paper.txt").write_text("How many students took part in the user study? 43.\n")
    (folder / "notes.txt").write_text("The user study ran for two weeks in the spring.\n")
    item = {"id": "a", "type": "factoid",
            "question": "How many students took part in the user study?",
            "answer_all": [["43"]], "gold_docs": ["paper"]}  # fmt: skip
    # a tight first try (one passage), so the retry has a passage to add
    replies = ["I cannot answer that from the documents.", "43 [1]."]
    engine = make_engine(tmp_path, replies, context_tokens=15)
    engine.index([folder])
    assert evaluate(engine, [item]).rows[0].retried  # the refusal was tried again


def test_the_time_outside_the_model_calls_is_what_neither_the_rewrite_nor_the_answer_took(
    tmp_path,
):
    def row(seconds: float, timings: dict) -> Row:
        return Row("a", "factoid", "q", "a", False, True, None, [], 0, seconds, None, None,
                   timings=timings)  # fmt: skip

    report = EvalReport(
        [
            row(9.0, {"retrieval": 0.4, "generation": 8.0}),  # 1.0 outside
            row(12.0, {"rewrite": 2.5, "retrieval": 0.2, "generation": 9.0}),  # 0.5
            row(0.1, {"retrieval": 0.1}),  # refused by the code: no model call, not counted
        ]
    )
    metrics = report.metrics()
    assert metrics["median_outside_model"] == 0.75 and metrics["median_retrieval"] == 0.2
    assert EvalReport([row(0.1, {})]).metrics()["median_outside_model"] is None

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "paper.txt").write_text("A user study with 43 students compared Raft and Paxos.\n")
    item = {"id": "a", "type": "factoid", "question": "How many students took part?",
            "answer_all": [["43"]], "gold_docs": ["paper"]}  # fmt: skip
    engine = make_engine(tmp_path, ["43 students took part [1]."])
    engine.index([folder])
    measured = evaluate(engine, [item]).rows[0]
    assert {"retrieval", "generation", "total"} <= measured.timings.keys()
    assert measured.timings["generation"] <= measured.seconds


def test_a_first_questions_answer_is_timed_before_its_recall_is_looked_up():
    """The lookup warms what the answer's search would do cold (its sentences embedded);
    a follow-up's lookup (a rewrite call) stays first, leaving the answer's prompt last."""
    calls: list[str] = []

    class Recording:
        def ensure_indexed(self) -> None: ...

        def retrieve(self, question, k, history):
            calls.append(f"retrieve {question}")
            return []

        def ask(self, question, history=None):
            calls.append(f"ask {question}")
            return Answer(question, "I cannot answer that from the documents.", True)

    first = {"id": "a", "type": "factoid", "question": "q1", "answer_all": [["x"]],
             "gold_docs": ["d"], "gold_quote": "x"}  # fmt: skip
    follow = {**first, "id": "b", "question": "q2", "history": [["q1", "x [1]."]]}
    rows = evaluate(Recording(), [first, follow]).rows
    assert calls == ["ask q1", "retrieve q1", "retrieve q2", "ask q2"]
    assert [r.gold_rank for r in rows] == [0, 0]


def test_recall_counts_a_quote_the_passage_shows_in_its_heading_or_byline():
    def passage(text: str, heading: str = "", author: str = "") -> Passage:
        return Passage("games.html", "Cool VR games", text, 0, len(text), 0.5,
                       heading=heading, author=author)  # fmt: skip

    review = passage("Beloved cult hit Rez gets the VR treatment.", "Cool VR games > Rez ($30)")
    byline = passage("The sharing economy is a lie.", author="Richard Eskow")
    other = passage("A credit card sized PC that costs $35.")
    assert quote_rank("Rez ($30)", map(shown, [other, review])) == 2
    assert quote_rank("Richard Eskow", map(shown, [byline])) == 1
    assert quote_rank("Rez ($30)", (p.text for p in [other, review])) == 0  # text alone
