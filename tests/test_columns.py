"""Printed table rows read with their columns: which value is the typical and which the
maximum comes from where the page draws it, and reaches the model in the prompt while
the indexed text, offsets and citations keep the row as printed."""

from __future__ import annotations

from dataclasses import replace

import pypdfium2 as pdfium
import pytest

from index.columns import held_rows, page_rows
from index.extract import pdf_text
from index.search import table_rows
from index.types import Passage
from rag.prompts import asked_rows
from tests.fakes import make_engine
from tests.makers import pdf_from_content, pdf_text_op

# Column x-positions of a datasheet's electrical characteristics
_X = {"label": 50, "cond": 190, "min": 300, "typ": 350, "max": 400, "unit": 450}


def _row(y: float, cells: dict[str, str], size: float = 10) -> str:
    return "".join(pdf_text_op(text, _X[col], y, size) for col, text in cells.items() if text)


def _datasheet() -> bytes:
    """A heading, a sentence, then a table whose first row leaves its Min cell empty."""
    ops = pdf_text_op("Electrical Characteristics", 50, 740, 14)
    ops += pdf_text_op("Values are measured at 25 C unless noted otherwise.", 50, 720)
    ops += _row(
        700,
        {
            "label": "Parameter",
            "cond": "Conditions",
            "min": "Min",
            "typ": "Typ",
            "max": "Max",
            "unit": "Unit",
        },
    )
    ops += _row(686, {"label": "Shutdown current", "cond": "EN = 0 V", "typ": "1.5", "max": "4"})
    ops += _row(686, {"unit": "mA"})
    ops += _row(672, {"label": "Current limit", "min": "2.6", "typ": "3.1", "max": "3.6"})
    ops += _row(672, {"unit": "A"})
    ops += _row(658, {"label": "Reference voltage", "min": "0.792", "typ": "0.8", "max": "0.808"})
    ops += _row(658, {"unit": "V"})
    ops += pdf_text_op("The converter stops switching above its thermal limit.", 50, 630)
    return pdf_from_content([ops])


def _rows(data: bytes) -> list:
    document = pdfium.PdfDocument(data)
    try:
        textpage = document[0].get_textpage()
        return page_rows(textpage, textpage.get_text_range())
    finally:
        document.close()


def test_each_value_of_a_printed_row_is_named_by_the_column_it_sits_under():
    """ "Shutdown current EN = 0 V 1.5 4 mA" has no Min: read left to right, 1.5 would be
    the minimum and 4 the typical. The model, given the row so, called the typical value
    the maximum (tables probe t16); the page's positions say 1.5 is Typ and 4 is Max."""
    rows = {r.lines[-1]: r.text for r in _rows(_datasheet())}
    shutdown = rows["Shutdown current EN = 0 V 1.5 4 mA"]
    assert shutdown.splitlines() == [
        "Shutdown current (Conditions: EN = 0 V), Typ: 1.5 mA",
        "Shutdown current (Conditions: EN = 0 V), Max: 4 mA",
    ]
    assert rows["Current limit 2.6 3.1 3.6 A"].splitlines() == [
        "Current limit, Min: 2.6 A",
        "Current limit, Typ: 3.1 A",
        "Current limit, Max: 3.6 A",
    ]
    assert len(rows) == 3  # the sentences around the table are no rows


def test_a_head_wrapped_over_lines_and_a_label_wrapped_over_two_name_every_value():
    """A statement of operations sets "Three Months / Ended Sep 30, / 2025" in one cell
    per column; the text gives those pieces column after column, twelve lines the model
    had to count. A label wrapped over two lines ("Research and / development") names
    its row whole."""
    ops = pdf_text_op("Condensed Statements of Operations", 50, 740, 14)
    for x, period, year in ((250, "Three Months", "2025"), (330, "Three Months", "2024")):
        ops += pdf_text_op(period, x, 716) + pdf_text_op("Ended Sep 30,", x, 704)
        ops += pdf_text_op(year, x + 20, 692)
    ops += pdf_text_op("Revenue", 50, 676) + pdf_text_op("412.6", 270, 676)
    ops += pdf_text_op("361.9", 350, 676)
    ops += pdf_text_op("Research and", 50, 662) + pdf_text_op("development", 50, 650)
    ops += pdf_text_op("79.3", 275, 650) + pdf_text_op("71.6", 355, 650)
    ops += pdf_text_op("Operating income", 50, 636) + pdf_text_op("61.8", 275, 636)
    ops += pdf_text_op("38.9", 355, 636)
    named = {r.lines: r.text for r in _rows(pdf_from_content([ops]))}
    assert named[("Research and", "development 79.3 71.6")].splitlines() == [
        "Research and development, Three Months Ended Sep 30, 2025: 79.3",
        "Research and development, Three Months Ended Sep 30, 2024: 71.6",
    ]
    assert (
        "Operating income, Three Months Ended Sep 30, 2024: 38.9"
        in named[("Operating income 61.8 38.9",)].splitlines()
    )


