"""Verified streaming: each sentence is checked the moment it is complete and released only
if it passes; what is released joins into the final answer exactly, whatever the deltas."""

from __future__ import annotations

import importlib.util
import random
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from index.types import Passage
from rag import Answer, Sentence, cli
from rag.checked import CheckedStream
from rag.citations import clean_markers
from rag.safety.sanitize import strip_active_content
from rag.verify import verify
from tests.fakes import FakeGenerator, make_engine
from ui import launch

REPO = Path(__file__).resolve().parent.parent

TEA = (
    "Green tea should be brewed at 80 degrees Celsius. Steep it for two minutes. "
    "Black tea needs boiling water and four minutes."
)
PASSAGES = [
    Passage("tea.txt", "Green Tea Brewing Guide", TEA, 100, 100 + len(TEA), 0.8),
    Passage("paris.md", "Paris", "Paris is the capital of France.", 0, 31, 0.4),
]
QUESTION = "How should green tea be brewed?"

ANSWERS = [
    "Green tea should be brewed at 80 degrees Celsius [1]. Steep it for two minutes [1].",
    # the middle sentence has a number no passage states: dropped, never released
    "Brew green tea at 80 degrees Celsius [1]. It was first brewed in 1802 [1]. "
    "Steep it for two minutes [1].",
    # cited the wrong passage: re-pointed to the one that holds it
    "Green tea should be brewed at 80 degrees Celsius [2].",
    # a list, with a blank line before it
    "Two steps:\n\n1. Brew at 80 degrees Celsius [1].\n2. Steep it for two minutes [1].",
    # active content in a sentence: stripped before anything is shown
    "Green tea should be brewed at 80 degrees Celsius [1]. ![x](https://evil.test/p.png) "
    "See [the guide](javascript:alert(1)) [1].",
    # markers written as "[1, 2]" and out of range
    "Black tea needs boiling water and four minutes [1, 7].",
]


