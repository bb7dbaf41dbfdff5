"""Reading, cleaning and chunking: offsets always map back to the original text exactly."""

from __future__ import annotations

import codecs
import hashlib
import random
from dataclasses import replace

import numpy as np
import pytest

from index import DocumentError, Passage, bundled_corpus
from index.chunking import chunk_document, split_sentences
from index.clean import clean, is_boilerplate
from index.indexer import load_document
from index.readable import readable
from index.readers import decode, read_text
from index.window import join_introduced, merge_overlapping
from tests.makers import pdf_bytes, pdf_from_content, pdf_text_op

BOILERPLATE = [
    "ON NOW",
    "Join our FREE personalized newsletter for news, trends, and insights that matter to everyone",
    "Card image cap",
    "COMMENTS",
    "Follow us on:",
    "Please let us know if you're having issues with commenting.",
    "• en",
    "Thomas Jackson/Digital Vision/Getty Images",  # photo credits
    "(Mike Watson Images/Moodboard/Getty)",
    "jethuynh/iStock/Getty Images",
]


# sha256 of the five articles as published in ../shared/corpus/.
CORPUS_SHA256 = {
    "000_cceb4965b2c1c7cc.txt": "78b10f72fd5a5d1ca18db7fef89d98784e28fa7c78ea9de7440bd03ee0dddf62",
    "001_4daaa2dcea7afd89.txt": "6c9b0d425fd263a3b7ca144213c4a048855e0afc6f30a8fbefab1d2c909ac442",
    "002_dd7d3199a476c384.txt": "b5297cb6cce094162a51d0e5bc53547eedd224099eba7c735c61e42a927e0316",
    "003_3c986cc9e9524832.txt": "f8b91ed212aa4c1428bf0f04ecdf4315c5715eda8a9a1fa7e340d3d1be629fe5",
    "004_cd67cc00b7a568cc.txt": "7a1d1b9edc4acbaffe358a3f6c6b81ad6f2e5c64ba3ab1af698775ca200d783c",
}


def test_bundled_corpus_is_shipped_unchanged_with_its_file_names():
    shipped = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in bundled_corpus().iterdir()
    }
    assert shipped == CORPUS_SHA256


@pytest.mark.parametrize("line", BOILERPLATE)
def test_boilerplate_lines_are_recognised(line):
    assert is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    [
        "Carney will arrive in Beijing on Tuesday.",
        "Key Takeaways",
        "- Canada",
        "Erizia Rubyjeana",
        # slashes that are no photo credit: paths, a wrapped URL
        "Running target/test/hello_world-9c2b65bbb79eabce",
        "See src/bin/main.rs for the entry point",
        "aircraft/draft_docs/fsb/ for public",
    ],
)
def test_article_lines_are_kept(line):
    assert not is_boilerplate(line)


@pytest.mark.parametrize("path", sorted(bundled_corpus().iterdir()), ids=lambda p: p.name[:3])
def test_bundled_documents_chunk_exactly_and_without_boilerplate(path):
    doc, blocks = load_document(path, path.name)
    chunks = chunk_document(doc.source, doc.title, doc.text, blocks, max_chars=700)
    assert chunks
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text
        assert len(c.text) <= 700
        for line in BOILERPLATE:
            assert line not in c.text.splitlines()
    # Every article sentence survives: the last real line is in some chunk.
    assert doc.title and "\n" not in doc.title


def test_titles_are_headlines():
    titles = {
        p.name[:3]: load_document(p, p.name)[0].title for p in sorted(bundled_corpus().iterdir())
    }
    assert titles["002"] == (
        "Carney Faces Strategic Balancing Act As Canada Moves To Repair China Ties"
    )
    assert titles["004"] == "Mark Carney Heading To Beijing To Thaw Canada-china Relations"
    assert titles["001"].startswith("Canadian Prime Minister Mark Carney departed")
    assert len(titles["001"]) <= 91


