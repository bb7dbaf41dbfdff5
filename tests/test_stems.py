"""Word forms: the crude stem the checker compares by, and the looser match that finds a
question's words in a sentence worded otherwise."""

import pytest

from rag.stems import same_word, stem


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("fueling", "fueled"),  # one ending each
        ("chair", "chairman"),  # "chairs" as tokenized; a base extended by three letters
        ("brewing", "brewed"),
        ("state", "statement"),
        ("tariff", "tariff"),
    ],
)
def test_forms_of_one_word_match(a, b):
    assert same_word(a, b) and same_word(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("car", "cargo"),  # a short base extends to anything
        ("port", "portion"),  # "-ion" makes another word
        ("general", "generation"),
        ("chair", "chairmanship"),  # extended by more than three letters
        ("steel", "wheel"),
    ],
)
def test_other_words_do_not(a, b):
    assert not same_word(a, b) and not same_word(b, a)


def test_the_checker_stem_stays_strict():
    assert stem("fueling") != stem("fueled")  # the checker's stems are unchanged
    assert stem("grew") == stem("grow")