def stream(answer: str, cuts: Sequence[int]) -> tuple[CheckedStream, list[list[Sentence]]]:
    """Feed `answer` cut at `cuts`; what each feed released, then what closing released."""
    checked = CheckedStream(PASSAGES, question=QUESTION)
    bounds = [0, *sorted(set(cuts)), len(answer)]
    released = [checked.feed(answer[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    released.append(checked.close())
    return checked, released


def whole(answer: str) -> str:
    """What the checks give the finished text in one piece (the engine's non-stream path)."""
    text = clean_markers(strip_active_content(answer), len(PASSAGES))
    return verify(text, PASSAGES, question=QUESTION).text


@pytest.mark.parametrize("answer", ANSWERS)
def test_released_sentences_join_into_what_the_whole_text_checks_to(answer):
    rng = random.Random(answer)
    for _ in range(20):  # deltas of any size: tokens, characters, several words
        cuts = rng.sample(range(1, len(answer)), k=rng.randint(0, min(40, len(answer) - 1)))
        checked, released = stream(answer, cuts)
        text = "".join(s.text for batch in released for s in batch)
        assert text == checked.text == whole(answer), cuts
        assert checked.shown == [s for batch in released for s in batch]


def test_a_sentence_is_released_as_soon_as_the_next_one_begins():
    answer = ANSWERS[0]
    second = answer.index(" Steep")
    checked = CheckedStream(PASSAGES, question=QUESTION)
    assert checked.feed(answer[:second]) == []  # its end and markers may still come
    assert checked.feed(" ") == []
    (first,) = checked.feed("St")  # the next sentence has begun: the first is complete
    assert first.text == "Green tea should be brewed at 80 degrees Celsius [1]."
    (cite,) = first.citations
    assert (cite.n, cite.text) == (1, "Green tea should be brewed at 80 degrees Celsius.")
    assert TEA[cite.start - 100 : cite.end - 100] == cite.text  # offsets in the document
    (last,) = checked.feed(answer[second + 3 :]) + checked.close()
    assert last.text == " Steep it for two minutes [1]."


def test_a_marker_still_being_written_keeps_its_sentence_back():
    checked = CheckedStream(PASSAGES, question=QUESTION)
    assert checked.feed("Green tea should be brewed at 80 degrees Celsius. [") == []
    (first,) = checked.feed("2] Steep")  # the marker belonged to it, and is re-pointed
    assert first.text == "Green tea should be brewed at 80 degrees Celsius [1]."


def test_what_the_checks_drop_is_never_released():
    _, released = stream(ANSWERS[1], range(1, len(ANSWERS[1])))
    shown = "".join(s.text for batch in released for s in batch)
    assert "1802" not in shown and "Steep it for two minutes [1]." in shown
    _, released = stream(ANSWERS[4], range(1, len(ANSWERS[4]), 3))
    shown = "".join(s.text for batch in released for s in batch)
    assert "evil.test" not in shown and "javascript" not in shown.lower() and "](" not in shown


def test_a_possible_refusal_is_not_released_until_it_cannot_be_one():
    refusal = "The passages do not say when green tea was invented. Steep it for two minutes."
    checked, released = stream(refusal, range(1, len(refusal), 5))
    assert released == [[]] * len(released) and checked.text == ""  # the caller answers
    # No marker yet, short opening: held; the first marker settles it.
    checked = CheckedStream(PASSAGES, question=QUESTION)
    assert checked.feed("Green tea should be brewed at 80 degrees Celsius. Steep") == []
    released = checked.feed(" it for two minutes [1]. Black")
    assert [s.text for s in released] == [
        "Green tea should be brewed at 80 degrees Celsius [1].",
        " Steep it for two minutes [1].",
    ]


def test_restating_the_question_waits_for_a_sentence_that_answers():
    question = "Should green tea be brewed?"
    checked = CheckedStream(PASSAGES, question=question)
    assert checked.feed("Green tea should be brewed [1]. It") == []  # says nothing new
    (restated, answer) = checked.feed(" needs 80 degrees Celsius [1]. Then")
    assert restated.text == "Green tea should be brewed [1]."
    assert answer.text == " It needs 80 degrees Celsius [1]."
    # Only restatements: nothing is ever released (the caller refuses).
    checked = CheckedStream(PASSAGES, question=question)
    assert checked.feed("Green tea should be brewed [1]. Yes [1].") == []
    assert checked.close() == [] and checked.checker.supported == 0


class GatedGenerator(FakeGenerator):
    """Writes the first sentence, then waits for `gate` before writing the second."""

    def __init__(self, first: str, second: str) -> None:
        super().__init__()
        self.first, self.second = first, second
        self.gate = threading.Event()
        self.waited = False

    def stream_chat(self, messages, *, max_tokens, temperature) -> Iterator[str]:
        self.prompts.append(list(messages))
        yield from self.first.split(" ")[:1]
        yield from (" " + w for w in self.first.split(" ")[1:])
        yield " " + self.second.split(" ")[0]  # the next sentence begins...
        self.waited = self.gate.wait(10)  # ...and the model is slow to go on
        yield from (" " + w for w in self.second.split(" ")[1:])


def test_the_engine_yields_a_checked_sentence_while_the_model_is_still_writing(
    engine_factory, corpus
):
    engine = engine_factory()
    engine.index([corpus])
    gen = GatedGenerator(
        "Green tea should be brewed at 80 degrees Celsius [1].", "Steep it for two minutes [1]."
    )
    engine._generator = gen
    events = []
    for event in engine.stream("How hot should green tea be?"):
        if not events:
            assert isinstance(event, Sentence) and not gen.gate.is_set()
            gen.gate.set()  # only now may the model finish
        events.append(event)
    assert gen.waited  # the first sentence came before the model went on
    *sentences, answer = events
    assert isinstance(answer, Answer) and "".join(s.text for s in sentences) == answer.text
    assert answer.text.endswith("Steep it for two minutes [1].")


def test_a_stop_ends_the_stream_between_tokens_and_frees_the_model(engine_factory, corpus):
    engine = engine_factory()
    engine.index([corpus])
    gen = GatedGenerator("Green tea should be brewed at 80 degrees Celsius [1].", "Steep it.")
    engine._generator = gen
    stop = threading.Event()
    events = []
    for event in engine.stream("How hot should green tea be?", stop=stop):
        events.append(event)
        stop.set()
        gen.gate.set()
    assert len(events) == 1 and isinstance(events[0], Sentence)  # no Answer: stopped


def test_rag_ask_prints_the_checked_sentences_then_the_sources(
    tmp_path, corpus, monkeypatch, capsys
):
    reply = ANSWERS[1]
    monkeypatch.setattr(cli, "_engine", lambda args, **kw: make_engine(tmp_path, [reply]))
    assert cli.main(["index", str(corpus)]) == 0
    capsys.readouterr()
    assert cli.main(["ask", "How should green tea be brewed?"]) == 0
    out = capsys.readouterr().out
    assert "1802" not in out  # the dropped sentence was never printed
    assert out.startswith(
        "Brew green tea at 80 degrees Celsius [1]. Steep it for two minutes [1].\n"
    )
    assert "[1] Green Tea Brewing Guide — tea.txt" in out


class PacedGenerator(FakeGenerator):
    """Two sentences, a word every `delay` seconds: long enough to see the first one early."""

    def __init__(self, delay: float = 0.02) -> None:
        super().__init__()
        self.delay = delay

    def stream_chat(self, messages, *, max_tokens, temperature) -> Iterator[str]:
        self.prompts.append(list(messages))
        reply = "Green tea should be brewed at 80 degrees Celsius [1]. " + " ".join(
            ["Steep it for two minutes [1]."] * 10
        )
        for i, word in enumerate(reply.split(" ")):
            time.sleep(self.delay)
            yield word if i == 0 else " " + word


@pytest.mark.slow
def test_the_stream_benchmark_sees_the_first_sentence_early_in_ui_and_api(tmp_path, corpus):
    """`bench/stream.py`'s drivers, against the real UI and API over a paced fake model."""
    spec = importlib.util.spec_from_file_location("bench_stream", REPO / "bench" / "stream.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    engine = make_engine(tmp_path)
    engine._generator = PacedGenerator()
    engine.index([corpus])
    app = launch(engine, port=bench.free_port(), prevent_thread_lock=True, quiet=True)
    try:
        ui = bench.ask_ui(app.local_url, "How hot should green tea be?")
    finally:
        app.close()
    base, server = bench.serve_api(engine)
    try:
        api = bench.ask_api(base, "How hot should green tea be?")
    finally:
        server.should_exit = True
    for face in (ui, api):
        assert not face["refused"] and face["first"] < 0.5 * face["total"], face
    summary = bench.summarize([{**ui}, {**api}])
    assert summary["answered"]["n"] == 2 and summary["all"]["ratio_p50"] < 0.5


def test_a_run_of_markers_longer_than_the_passages_is_a_runaway_and_no_shorter_one_is():
    checked = CheckedStream(PASSAGES, question=QUESTION)
    checked.feed("Green tea should be brewed at 80 degrees Celsius " + "[1][2] " * len(PASSAGES))
    assert checked.runaway  # twice as many markers in a row as there are passages
    fine = CheckedStream(PASSAGES, question=QUESTION)
    fine.feed("Green tea should be brewed at 80 degrees Celsius [1][2]. Steep it [1] [2]")
    assert not fine.runaway  # no run longer than the passages: citations