def test_duplicate_teaser_lines_are_dropped():
    text = (
        "Big News Today For Everyone Here\nThe lead sentence is here.\nThe lead sentence is here.\n"
    )
    cleaned = clean(text)
    kept = "".join(text[s:e] for s, e in cleaned.blocks)
    assert kept.count("The lead sentence is here.") == 1
    assert cleaned.title == "Big News Today For Everyone Here"


def _typeset(lines: list[tuple[str, float]]) -> str:
    return "".join(pdf_text_op(t, 50, 760 - 30 * i, size) for i, (t, size) in enumerate(lines))


def test_a_pdf_title_is_what_page_one_sets_largest():
    from index.extract import pdf_text

    body = [(f"Body line {i} says something about the system.", 10) for i in range(8)]
    masthead = [("Communications of the ACM Number 7", 10), ("The Time Sharing System", 24)]
    assert pdf_text(pdf_from_content([_typeset(masthead + body)])).title == (
        "The Time Sharing System"
    )
    # a paper's running title (on top of every page) is still its title when set largest
    pages = [_typeset([("Shared Info Database", 24), ("X Desktop Group", 12), *body])]
    pages += [_typeset([("Shared Info Database", 10), *body]) for _ in range(3)]
    assert pdf_text(pdf_from_content(pages)).title == "Shared Info Database"


def test_markdown_heading_is_the_title():
    assert clean("# Release notes\n\nVersion two adds search.\n").title == "Release notes"


def test_a_term_set_in_bold_or_code_stays_with_the_lines_that_define_it():
    text = "Menu\n**prepublishOnly**\n* Runs BEFORE the package is packed.\n`--locked`\nAsserts.\n"
    blocks = clean(text).blocks
    assert [text[s:e] for s, e in blocks] == [text[5:].rstrip("\n")]  # "Menu" alone goes
    fenced = "Run it:\n```\ncargo build\n```\nDone."  # a bare fence is no term
    assert len(clean(fenced).blocks) == 3


def test_contents_and_index_pages_are_not_indexed_but_value_leaders_are():
    contents = (
        "Table of Contents\n"
        "1 Introduction . . . . . . . . . . . . 1\n"
        "2 Utilities . . . . . . . . . . . . . 5\n"
        ". . . . . . . . . . . . . . . . . . . 6\n"
        "A\n"
        "asn1_read_value . . . . . . . . . . . 13\n"
    )
    prose = "asn1Coding generates a DER encoding from a file with definitions.\n"
    statement = "Revenue ............ $1,234\nCosts ........... $1,000\nIncome ........... $234\n"
    lone = "Pages . . . . . . . . 3\nThe figure above shows the pages.\n"
    text = contents + prose + statement + lone
    kept = "".join(text[s:e] + "\n" for s, e in clean(text, pages=20).blocks)
    assert "Introduction" not in kept and "asn1_read_value" not in kept
    assert prose in kept and statement in kept and lone in kept
    # a run whose numbers are no pages of the document is not a contents page
    assert "13" in "".join(text[s:e] for s, e in clean(text, pages=12).blocks)


def test_sentences_do_not_split_on_abbreviations():
    text = "The U.S. dropped its charges. Mr. Smith left at 5 p.m. on Friday. Done!"
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == [
        "The U.S. dropped its charges.",
        "Mr. Smith left at 5 p.m. on Friday.",
        "Done!",
    ]


def test_random_texts_chunk_with_exact_offsets_and_overlap():
    rng = random.Random(7)
    words = ["alpha", "beta", "Gamma.", "delta!", "U.S.", "eps?", "zeta", "\n", "eta,", "  "]
    for _ in range(200):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 400)))
        blocks = clean(text).blocks
        chunks = chunk_document("s", "t", text, blocks, max_chars=120, overlap_sentences=1)
        for c in chunks:
            assert text[c.start : c.end] == c.text
            assert 0 < len(c.text) <= 120
        starts = [c.start for c in chunks]
        assert starts == sorted(starts)


def test_overlap_repeats_one_sentence():
    text = " ".join(f"Sentence number {i} is here." for i in range(20))
    chunks = chunk_document("s", "t", text, [(0, len(text))], max_chars=100)
    assert len(chunks) > 2
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert b.start < a.end  # shares the last sentence of the previous chunk


