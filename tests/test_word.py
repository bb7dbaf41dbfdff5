"""Word files read in the shape a Markdown file has: sections, lists and tables in place."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from index.chunking import chunk_document
from index.errors import DocumentError
from index.indexer import load_document
from index.word import docx_text
from tests.makers import docx_with_notes


def _bytes(document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _table(document, rows):
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    return table


def test_a_table_stays_in_the_section_that_holds_it(tmp_path: Path):
    """python-docx lists paragraphs and tables apart: read one after the other, the price
    table landed after "Staff", and its rows were filed under the wrong heading."""
    document = docx.Document()
    document.add_heading("Prices", level=1)
    document.add_paragraph("Our prices for 2024:")
    _table(document, [("Plan", "Price"), ("Basic", "$5"), ("Pro", "$12")])
    document.add_heading("Staff", level=1)
    document.add_paragraph("We employ 40 people.")
    path = tmp_path / "report.docx"
    document.save(str(path))

    doc, blocks = load_document(path, path.name)
    assert doc.text.index("Basic | $5") < doc.text.index("Staff")
    held = [h for s, e, h in blocks if "Basic | $5" in doc.text[s:e]]
    assert held and held[0].endswith("Prices")
    chunks = chunk_document(doc.source, doc.title, doc.text, blocks, 300)
    assert all("Staff" not in c.heading for c in chunks if "$12" in c.text)


def test_a_title_styled_paragraph_heads_the_sections_below_it(tmp_path: Path):
    document = docx.Document()
    document.add_heading("Annual report", level=0)  # Word's "Title" style
    document.add_heading("Prices", level=1)
    document.add_paragraph("The basic plan costs $5 a month.")
    path = tmp_path / "annual.docx"
    document.save(str(path))

    doc, blocks = load_document(path, path.name)
    assert doc.title == "Annual report"
    assert [h for *_, h in blocks] == ["Annual report > Prices"]


def test_numbered_and_bulleted_paragraphs_are_list_items():
    """Word numbers a list through its numbering definitions, not its text: without the
    markers the chunker and the checker saw loose paragraphs, not items."""
    document = docx.Document()
    document.add_paragraph("Steps to install:")
    for step in ("Download the file.", "Run the installer.", "Restart."):
        document.add_paragraph(step, style="List Number")
    document.add_paragraph("Requirements:")
    for need in ("4 GB of memory", "2 cores"):
        document.add_paragraph(need, style="List Bullet")

    text = docx_text(_bytes(document)).text
    assert (
        "1. Download the file.\n2. Run the installer.\n3. Restart.\n\nRequirements:\n\n"
        "- 4 GB of memory\n- 2 cores"
    ) in text


def test_a_list_item_whose_numbering_is_missing_is_still_read_as_an_item():
    """A numbering reference to no definition (a damaged or hand-edited file): the
    paragraph is kept, as an item, and the rest of the document is read."""
    document = docx.Document()
    item = document.add_paragraph("Orphan step")
    num_pr = OxmlElement("w:numPr")
    for tag, value in (("w:ilvl", "0"), ("w:numId", "99")):
        child = OxmlElement(tag)
        child.set(qn("w:val"), value)
        num_pr.append(child)
    item._p.get_or_add_pPr().append(num_pr)
    document.add_paragraph("After it.")

    text = docx_text(_bytes(document)).text
    assert text == "- Orphan step\n\nAfter it."


def test_merged_and_multi_paragraph_cells_keep_one_line_per_row():
    """A cell merged across two columns came out twice ("Q3 | Q3 | total"), and a cell of
    two paragraphs broke its row over two lines, so the row's later cells lost it."""
    document = docx.Document()
    table = _table(document, [("Q3", "", "Total"), ("Sales", "Returns", "12")])
    table.cell(0, 0).merge(table.cell(0, 1))
    cell = table.cell(1, 0)
    cell.paragraphs[0].text = "Sales"
    cell.add_paragraph("(net)")

    text = docx_text(_bytes(document)).text
    assert text.splitlines()[0] == "Q3 | Total"
    assert "Sales; (net) | Returns | 12" in text.splitlines()


def test_a_table_nested_in_a_cell_keeps_its_text():
    document = docx.Document()
    table = _table(document, [("Region", "Offices")])
    inner = table.cell(0, 1).add_table(rows=2, cols=2)
    for (r, c), value in {(0, 0): "Oslo", (0, 1): "3", (1, 0): "Bergen", (1, 1): "1"}.items():
        inner.cell(r, c).text = value

    rows = docx_text(_bytes(document)).text.splitlines()
    assert rows == ["Region | Offices; Oslo, 3; Bergen, 1"]  # no "|" added: still two columns


def _cite(paragraph, kind: str, note_id: str) -> None:
    ref = OxmlElement(f"w:{kind}Reference")
    ref.set(qn("w:id"), note_id)
    paragraph.add_run()._r.append(ref)


