from __future__ import annotations

from rag.citations import clean_markers, is_refusal, parse_markers


def test_markers_in_all_common_shapes_parse():
    text = "A [1]. B [2, 3]. C [Passage 2]. D [1][3]. E [7]."
    assert parse_markers(text) == [1, 2, 3, 2, 1, 3, 7]


def test_out_of_range_markers_are_dropped_and_the_rest_normalised():
    text = "Paris is big [1, 9]. It has a tower [0]. Museums [passage 3]."
    cleaned = clean_markers(text, valid=3)
    assert cleaned == "Paris is big [1]. It has a tower. Museums [3]."


def test_refusals_are_recognised_but_cited_answers_are_not():
    assert is_refusal("I cannot answer that from the documents.")
    assert is_refusal("The passages do not contain information about that.")
    assert is_refusal("")
    assert not is_refusal("Meng Wanzhou was arrested in Vancouver [1].")
    assert not is_refusal("The passages do not say why, but she was arrested in Vancouver [2].")


def test_an_echoed_fence_code_is_not_left_in_the_answer():
    assert clean_markers("It saves 6 petabytes per day [1]! [211893F9]", 3) == (
        "It saves 6 petabytes per day [1]!"
    )