@pytest.mark.parametrize(
    "data",
    [
        "héllo wörld".encode(),
        codecs.BOM_UTF8 + "héllo wörld".encode(),
        "héllo wörld".encode("utf-16"),
        "héllo wörld".encode("latin-1"),
    ],
)
def test_decoding_never_crashes_on_common_encodings(data):
    assert decode(data) == "héllo wörld"


def test_bad_files_give_clear_errors(tmp_path):
    (tmp_path / "empty.txt").write_text("  \n", "utf-8")
    (tmp_path / "junk.txt").write_bytes(b"\x00\x01\x02binary\x00")
    (tmp_path / "doc.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    with pytest.raises(DocumentError, match="empty"):
        read_text(tmp_path / "empty.txt")
    with pytest.raises(DocumentError, match="binary"):
        read_text(tmp_path / "junk.txt")
    with pytest.raises(DocumentError, match="damaged or truncated PDF"):
        read_text(tmp_path / "doc.pdf")
    with pytest.raises(DocumentError, match="unsupported"):
        read_text(tmp_path / "image.png")


@pytest.mark.parametrize(
    "prose",
    [
        "Shares of Huawei fell 3% on Monday after the ruling.",
        "Comments from the minister were sharp.",
        "Follow us as we track the talks.",
    ],
)
def test_prose_that_starts_like_a_widget_label_is_kept(prose):
    assert not is_boilerplate(prose)


@pytest.mark.parametrize(
    "label",
    ["Share this article", "Share on Facebook", "Comments (12)", "3 comments", "Follow us on:"],
)
def test_widget_labels_are_boilerplate(label):
    assert is_boilerplate(label)


def test_pdf_words_split_over_a_line_end_are_read_whole_and_compounds_keep_their_hyphen():
    from index.extract import pdf_text

    got = pdf_text(
        pdf_bytes(["This in-\ncludes the namespace of the Time-\nSharing System.", "Page two."])
    )
    assert got.text == "This includes the namespace of the Time-Sharing System.\n\nPage two."
    assert [got.text[s:e] for s, e in got.pages] == [got.text.split("\n\n")[0], "Page two."]


def test_pdf_pages_join_on_one_line_break_only_where_a_sentence_runs_on():
    from index.extract import pdf_text

    wrapped = "A wrapped paragraph goes on\nover a few lines and then\nstops without its"
    listing = "The method names its steps\nin a list that opens on the next\npage as"
    got = pdf_text(
        pdf_bytes([wrapped, "last words here. It closes.", listing, "1. Read.\n2. Write."])
    )
    assert [got.text[e:s] for (_, e), (s, _) in zip(got.pages, got.pages[1:], strict=False)] == [
        "\n",  # "...without its" goes on as "last words here."
        "\n\n",  # a closed sentence ends its page
        "\n\n",  # a list item starts a line of its own
    ]
    assert got.text[got.pages[0][0] : got.pages[1][1]].endswith("its\nlast words here. It closes.")


def test_a_chunk_that_opens_inside_a_table_is_told_the_table_s_columns():
    """A chunk cut after a table's first row had values without the names of their
    columns ("| VDD | 1.8 |  | 5.5 |": which is the maximum?). Its heading path now ends
    with that row; a Markdown table under its own `|---|` rule has its own."""
    rows = "".join(f"| Rail {i} | V{i} | 1.{i} | 5.{i} |\n" for i in range(40))
    text = (
        "# Ratings\n\nThe rails are rated as follows.\n\n| Rail | Symbol | Min | Max |\n"
        f"|---|---|---|---|\n{rows}\n| Pin | Name |\n| --- | --- |\n"
        + "".join(f"| {i} | GPIO{i} |\n" for i in range(60))
    )
    chunks = chunk_document("ds.md", "DS", text, [(0, len(text), "DS > Ratings")])
    inside = [c for c in chunks if c.text.startswith("| Rail ")]
    pins = [c for c in chunks if c.text.startswith("| ") and "GPIO" in c.text[:20]]
    assert inside and all(
        c.heading == "DS > Ratings > | Rail | Symbol | Min | Max |" for c in inside
    )
    assert pins and all(c.heading == "DS > Ratings > | Pin | Name |" for c in pins)
    assert chunks[0].heading == "DS > Ratings"  # the table's own first row is in the chunk
    assert all(text[c.start : c.end] == c.text for c in chunks)  # chunk text stays exact


def test_a_chunk_that_opens_inside_a_printed_table_is_told_its_column_heads():
    """A PDF prints a table as a label and its values per line, the column heads above
    the first row, wrapped over lines in a statement ("Three Months" / "Ended Sep 30," /
    "2025"). A chunk that opened on "Cloud Monitoring 151.7 117.3 29%" showed the model
    three numbers and nothing saying which was 2024's, so it answered with the ARR
    from the highlights (tables probe t05). Such a chunk's heading path now ends with the
    heads; a wrapped row label does not open a table, nor does a list of features."""
    statement = "".join(f"Line item {i} {i}.5 {i}.1 1,{i:03}.4 9{i}.0\n" for i in range(30))
    text = (
        "Results\nRevenue of $412.6 million, up 14% year over year.\n"
        "Internal soft-start of 3.5 ms\nSelectable switching frequency: 400 kHz or 2.1 MHz\n"
        "(In millions; unaudited)\nThree Months\nEnded Sep 30,\n2025\nThree Months\n"
        "Ended Sep 30,\n2024\nRevenue 412.6 361.9 1,158.4 1,020.7\nResearch and\n"
        f"development\n79.3 71.6 231.8 208.2\n{statement}"
        "Revenue by Segment\n(In millions; unaudited)\nSegment Q3 2025 Q3 2024 Change\n"
        + "".join(f"Segment {i} 1{i}.4 1{i}.0 {i}%\n" for i in range(30))
        + "Outlook\nThe company expects more of the same next quarter.\n"
    )
    chunks = chunk_document("r.pdf", "R", text, [(0, len(text), "R")], max_chars=200)
    heads = "Three Months Ended Sep 30, 2025 Three Months Ended Sep 30, 2024"
    statement_rows = [c for c in chunks if c.text.startswith(("Line item", "development"))]
    segment_rows = [c for c in chunks if c.text.startswith("Segment ") and "%" in c.text]
    assert statement_rows and all(c.heading == f"R > {heads}" for c in statement_rows)
    assert segment_rows and all(
        c.heading == "R > Segment Q3 2025 Q3 2024 Change" for c in segment_rows[1:]
    )
    assert chunks[0].heading == "R"  # above every table
    assert [c.heading for c in chunks if c.text.startswith("Outlook")] in ([], ["R"])
    assert all(text[c.start : c.end] == c.text for c in chunks)  # chunk text stays exact


def test_a_chunk_that_opens_inside_an_extracted_html_table_is_told_its_first_row():
    """Our HTML and .docx extractors write a table row as "Film | Year | Description";
    only Markdown's "| … |" rows were known as tables, so a chunk opening on a row of a
    Wikipedia list of films had no column names. A formula in a sentence ("(1 | id)")
    or a navigation bar of "|" alone is no table."""
    rows = "".join(
        f"Film number {i} | 19{i:02} | A day repeats for the {i}th time.\n" for i in range(40)
    )
    text = (
        "|\n\nHome | News | Contact\n\n|\n\nThe model is y ~ x + (1 | id) in R. "
        "It fits.\n\nFilm | Year | Description\n" + rows
    )
    chunks = chunk_document("f.html", "Films", text, [(0, len(text), "Films")], max_chars=300)
    inside = [c for c in chunks if c.text.startswith("Film number")]
    assert inside and all(c.heading == "Films > Film | Year | Description" for c in inside)
    assert all(c.heading == "Films" for c in chunks if not c.text.startswith("Film number"))


@pytest.mark.parametrize("kind", ["html", "docx"])
def test_a_table_read_from_a_web_page_or_word_file_keeps_its_head_on_every_chunk(tmp_path, kind):
    """From the file on: the extractors' `a | b` rows (a .docx writes each row as its own
    paragraph, blank lines between) are one table under its first row, so every chunk
    cut from it below that row is told the columns."""
    rows = [("Film", "Year", "Description")] + [
        (f"Film number {i}", f"19{i:02}", f"A day repeats for the {i}th time.") for i in range(60)
    ]
    path = tmp_path / f"films.{kind}"
    if kind == "html":
        cells = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
        path.write_text(
            "<html><head><title>Films</title></head><body><h1>Films</h1>"
            f"<p>Films in which a day repeats.</p><table>{cells}</table></body></html>"
        )
    else:
        import docx

        document = docx.Document()
        document.add_heading("Films", level=1)
        document.add_paragraph("Films in which a day repeats.")
        table = document.add_table(rows=len(rows), cols=3)
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                table.cell(r, c).text = cell
        document.save(str(path))
    doc, blocks = load_document(path, path.name)
    chunks = chunk_document(doc.source, doc.title, doc.text, blocks, 300)
    inside = [c for c in chunks if c.text.startswith("Film number")]
    assert len(inside) >= 3
    assert all(c.heading.endswith("Film | Year | Description") for c in inside)


def test_a_chunk_that_opens_inside_a_keyed_item_is_told_the_item_s_key():
    """Node's REPL page: "Must be a positive number. **Default:** `1000`." opened a chunk
    of its own below "* `NODE_REPL_HISTORY_SIZE`: Controls how many lines…", so nothing
    said whose default it was, and it answered "the default port of the REPL server"
    (nodemd k18, unanswerable). Its heading path now ends with the item's key; a chunk
    that holds the key, or opens after the item, is not told one."""
    filler = " ".join(f"Sentence {i} says a little more about history files." for i in range(12))
    text = (
        "# Environment variables\n\n"
        "* `NODE_REPL_HISTORY_SIZE`: Controls how many lines of history will be\n"
        f"  persisted. {filler}\n  Must be a positive number.\n  **Default:** `1000`.\n"
        "* plain item without a key, which goes on for a while.\n\n"
        "Prose after the list says that the port is chosen by the caller.\n"
    )
    cut = text.index("Prose")
    blocks = [(0, cut, "REPL > Environment"), (cut, len(text), "REPL > Environment")]
    chunks = chunk_document("repl.md", "REPL", text, blocks)
    (default,) = [c for c in chunks if "`1000`" in c.text]
    assert not default.text.startswith("*") and "NODE_REPL_HISTORY_SIZE" not in default.text
    assert default.heading == "REPL > Environment > NODE_REPL_HISTORY_SIZE"
    assert chunks[0].heading == "REPL > Environment"  # it holds the item's first line
    (prose,) = [c for c in chunks if c.text.startswith("Prose")]
    assert prose.heading == "REPL > Environment"
    assert all(text[c.start : c.end] == c.text for c in chunks)  # chunk text stays exact


NODE_OPTIONS = (
    "# readline.createInterface(options)\n\n"
    "* `options` {Object}\n"
    "  * `prompt` {string} The prompt string to use. **Default:** `'> '`.\n"
    "  * `tabSize` {integer} The number of spaces a tab is equal to (minimum 1).\n"
    + "".join(f"    Sentence {i} says a little more about tabs and spaces.\n" for i in range(14))
    + "    **Default:** `8`.\n"
    "  * `signal` {AbortSignal} Allows closing the interface using an AbortSignal.\n"
    "* Returns: {readline.Interface}\n\n"
    "The method creates a new interface.\n"
)


def test_an_option_keyed_by_its_type_is_a_keyed_item_and_a_chunk_inside_it_stores_it(tmp_path):
    """Node's API pages key an option by its type in braces, not by a colon: "* `tabSize`
    {integer} The number of spaces a tab is equal to (minimum 1). / **Default:** `8`." A
    chunk opening below that first line (nodemd k12: it opened on "**Default:** `8`.")
    is told the key in its heading path, and stores the item (where it ends, its keys)
    for the answer checker, through the store and back."""
    from index import Store, sync
    from index.search import passage
    from tests.fakes import FakeEmbedder

    text = NODE_OPTIONS
    chunks = chunk_document("readline.md", "Readline", text, [(0, len(text), "Readline")], 300)
    item_end = text.index("    **Default:** `8`.") + len("    **Default:** `8`.")
    inside = [c for c in chunks if c.start > text.index("`tabSize`") and c.start < item_end]
    assert inside and all(c.heading == "Readline > tabSize" for c in inside)
    assert all(c.opened == (item_end, ("tabSize",)) for c in inside)
    assert chunks[0].opened is None and chunks[0].heading == "Readline"
    after = [c for c in chunks if c.start >= item_end]
    assert all(c.opened is None or c.opened[1] != ("tabSize",) for c in after)
    assert all(text[c.start : c.end] == c.text for c in chunks)  # chunk text stays exact
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "readline.md").write_text(text, "utf-8")
    store = Store(tmp_path / "db", FakeEmbedder())
    sync(store, [tmp_path / "docs"])
    ids = list(store.documents()["readline.md"].chunk_ids)
    read = [passage(*row) for row in store.rows(ids, np.zeros(256)).values()]
    found = [p for p in read if p.opened]
    assert found and all(p.opened == (item_end, ("tabSize",)) for p in found)
    assert all(item_end > p.start > text.index("`tabSize`") for p in found)


