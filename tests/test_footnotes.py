"""Footnotes drawn before a page's body are read after it (index/footnotes.py)."""

from __future__ import annotations

from index.extract import pdf_text
from index.footnotes import footnotes_last
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
    order = footnotes_last(lines, sizes)
    assert order == [0, 10, 11, *range(1, 10)]
    assert footnotes_last(["", "x"], [None, None]) is None