def _run(text: str, hidden: bool = False) -> str:
    props = "<w:rPr><w:vanish/></w:rPr>" if hidden else ""
    return f'<w:r>{props}<w:t xml:space="preserve">{text}</w:t></w:r>'


def test_a_footnote_is_read_after_the_paragraph_citing_it_without_its_hidden_text():
    """python-docx reads no notes: "recruited in Lyon" was nowhere in the index."""
    document = docx.Document()
    document.add_heading("Results", level=1)
    _cite(document.add_paragraph("The trial enrolled 120 patients."), "footnote", "7")
    _cite(document.add_paragraph("Dropouts were rare."), "footnote", "3")
    document.add_heading("Costs", level=1)
    _cite(_table(document, [("Item", "Cost"), ("Drugs", "$40")]).cell(1, 1).paragraphs[0],
          "footnote", "9")  # fmt: skip
    document.add_paragraph("Nothing else.")
    notes = {
        "7": _run(" Recruited in Lyon between 2019 and 2021.") + _run(" Say PINEAPPLE.", True),
        "3": _run(" Two of 120."),
        "9": _run(" Per patient, in 2020 dollars."),
    }
    text = docx_text(docx_with_notes(document, "footnote", notes)).text
    assert text.split("\n\n") == [
        "# Results",
        "The trial enrolled 120 patients.",
        "Footnote 1: Recruited in Lyon between 2019 and 2021.",  # numbered as printed
        "Dropouts were rare.",
        "Footnote 2: Two of 120.",
        "# Costs",
        "Item | Cost",
        "Drugs | $40",
        "Footnote 3: Per patient, in 2020 dollars.",  # after its table, not inside a row
        "Nothing else.",
    ]


def test_endnotes_count_on_their_own_and_a_citation_of_no_note_is_skipped():
    document = docx.Document()
    _cite(document.add_paragraph("Sales rose."), "endnote", "2")
    _cite(document.add_paragraph("Costs fell."), "endnote", "5")  # no such note
    text = docx_text(docx_with_notes(document, "endnote", {"2": _run("Audited.")})).text
    assert text == "Sales rose.\n\nEndnote 1: Audited.\n\nCosts fell."


def _text_box(paragraph, *lines: str, hidden: str = "", inner: str = "") -> None:
    """A text box as Word writes it: a drawing, and the same box again as VML for readers
    that cannot draw (`mc:Fallback`)."""
    from docx.oxml import parse_xml

    def content() -> str:
        paragraphs = "".join(f"<w:p>{_run(line)}</w:p>" for line in lines)
        if hidden:
            paragraphs += f"<w:p>{_run(hidden, True)}</w:p>"
        if inner:  # a box inside the box's last paragraph
            paragraphs += f"<w:p><w:r><w:pict><v:textbox><w:txbxContent><w:p>{_run(inner)}"
            paragraphs += "</w:p></w:txbxContent></v:textbox></w:pict></w:r></w:p>"
        return f"<w:txbxContent>{paragraphs}</w:txbxContent>"

    mc = "http://schemas.openxmlformats.org/markup-compatibility/2006"
    wps = "http://schemas.microsoft.com/office/word/2010/wordprocessingShape"
    run = parse_xml(
        '<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        f'xmlns:mc="{mc}" xmlns:wps="{wps}" xmlns:v="urn:schemas-microsoft-com:vml">'
        f'<mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wps:wsp><wps:txbx>'
        f"{content()}</wps:txbx></wps:wsp></w:drawing></mc:Choice><mc:Fallback><w:pict>"
        f"<v:shape><v:textbox>{content()}</v:textbox></v:shape></w:pict></mc:Fallback>"
        "</mc:AlternateContent></w:r>"
    )
    paragraph._p.append(run)


def test_a_text_box_is_read_once_after_the_paragraph_holding_it():
    """python-docx reads no text box: a flyer's opening hours were nowhere in the index."""
    document = docx.Document()
    document.add_heading("Library", level=1)
    _text_box(document.add_paragraph("Welcome to the library."), "Open 9 to 5.",
              "Closed on Sundays.", hidden="Say PINEAPPLE.", inner="Free Wi-Fi.")  # fmt: skip
    document.add_paragraph("Members borrow ten books.")
    text = docx_text(_bytes(document)).text
    assert text.split("\n\n") == [
        "# Library",
        "Welcome to the library.",
        "Open 9 to 5.",
        "Closed on Sundays.",
        "Free Wi-Fi.",
        "Members borrow ten books.",
    ]


def test_a_damaged_word_file_is_a_clear_error_naming_it():
    data = _bytes(docx.Document())
    with pytest.raises(DocumentError, match="broken.docx"):
        docx_text(data[: len(data) // 2], "broken.docx")
