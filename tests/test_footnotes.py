"""Footnotes drawn before a page's body are read after it (index/footnotes.py)."""

from __future__ import annotations

from index.extract import pdf_text
from index.footnotes import split_footnotes
from tests.makers import pdf_from_content, pdf_text_op

BODY = ["The airplane was involved in an accident after takeoff from Soekarno"]
NEXT = [
    "Hatta International Airport in Jakarta, Indonesia, resulting in 189 fatalities.",
    "Investigation of the accident has been completed by the authorities.",
]
NOTES = [
    "1Preliminary Aircraft Accident Investigation Report, dated November",
    "2018, can be found in the docket.",
    "2The flight control system includes two flight control computers.",
]


def _page(header: str, notes: list[str], body: list[str], note_size: float = 7) -> str:
    """A page as the Federal Register draws it: header, then footnotes (at the foot),
    then the body (above them) — content order, not reading order."""
    ops = [pdf_text_op(header, 50, 760, 9)] if header else []
    ops += [pdf_text_op(n, 50, 120 - 9 * i, note_size) for i, n in enumerate(notes)]
    ops += [pdf_text_op(b, 50, 700 - 12 * i, 9) for i, b in enumerate(body)]
    return "".join(ops)


def test_footnotes_drawn_before_the_body_follow_it_and_a_sentence_meets_its_end():
    pdf = pdf_from_content([_page("", [], BODY), _page("Federal Register Vol. 85", NOTES, NEXT)])
    text = pdf_text(pdf).text
    assert text.index("Hatta International") < text.index("1Preliminary")
    assert text.index("Soekarno") < text.index("Hatta") < text.index("2018, can be found")
    # moved, not lost or changed: every line is there once
    for line in BODY + NEXT + NOTES:
        assert text.count(line) == 1, line


def test_body_sized_text_a_lone_numbered_line_and_page_furniture_stay_where_they_are():
    same_size = pdf_text(pdf_from_content([_page("Header", NOTES, NEXT, note_size=9)])).text
    assert same_size.index("1Preliminary") < same_size.index("Hatta")
    lone = pdf_text(pdf_from_content([_page("Header", ["3 Figure: the cockpit"], NEXT)])).text
    assert lone.index("3 Figure") < lone.index("Hatta")
    opening = pdf_text(pdf_from_content([_page("", NOTES, NEXT)])).text  # nothing before it
    assert opening.index("1Preliminary") < opening.index("Hatta")


def test_the_body_size_is_the_largest_common_one_not_the_commonest():
    lines = ["Header", *NOTES * 3, *NEXT]
    sizes = [9.0, *[7.0] * 9, 9.0, 9.0]  # the notes hold more letters than the body
    assert split_footnotes(lines, sizes) == ([0, 10, 11], list(range(1, 10)))
    assert split_footnotes(["", "x"], [None, None]) is None


def test_footnotes_at_the_foot_of_a_page_wait_for_the_end_of_the_sentence_it_breaks_off():
    """A court opinion's page ends inside a sentence, its footnotes under it; the
    sentence goes on over the page ("the cooperative owes" | notes | "about $4.81
    million"). Read in place, the notes split the sentence, and neither half held both
    its subject and its amount."""
    owes = ["Under the statutory measure, the cooperative owes"]
    notes = [
        "2The guidance letter was never published in the Federal Register, and the",
        "Government does not argue that it is entitled to deference.",
    ]
    rest = [
        "about $4.81 million, a figure close to the demand of the Agency.",
        "The case is remanded for further proceedings.",
    ]
    pdf = pdf_from_content(
        [
            "".join(pdf_text_op(b, 50, 700 - 12 * i, 9) for i, b in enumerate(owes))
            + "".join(pdf_text_op(n, 50, 120 - 9 * i, 7) for i, n in enumerate(notes)),
            "".join(pdf_text_op(b, 50, 700 - 12 * i, 9) for i, b in enumerate(rest)),
        ]
    )
    extracted = pdf_text(pdf)
    text = extracted.text
    assert f"{owes[0]}\n{rest[0]}" in text  # one sentence, as a soft line wrap
    assert text.index(rest[0]) < text.index("2The guidance") < text.index(rest[1])
    for line in owes + notes + rest:
        assert text.count(line) == 1, line
    # The sentence and the notes stay on the page they start on.
    first, second = extracted.pages
    assert text[first[0] : first[1]].endswith(notes[1]) and text[second[0] :] == rest[1]