@pytest.mark.parametrize(
    "stored", ["not json", "[1]", '{"a": 1}', "[7, []]", None, 7, '["x", ["k"]]']
)
def test_a_damaged_stored_item_reads_as_none_instead_of_failing_the_search(stored):
    from index.search import opened_item

    assert opened_item(stored) is None


def test_a_word_hyphenated_at_a_page_end_runs_on_and_its_page_number_is_no_part_of_it():
    """PDFium read "in dis-" above folio 1 as "in dis1" (the Raft paper, five pages)."""
    from index.extract import pdf_text
    from index.readable import readable

    pages = [
        "Replicated state machines are\nused to solve problems in dis-\n1",
        "tributed systems. More text here.\n2",
        "Page three says more.\n3",
        "Page four ends it.\n4",
    ]
    got = pdf_text(pdf_bytes(pages))
    assert "dis1" not in got.text
    assert "problems in distributed systems." in readable(got.text)
    assert got.text.endswith("Page four ends it.")  # the folios are running lines


def test_pdfs_read_from_many_threads_at_once_come_out_whole():
    """PDFium is not thread-safe; uploads are read in worker threads."""
    from concurrent.futures import ThreadPoolExecutor

    from index.extract import pdf_text

    files = [pdf_bytes([f"Document {i} says {i * 7}.", f"Its second page {i}."]) for i in range(24)]
    with ThreadPoolExecutor(8) as pool:
        texts = list(pool.map(lambda data: pdf_text(data).text, files))
    assert texts == [f"Document {i} says {i * 7}.\n\nIts second page {i}." for i in range(24)]


