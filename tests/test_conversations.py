"""Saved conversations: kept as they happen, reopened with their sources, renamed, deleted,
exported; private to their user; intact after a restart and after SIGKILL mid-answer."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from rag import Answer, UnknownConversationError
from rag.conversations import FILE
from tests.fakes import make_engine

TEA = "How hot should green tea be?"
TEA_ANSWER = "Green tea is brewed at 80 degrees Celsius [1]."
HERE = Path(__file__).resolve().parent


def test_a_conversation_is_saved_turn_by_turn_and_reopened_with_its_sources(tmp_path, corpus):
    engine = make_engine(tmp_path, [TEA_ANSWER, "How long should it steep?", "Two minutes [1]."])
    engine.index([corpus])
    cid = engine.conversations.create()
    first = engine.ask(TEA, conversation=cid)
    second = engine.ask("And for how long?", conversation=cid)
    # the follow-up was rewritten with the saved turn, though no history was passed
    assert TEA in engine.generator.prompts[1][-1]["content"]
    reopened = make_engine(tmp_path).conversations.get(cid)  # a new process would see this
    assert reopened.answers == (first, second)
    assert reopened.title == TEA and reopened.history() == [
        (TEA, first.text),
        ("And for how long?", second.text),
    ]
    assert reopened.answers[0].citations[0].source == "tea.txt"


def test_the_list_is_newest_first_and_rename_delete_and_export_work(tmp_path, corpus):
    engine = make_engine(tmp_path, [TEA_ANSWER, "Paris is the capital of France [1]."])
    engine.index([corpus])
    a, b = engine.conversations.create(), engine.conversations.create()
    engine.ask(TEA, conversation=a)
    time.sleep(0.01)
    engine.ask("What is the capital of France?", conversation=b)
    listed = engine.conversations.list()
    assert [c.id for c in listed] == [b, a] and [c.turns for c in listed] == [1, 1]
    engine.conversations.rename(a, "  Tea notes ")
    assert engine.conversations.get(a).title == "Tea notes"
    md = engine.conversations.markdown(a)
    assert md.startswith("# Tea notes\n") and f"## {TEA}" in md and TEA_ANSWER in md
    assert "[1] Green Tea Brewing Guide — `tea.txt`" in md
    assert "> Green tea should be brewed at 80 degrees Celsius." in md
    engine.conversations.delete(b)
    assert [c.id for c in engine.conversations.list()] == [a]
    with pytest.raises(UnknownConversationError):
        engine.conversations.get(b)


def test_one_user_cannot_read_or_change_anothers_conversation(tmp_path, corpus):
    engine = make_engine(tmp_path, [TEA_ANSWER])
    engine.index([corpus])
    cid = engine.conversations.create(user="alice")
    engine.ask(TEA, conversation=cid, user="alice")
    store = engine.conversations
    assert store.list(user="bob") == [] and store.list() == []
    for attempt in (
        lambda: store.get(cid, user="bob"),
        lambda: store.rename(cid, "mine now", user="bob"),
        lambda: store.delete(cid, user="bob"),
        lambda: store.markdown(cid, user="bob"),
        lambda: engine.ask("Steep time?", conversation=cid, user="bob"),
        lambda: store.add(cid, Answer("q", "forged", False), user="bob"),
    ):
        with pytest.raises(UnknownConversationError):
            attempt()
    kept = store.get(cid, user="alice")
    assert kept.title == TEA and [a.text for a in kept.answers] == [TEA_ANSWER]
    assert len(engine.generator.prompts) == 1  # bob's question never reached the model


def test_bad_ids_and_names_are_clear_errors_that_change_nothing(tmp_path, corpus):
    engine = make_engine(tmp_path, [TEA_ANSWER])
    engine.index([corpus])
    cid = engine.conversations.create(title="Kept")
    for bad in ("nope", "", "' OR 1=1 --"):
        with pytest.raises(UnknownConversationError, match="no conversation"):
            engine.ask(TEA, conversation=bad)
    with pytest.raises(Exception, match="non-empty name"):
        engine.conversations.rename(cid, "   ")
    assert engine.conversations.get(cid).title == "Kept" and engine.generator.prompts == []


SLOW_WRITER = """
import sys, time
from tests.fakes import FakeEmbedder, FakeGenerator
from rag import RAG

class Slow(FakeGenerator):
    def stream_chat(self, messages, **kw):
        for piece in super().stream_chat(messages, **kw):
            if len(self.prompts) > 1:
                time.sleep(0.2)
            yield piece

engine = RAG.open(db={db!r}, embedder=FakeEmbedder(), generator=Slow(
    [{answer!r}, "It should steep for two minutes [1]. " * 20]), min_score=0.05)
engine.index([{corpus!r}])
cid = engine.conversations.create()
engine.ask({question!r}, conversation=cid)
print(cid, flush=True)
for event in engine.stream("How long should it steep?", conversation=cid):
    print("delta", flush=True)
"""


@pytest.mark.slow
def test_a_kill_mid_answer_keeps_every_finished_turn_and_nothing_else(tmp_path, corpus):
    script = SLOW_WRITER.format(
        db=str(tmp_path / "db"), answer=TEA_ANSWER, corpus=str(corpus),
        question=TEA,
    )  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(HERE.parent)},
    )
    try:
        cid = proc.stdout.readline().strip()
        assert cid, "the writer did not start"
        assert proc.stdout.readline().strip() == "delta"  # the second answer is streaming
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
    db = tmp_path / "db" / FILE
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    kept = make_engine(tmp_path).conversations.get(cid)
    assert [a.question for a in kept.answers] == [TEA]
    assert kept.answers[0].text == TEA_ANSWER and kept.answers[0].citations