def test_a_table_whose_columns_cannot_be_told_apart_is_left_as_printed():
    """Two columns under one name ("X", "X": a head read in part) or two numbers in one
    cell would name values wrongly: such a table gets no names at all."""
    ops = pdf_text_op("Operation counts by cluster", 50, 740, 14)
    ops += pdf_text_op("Cluster", 50, 716) + pdf_text_op("X", 250, 716)
    ops += pdf_text_op("X", 330, 716)
    for i, y in enumerate((700, 686, 672)):
        ops += pdf_text_op(f"Open{i}", 50, y) + pdf_text_op(f"2{i}.1", 245, y)
        ops += pdf_text_op(f"1{i}.3", 325, y)
    assert _rows(pdf_from_content([ops])) == []


def test_the_model_reads_the_named_row_while_the_index_keeps_the_printed_one(tmp_path):
    """End to end: the rows are stored with the PDF's chunks; the prompt shows the
    passage as printed and then, fenced under its number, the rows the question names
    with their values named. The chunk text, offsets and citations stay the page's."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "ds.pdf").write_bytes(_datasheet())
    replies = ["The maximum shutdown current is 4 mA [1].", "The typical limit is 3.1 A [1]."]
    engine = make_engine(tmp_path, replies, context_tokens=0)
    engine.index([folder])
    answer = engine.ask("What is the maximum shutdown current?")
    prompt = engine.generator.prompts[0][-1]["content"]
    passages, _, rest = prompt.partition("(table rows of passage 1, each value named")
    assert "Shutdown current EN = 0 V 1.5 4 mA" in passages  # the passage as printed
    assert rest.index("Shutdown current (Conditions: EN = 0 V), Max: 4 mA") < rest.index(
        "Question: What is the maximum shutdown current?"
    )
    assert "<<<PASSAGE 1 " in passages.splitlines()[-2]  # fenced, under passage 1's number
    # Rows the question does not name are not named: no answer can use their numbers
    assert "Current limit, Typ" not in prompt
    assert not answer.refused and answer.citations
    extracted = pdf_text(_datasheet(), "ds.pdf")
    for p in answer.passages:
        assert extracted.text[p.start : p.end] == p.text  # offsets stay exact
        assert p.rows and "Shutdown current EN = 0 V 1.5 4 mA" in p.text
    assert "Max: 4 mA" not in answer.passages[0].text
    # The next question over the same passage shares the prompt up to the named rows
    engine.ask("What is the typical current limit?")
    second = engine.generator.prompts[1][-1]["content"]
    shared = passages.rsplit("<<<PASSAGE 1 ", 1)[0]  # up to the named rows' fence
    assert second.startswith(shared) and "Current limit, Typ: 3.1 A" in second


def test_a_row_is_named_only_when_the_passage_holds_it_whole():
    """A passage cut inside a row or beside it (a retry's budget, a sentence window)
    keeps the chunk's rows but names none it does not hold: the model would read values
    its passage does not state."""
    text = "Intro line\nCurrent limit 2.6 3.1 3.6 A\nAfter"
    row = (
        111,
        111 + len("Current limit 2.6 3.1 3.6 A"),
        "Current limit",
        "Current limit, Typ: 3.1 A",
    )
    p = Passage("d.pdf", "D", text, 100, 100 + len(text), 0.5, 1, "", (row,))
    assert held_rows(p) == [row]
    assert asked_rows(p, "What is the typical current limit?") == [row]
    assert asked_rows(p, "What is the switching frequency?") == []  # not named by it
    cut = replace(p, text=text[:20], end=120)
    assert held_rows(cut) == [] and asked_rows(cut, "What is the current limit?") == []
    beside = replace(p, text="After", start=139, end=144)
    assert held_rows(beside) == []


@pytest.mark.parametrize(
    "stored", ["not json", "[[1, 2]]", '{"a": 1}', '[["x", 2, "L", "t"]]', '[[3, 9, "t"]]', None, 7]
)
def test_damaged_stored_rows_read_as_none_instead_of_failing_the_search(stored):
    assert table_rows(stored) == ()


def test_stored_rows_read_back_as_written():
    assert table_rows('[[3, 9, "A", "A, Max: 4"]]') == ((3, 9, "A", "A, Max: 4"),)