def test_pdf_running_headers_and_page_numbers_are_not_text_but_repeated_body_lines_are():
    from index.extract import pdf_text

    bodies = ["Alpha opens.", "Bravo follows.", "Charlie stays.", "Delta ends.", "Echo.", "Fox."]
    pages = [
        f"SALTZER ET AL. End-to-End Arguments {n}\n"
        + ("(4) In the Operating Procedures chapter,\n" if n % 3 == 0 else "")
        + f"{body}\n{n}"
        for n, body in enumerate(bodies, 1)
    ]
    got = pdf_text(pdf_bytes(pages))
    assert "SALTZER" not in got.text
    assert [got.text[s:e].splitlines()[-1] for s, e in got.pages] == bodies
    assert got.text.count("(4) In the Operating Procedures chapter,") == 2  # 2 of 6 pages


PRINTED = (
    "Norvale Reports Third Quarter 2025\n"
    "Results\n"
    "Revenue rose to $412.6 million in the quarter.\n"
    "Block\nHash\nBlock\nHash\n"  # a figure's labels
    "Three Months\nEnded Sep 30,\n2025\nThree Months\nEnded Sep 30,\n2024\n"
    "Revenue 412.6 361.9\n"
    "Outlook\n"
    "For the fourth quarter, Norvale expects revenue of $430 million.\n"
    "7\n"  # the page's folio
)


