"""Citation verification: markers must point at a passage that supports their sentence."""

from __future__ import annotations

from index import Passage
from rag.verify import verify

DOC = (
    "Carney said the tariff would be replaced by an annual cap of 49,000 Chinese EV imports. "
    "Ontario Premier Doug Ford was unhappy with the deal. "
    "Canola tariffs fell from 84 percent to 15 percent."
)
P = [
    Passage("003.txt", "EV deal", DOC, 1000, 1000 + len(DOC), 0.6),
    Passage(
        "001.txt",
        "Trip",
        "Mark Ceolin of the Canadian Chamber of Commerce welcomed the trip.",
        0,
        66,
        0.5,
    ),
]


def test_correct_citation_is_kept_with_the_exact_supporting_span():
    v = verify("Doug Ford was unhappy with the deal [1].", P)
    assert v.text == "Doug Ford was unhappy with the deal [1]." and v.unsupported == ()
    (c,) = v.citations
    assert c.text == "Ontario Premier Doug Ford was unhappy with the deal."
    assert DOC[c.start - 1000 : c.end - 1000] == c.text


def test_wrong_citation_moves_to_the_supporting_passage():
    v = verify("Mark Ceolin of the Chamber of Commerce welcomed the trip [1].", P)
    assert v.text == "Mark Ceolin of the Chamber of Commerce welcomed the trip [2]."
    assert [c.n for c in v.citations] == [2]


def test_missing_citation_is_attributed():
    v = verify("The cap is 49,000 Chinese EV imports.", P)
    assert v.text == "The cap is 49,000 Chinese EV imports [1]."


def test_a_number_the_passages_do_not_state_makes_the_sentence_unsupported():
    v = verify("Canada exported 49,000 electric vehicles to China in 2023 [1].", P)
    assert v.supported == 0 and v.citations == ()
    assert v.unsupported == ("Canada exported 49,000 electric vehicles to China in 2023.",)
    assert "[1]" not in v.text


def test_each_sentence_is_checked_on_its_own():
    text = "Canola tariffs fell to 15 percent [1]. Ceolin welcomed the trip [1]."
    v = verify(text, P)
    assert v.text == "Canola tariffs fell to 15 percent [1]. Ceolin welcomed the trip [2]."
    assert [c.n for c in v.citations] == [1, 2]
    assert v.citations[0].text == "Canola tariffs fell from 84 percent to 15 percent."


def test_markers_after_the_period_belong_to_the_sentence_before():
    v = verify("Doug Ford was unhappy with the deal. [1] Ceolin welcomed the trip. [2]", P)
    assert v.text == "Doug Ford was unhappy with the deal [1]. Ceolin welcomed the trip [2]."


def test_a_rare_word_the_passage_lacks_outweighs_common_ones_it_has():
    passages = [
        Passage(
            "002.txt", "T", "Former diplomat Colin Robertson says Canada is watching.", 0, 56, 0.5
        )
    ]
    idf = {"colin": 3.0, "robertson": 3.0, "canada": 0.2, "served": 2.0, "ambassador": 4.0}
    claim = "Colin Robertson served as ambassador to Canada [1]."
    assert verify(claim, passages).supported == 1  # 3 of 5 words: passes unweighted
    weighted = verify(claim, passages, lambda t: idf.get(t, 4.0))
    assert weighted.supported == 0 and weighted.citations == ()


def test_a_citation_is_moved_to_the_passage_that_holds_the_missing_fact():
    a = Passage(
        "a.txt", "A", "Canadian police arrested Meng Wanzhou in Vancouver in 2018.", 0, 60, 0.6
    )
    b = Passage(
        "b.txt", "B", "Canada arrested Meng Wanzhou in 2018 at the request of the U.S.", 0, 62, 0.6
    )
    checked = verify("Meng Wanzhou was arrested in Vancouver [2].", [a, b])
    assert checked.text == "Meng Wanzhou was arrested in Vancouver [1]."
    assert [c.source for c in checked.citations] == ["a.txt"]
