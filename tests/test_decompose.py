"""Compound questions: split by their own syntax only, and each part's best passage kept."""

from __future__ import annotations

import pytest

from index import Passage
from rag.decompose import interleave, question_parts, unanswered
from rag.verify import demands


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        (
            "Which film tops the 2017 list, and which film does the time-loop list single out?",
            ("Which film tops the 2017 list?", "which film does the time-loop list single out?"),
        ),
        (  # a lead before a colon goes with every part
            "What limits does crates.io set: how long may a name be, and how many features "
            "may it declare?",
            (
                "What limits does crates.io set, how long may a name be?",
                "What limits does crates.io set, how many features may it declare?",
            ),
        ),
        (  # so does a phrase before the first question word
            "On the PDP-11/45, how much core memory was there and how much did UNIX occupy?",
            (
                "On the PDP-11/45, how much core memory was there?",
                "On the PDP-11/45, how much did UNIX occupy?",
            ),
        ),
        (  # "and" repeating a preposition: the words before it are shared
            "Which spokespeople reacted to the Israeli election and to the martial-law crisis?",
            (
                "Which spokespeople reacted to the Israeli election?",
                "Which spokespeople reacted to the martial-law crisis?",
            ),
        ),
        (  # a later part pointing back with a pronoun is searched after the first part
            "Who is Zhu Feng, and which news agency did he speak to?",
            ("Who is Zhu Feng?", "Who is Zhu Feng, which news agency did he speak to?"),
        ),
        (  # one naming its own subject stands alone
            "Which film tops the list, and which list singles out Groundhog Day?",
            ("Which film tops the list?", "which list singles out Groundhog Day?"),
        ),
        (  # two questions in a row (a follow-up after its previous question)
            "What were Carney's goals in China? And what did he say about electric cars?",
            (
                "What were Carney's goals in China?",
                "What were Carney's goals in China, what did he say about electric cars?",
            ),
        ),
    ],
)
def test_a_compound_question_is_split_into_questions_of_their_own(question, parts):
    assert question_parts(question) == parts


@pytest.mark.parametrize(
    "question",
    [
        "Who are the ministers of trade and agriculture?",  # one search finds both
        "In a registry index, which file tells Cargo where crates are downloaded from?",
        "When a fetch request uses the no-cors mode, which HTTP methods are still permitted?",
        "What happened between China and Canada after the arrest?",
        "How do I build it, and how?",  # a part too short to search alone
        "What is the capital of France?",
    ],
)
def test_a_question_asking_one_thing_is_not_split(question):
    assert question_parts(question) == ()


def _p(source: str, start: int, end: int) -> Passage:
    return Passage(source, source, "x" * (end - start), start, end, 0.5)


def test_interleave_takes_turns_skips_overlaps_and_stops_at_k():
    whole = [_p("a", 0, 100), _p("a", 100, 200), _p("a", 200, 300)]
    first = [_p("a", 50, 150), _p("b", 0, 100)]  # overlaps whole[0], then new
    second = [_p("c", 0, 100)]
    taken = interleave([whole, first, second], 4)
    assert [(p.source, p.start) for p in taken] == [("a", 0), ("c", 0), ("a", 100), ("b", 0)]
    assert interleave([], 3) == [] and len(interleave([whole], 2)) == 2


LIMITS = (
    "What limits does crates.io set, how long may a name be?",
    "What limits does crates.io set, how big may the uploaded .crate file be?",
    "What limits does crates.io set, how many features may it declare?",
)


@pytest.mark.parametrize(
    ("answer", "missing"),
    [
        ("The maximum size of a `.crate` file is 10MB [1].", [0, 2]),
        ("Names may be 64 characters long [1]. A crate declares at most 300 features [2].", [1]),
        # a stem of the part's own word is enough: "uploads" for "uploaded"
        ("Names are 64 long; uploads 10MB; 300 features [1].", []),
        # the words every part shares ("limits", "crates.io") speak to none of them
        ("crates.io sets limits [1].", [0, 1, 2]),
    ],
)
def test_a_part_is_left_out_when_the_answer_has_none_of_its_own_words(answer, missing):
    assert unanswered(LIMITS, answer) == missing


def test_a_part_without_words_of_its_own_is_never_called_left_out():
    parts = ("Who founded the company?", "Who founded the company, and when did it open?")
    assert unanswered(parts, "Nothing here.") == [1]


STUDY = (
    "How many students took part in the user study comparing Raft with Paxos?",
    "what chunk size did the Google File System designers settle on?",
)


@pytest.mark.parametrize(
    ("first", "missing"),
    [
        # it speaks of the study and counts nobody ("half" is no count of people)
        ("About half of the participants did the Paxos portion first [1].", [0]),
        ("The Raft study had 43 students from two universities [1].", []),
        ("Forty-three students took part in the Raft study [1].", []),
    ],
)
def test_a_part_spoken_to_without_what_it_asks_for_is_left_out(first, missing):
    answer = f"{first} The designers settled on a chunk size of 64 MB [2]."
    gives = demands([], STUDY)
    assert unanswered(STUDY, answer, gives) == missing
    assert unanswered(STUDY, answer) == []  # by its words alone every part is spoken to


def test_a_clause_restating_a_part_does_not_answer_it_beside_one_answering_another():
    parts = (
        "What annual cap on Chinese EV imports replaces Canada's tariff?",
        "in which year were the two detained Canadians released?",
    )
    gives = demands([], parts)
    restated = (
        "The annual cap on Chinese EV imports replaces Canada's tariff, and the two "
        "detained Canadians were released in 2021 [2]."
    )
    assert unanswered(parts, restated, gives) == [0]
    answered = restated.replace("replaces Canada's tariff", "of 49,000 replaces Canada's tariff")
    assert unanswered(parts, answered, gives) == []