def test_a_printed_documents_one_word_lines_between_text_are_kept_as_print_sets_them():
    """In a PDF a lone word between lines of text is a heading, the end of a wrapped
    title or a table head's year; on a web page the same line is a menu item."""

    def kept(pages):
        blocks = clean(PRINTED, pages=pages).blocks
        return [line for s, e in blocks for line in PRINTED[s:e].split("\n")]

    printed = kept([(0, len(PRINTED))])
    for line in ("Results", "Outlook", "2025", "2024"):
        assert line in printed
    assert "Block" not in printed and "Hash" not in printed and "7" not in printed
    # the table keeps its column names: one block from its head to its rows
    assert any(
        "Ended Sep 30,\n2025" in PRINTED[s:e] and "412.6 361.9" in PRINTED[s:e]
        for s, e in clean(PRINTED, pages=[(0, len(PRINTED))]).blocks
    )
    for scraped in (kept(0), kept(())):  # no pages: a scraped page's furniture
        assert "Outlook" not in scraped and "2025" not in scraped


def test_a_date_print_wrapped_in_its_column_stays_with_its_row():
    """A statement's narrow date column prints "Oct" over "10": both lines are kept, so
    the rows stay one block with their dates, not a chunk per row without one."""
    rows = (
        "Date Description Withdrawals Deposits Balance\n"
        "Oct 9 ATM withdrawal – Harbourline Uptown 200.00 2,825.74\n"
        "Oct\n10\nTransfer to High-Interest Savings 500.00 2,325.74\n"
        "Oct\n20\nCheque #214 850.00 3,882.63\n"
    )
    (block,) = clean(rows, pages=[(0, len(rows))]).blocks
    assert rows[block[0] : block[1]] == rows.strip()
    assert len(clean(rows).blocks) > 1  # a web page's one-word lines are its menus


def test_a_printed_line_that_repeats_is_dropped_only_where_it_is_print_furniture():
    """A PDF line repeating an earlier one is read where it stands when it is text (a
    line wrapped inside a sentence, a table's head over each table), and dropped when it
    is a running head: in capitals, alone between sentences, or on many pages."""
    pages = [
        "Accounts\nMonthly statement of accounts for the member, printed in October.\n"
        "Savings 1029\nDate Description Withdrawals Deposits Balance\nOct 1 Opening 9.00\n"
        "The fee is set out in the\nAccomplishment Instructions of Boeing\n"
        "Service Bulletin 27, as stated.\n",
        "Harbourline Credit Union Member Statement page\n"
        "Chequing 4417\nDate Description Withdrawals Deposits Balance\nOct 2 Opening 5.00\n"
        "All work is done in accordance with the\nAccomplishment Instructions of Boeing\n"
        "Service Bulletin 28, dated July 20.\n2 DELACROIX V. NORTHERN PLAINS\nCo-op.\n",
        "Harbourline Credit Union Member Statement page\nThe third page ends here.\n",
    ]
    text, spans = "", []
    for page in pages:
        spans.append((len(text), len(text) + len(page)))
        text += page
    text = text.replace("here.", "here.\n2 DELACROIX V. NORTHERN PLAINS\n")
    spans[-1] = (spans[-1][0], len(text))

    def kept(paged):
        blocks = clean(text, pages=spans if paged else 0).blocks
        return [line for s, e in blocks for line in text[s:e].split("\n")]

    printed = kept(True)
    assert printed.count("Date Description Withdrawals Deposits Balance") == 2
    assert printed.count("Accomplishment Instructions of Boeing") == 2  # no sentence cut
    assert printed.count("Harbourline Credit Union Member Statement page") == 1
    assert printed.count("2 DELACROIX V. NORTHERN PLAINS") == 1
    scraped = kept(False)  # a web page's repeated line is a teaser, as before
    assert scraped.count("Accomplishment Instructions of Boeing") == 1
    assert scraped.count("Date Description Withdrawals Deposits Balance") == 1


def test_a_line_on_many_pages_is_a_running_line_wherever_it_is_printed():
    pages = [f"Section {n} opens the system capable of running the\nthe ACM Number 7\n"
             f"software on page {n}.\n" for n in range(1, 7)]  # fmt: skip
    text = "".join(pages)
    spans, at = [], 0
    for page in pages:
        spans.append((at, at + len(page)))
        at += len(page)
    blocks = clean(text, pages=spans).blocks
    assert sum(text[s:e].count("the ACM Number 7") for s, e in blocks) == 1


def test_a_summarys_wrapped_column_heads_keep_their_capitalized_word():
    """ "Closing" over "balance", after "debits": a one-word line between one-word lines of
    text is the column head's first word, not a label; dropped, it cut the table in two."""
    summary = (
        "Account Summary\nAccount Opening\nbalance\nWithdrawals and\ndebits\nClosing\n"
        "balance\nEveryday Chequing\n$2,318.44 $7,406.82 $1,824.12\n"
    )
    (block,) = clean(summary, pages=[(0, len(summary))]).blocks
    assert summary[block[0] : block[1]] == summary.strip()


def test_an_over_long_sentence_is_cut_at_a_line_end_not_inside_a_row():
    rows = "\n".join(f"Row {i} label {i}.5 {i}.75 {i * 3}%" for i in range(40))
    chunks = chunk_document("t.pdf", "t", rows, [(0, len(rows))], max_chars=300)
    assert len(chunks) > 1
    for c in chunks:
        assert rows[c.start : c.end] == c.text
        assert c.text.startswith("Row ") and c.text.endswith("%")
    for a, b in zip(chunks, chunks[1:], strict=False):  # they share a row, as sentences
        assert b.start < a.end and rows[b.start : a.end].count("\n") == 0
    # so two of them retrieved together reach the model as one passage, in reading order
    # (the table's heads above its rows), not as two in rank order
    second, first = (Passage("t.pdf", "t", c.text, c.start, c.end, 0.5) for c in chunks[1::-1])
    (joined,) = merge_overlapping([second, first])
    assert joined.text == rows[chunks[0].start : chunks[1].end]


GUIDE = (
    "# Primordials\n\n## Accessing\n\nYou can expose it using this combination of CLI flags:\n\n"
    "```bash\nnode --expose-internals -r internal/test/binding\n```\n\n"
    "These flags are for core development.\n"
)


def test_a_lead_in_and_the_code_it_introduces_retrieved_apart_join_into_one_passage(tmp_path):
    """A fence line is dropped as a line without words, so the code is a chunk of its
    own; retrieved together, the two reach the model as one passage, at the better rank,
    its text the document's own (the fence line between included)."""
    path = tmp_path / "guide.md"
    path.write_text(GUIDE, "utf-8")
    doc, blocks = load_document(path, path.name)
    chunks = chunk_document(doc.source, doc.title, doc.text, blocks)
    lead, code, after = (
        Passage(c.source, c.title, c.text, c.start, c.end, 0.5, heading=c.heading) for c in chunks
    )
    assert lead.text.endswith("flags:") and code.text.startswith("node")
    (joined, other) = join_introduced([code, after, lead], {doc.source: doc.text}.get)
    assert joined.text == doc.text[lead.start : code.end] and other == after
    assert "```bash" in joined.text and "```" not in readable(joined.text)  # not shown
    # what ends no lead-in, or has words between, stays apart; so does an unreadable file
    assert join_introduced([after, code], {doc.source: doc.text}.get) == [after, code]
    assert join_introduced([lead, after], {doc.source: doc.text}.get) == [lead, after]
    assert join_introduced([lead, code], lambda source: None) == [lead, code]
    # a web page writes no fences: nothing is read for it
    page = [replace(p, source="guide.html") for p in (lead, code)]
    assert join_introduced(page, lambda source: pytest.fail("read")) == page
