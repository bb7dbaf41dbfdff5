"""Documents with structure: outlines, heading paths, titles from structure or metadata,
sentences over wrapped lines. Chunk text always stays the exact original span."""

from __future__ import annotations

import io
import json
from pathlib import Path

from index.chunking import chunk_document, split_sentences
from index.extract import html_text, pdf_text
from index.indexer import load_document, parse_document
from index.structure import heading_text, outline
from tests.makers import pdf_bytes, write_docx

BOOK = """---
title: "The Build Guide"
layout: page
---
<!-- Old headings
# Not a heading
-->

# The Build Guide

Cargo builds your code. It also runs the tests.

{{#include ../../commands/section.md}}

## Running tests

Tests run in parallel by default.

```sh
# not a heading either
cargo test
```

### Consecutive runs {#consecutive-runs .note}

A second run reuses the compiled
artifacts when nothing
changed.

Options
-------

- `--release`: optimized build
- `--jobs N`: number of jobs
"""


def _chunks(path: Path):
    doc, blocks = load_document(path, path.name)
    chunks = chunk_document(doc.source, doc.title, doc.text, blocks)
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text  # offsets stay exact
    return doc, chunks


def test_markdown_outline_skips_what_a_reader_never_sees():
    shape = outline(BOOK)
    assert shape.title == "The Build Guide"
    text = " ".join(BOOK[s.start : s.end] for s in shape.sections)
    for hidden in ("layout: page", "Old headings", "Not a heading", "{{#include", "## Running"):
        assert hidden not in text
    assert "# not a heading either" in text  # code stays text, its '#' is no heading
    paths = {BOOK[s.start : s.end].split()[0]: s.path for s in shape.sections}
    assert paths["Cargo"] == ("The Build Guide",)
    assert paths["Tests"] == ("The Build Guide", "Running tests")
    assert paths["A"] == ("The Build Guide", "Running tests", "Consecutive runs")
    assert paths["-"] == ("The Build Guide", "Options")  # a setext heading (level 2)


def test_a_headings_code_and_escapes_are_its_text_not_markup():
    # Node's signatures: brackets in a code span are no reference links
    assert heading_text("`socket.bind([port][, address][, callback])`") == (
        "socket.bind([port][, address][, callback])"
    )
    # Cargo's keys: "_" beside "<" in code is no emphasis, brackets in a link's code stay
    assert heading_text("`CARGO_PROFILE_<name>_DEBUG`") == "CARGO_PROFILE_<name>_DEBUG"
    assert heading_text("[`[[bin]]`](cargo-targets.md#binaries)") == "[[bin]]"
    assert heading_text(r"Update doc/CHANGELOG\_\*.md and \<nodejs.org>") == (
        "Update doc/CHANGELOG_*.md and <nodejs.org>"
    )
    # markup outside code still goes
    assert heading_text("**Fast** _builds_ with [snake_case](x.md) {#fast}") == (
        "Fast builds with snake_case"
    )


def test_every_markdown_chunk_knows_its_heading_path(tmp_path):
    (tmp_path / "guide.md").write_text(BOOK, "utf-8")
    doc, chunks = _chunks(tmp_path / "guide.md")
    assert doc.title == "The Build Guide"  # front matter, not the HTML comment
    by_text = {c.text.split()[0]: c.heading for c in chunks}
    # the attribute block {#consecutive-runs .note} is markup, not heading text
    assert by_text["A"] == "The Build Guide > Running tests > Consecutive runs"
    assert not any("Running tests" in c.text for c in chunks)  # headings live in the path
    wrapped = next(c for c in chunks if c.text.startswith("A second run"))
    assert wrapped.text.endswith("changed.")  # one sentence over three wrapped lines


def test_a_markdown_file_without_headings_is_titled_by_its_text_not_a_comment(tmp_path):
    (tmp_path / "notes.md").write_text(
        "<!-- Old headings, kept for links -->\n\nShipping notes for the spring release.\n"
        "Everything else is unchanged.\n",
        "utf-8",
    )
    doc, _ = _chunks(tmp_path / "notes.md")
    assert doc.title == "Shipping notes for the spring release"


TABLE = """# Corepack

## Supported package managers

The following binaries are provided through Corepack:

| Package manager | Binary names      |
| --------------- | ----------------- |
| [Yarn][]        | `yarn`, `yarnpkg` |
| [pnpm][]        | `pnpm`, `pnpx`    |
"""


def test_a_markdown_table_stays_one_block_with_its_lead_in(tmp_path):
    """The `| --- |` rule line has no word, and was dropped as page furniture: that cut
    the lead-in and the header row from the rows, into chunks of their own."""
    (tmp_path / "corepack.md").write_text(TABLE, "utf-8")
    doc, chunks = _chunks(tmp_path / "corepack.md")
    assert [c.text for c in chunks] == [TABLE[TABLE.index("The following") :].rstrip()]
    # outside a table a line without words is still furniture, and ends a block
    (tmp_path / "page.md").write_text("# P\n\nOne line here.\n***\nTwo.\n", "utf-8")
    _, blocks = load_document(tmp_path / "page.md", "page.md")
    assert len(blocks) == 2


OPTIONS = """# Readline

## Promises API

* `options` {Object}
  * `history` {string\\[]} Initial list of history lines. This option makes sense
    only if `terminal` is set to `true`, otherwise the history caching mechanism
    is not initialized at all. **Default:** `[]`.
  * `prompt` {string} The prompt string to use. **Default:** `'> '`.

## Callback API

* `options` {Object}
  * `history` {string\\[]} Initial list of history lines. This option makes sense
    only if `terminal` is set to `true`, otherwise the history caching mechanism
    is not initialized at all. **Default:** `[]`.
  * `prompt` {string} The prompt string to use. **Default:** `'> '`.
"""


def test_an_option_list_a_markdown_page_repeats_is_kept_whole(tmp_path):
    """A repeated line is a web page's teaser, and was dropped in Markdown too: the
    second copy of an option list fell apart into shreds ("is not initialized at all.
    **Default:** `[]`." a chunk of its own) that outranked the whole list."""
    (tmp_path / "readline.md").write_text(OPTIONS, "utf-8")
    _, chunks = _chunks(tmp_path / "readline.md")
    assert [c.heading.rsplit(" > ", 1)[-1] for c in chunks] == ["Promises API", "Callback API"]
    assert chunks[0].text == chunks[1].text and chunks[1].text.endswith("`'> '`.")
    # in code a repeated line still ends a block (examples kept whole measured worse)
    code = "# Ranges\n\n```\n1 := >=1.0.0, <2.0.0\n```\n\n```\n~1.2 := >=1.2.0, <1.3.0\n"
    (tmp_path / "ranges.md").write_text(code + "1 := >=1.0.0, <2.0.0\n```\n", "utf-8")
    _, ranges = _chunks(tmp_path / "ranges.md")
    assert [c.text for c in ranges] == ["1 := >=1.0.0, <2.0.0", "~1.2 := >=1.2.0, <1.3.0"]
    # a saved web page (or a PDF) still loses the repeat: there it is a teaser or a header
    (tmp_path / "readline.html").write_text(f"<p>{OPTIONS}</p>".replace("\n\n", "</p><p>"))
    _, html_chunks = _chunks(tmp_path / "readline.html")
    assert sum("The prompt string to use" in c.text for c in html_chunks) == 1


MDX = """---
title: Installation
---
import Tabs from '@theme/Tabs';
import TabItem from "@theme/TabItem";
export const toc = [];

# Installation

Run the installer once. Then restart the shell.

## Upgrading

Upgrades keep your settings.
"""


def test_mdx_pages_are_markdown_without_their_module_lines(tmp_path):
    (tmp_path / "install.mdx").write_text(MDX, "utf-8")
    doc, chunks = _chunks(tmp_path / "install.mdx")
    assert doc.title == "Installation"
    assert not any("import" in c.text or "export" in c.text for c in chunks)
    by_text = {c.text.split()[0]: c.heading for c in chunks}
    assert by_text["Upgrades"] == "Installation > Upgrading"
    # in prose, words like these stay text
    prose = "# Notes\n\nimport duties fell. We export more grain.\n"
    (tmp_path / "notes.md").write_text(prose, "utf-8")
    _, chunks = _chunks(tmp_path / "notes.md")
    assert "import duties fell" in chunks[0].text


def test_plain_text_formats_are_indexed_as_written(engine_factory, tmp_path):
    notes = {
        "guide.rst": "Setup\n=====\n\nThe setup takes four minutes on a laptop.\n",
        "manual.adoc": "= Manual\n\nThe pump holds nine litres of water.\n",
        "todo.org": "* Tasks\n** Call the plumber about the boiler on Monday.\n",
        "readme.text": "The archive unpacks into a folder named build.\n",
    }
    for name, text in notes.items():
        (tmp_path / name).write_text(text, "utf-8")
    engine = engine_factory()
    report = engine.index([tmp_path])
    assert sorted(report.added) == sorted(notes) and not report.failed
    found = engine.retrieve("How many litres of water does the pump hold?", k=1)
    assert found[0].source == "manual.adoc" and "nine litres" in found[0].text


def test_wrapped_lines_are_joined_into_sentences_but_lines_of_prose_are_not():
    wrapped = (
        "A user study with 43 students at two\nuniversities shows that Raft is easier to\n"
        "understand than Paxos. After learning both\nalgorithms, 33 of these students were\n"
        "able to answer questions."
    )
    assert [wrapped[s:e].split()[0] for s, e in split_sentences(wrapped)] == ["A", "After"]
    news = "Canada and China reach a deal\nThe two countries agreed on Friday.\nTariffs fell."
    assert len(split_sentences(news)) == 3  # a headline line stays its own sentence
    listing = "The limits are\n- 64 characters for a name\n- 10 MB per upload"
    assert len(split_sentences(listing)) == 3  # list items always end a sentence


def test_html_title_comes_from_the_page_not_a_byline_and_text_outside_main_is_kept():
    page = """<html><head><title>How we test | Example Blog</title></head><body>
    <nav><a href="/">Home</a></nav>
    <main><p>Oct 18, 2019 · 8 min read</p><h1>How we test our code</h1>
      <p>We run every test twice.</p>
      <h2>Coverage</h2><ul><li>Blanket for coverage</li><li>Mocha for tests</li></ul>
      <table><tr><th>Tool</th><th>Version</th></tr><tr><td>Mocha</td><td>2.3</td></tr></table>
    </main>
    <div class="sidebar"><p>The release date was 12 May.</p></div>
    <footer>Copyright</footer></body></html>"""
    got = html_text(page)
    assert got.title == "How we test our code" and got.markdown
    assert "## Coverage" in got.text and "- Blanket for coverage" in got.text
    assert "Mocha | 2.3" in got.text  # a table row stays one line, cells in order
    assert "The release date was 12 May." in got.text  # outside <main>, still there
    assert "Home" not in got.text and "Copyright" not in got.text
    assert got.text.index("We run") < got.text.index("release date")  # main first


def test_a_page_names_its_author_from_its_metadata_not_from_links_or_comments():
    def author(head: str, body: str = "<p>Text of the post.</p>") -> str:
        return html_text(f"<html><head>{head}</head><body>{body}</body></html>").author

    # Meta tags first; a profile link names no one, and a link in a name is trimmed
    meta = (
        '<meta property="article:author" content="https://medium.com/@jwelch">'
        '<meta name="author" content="Bradley M. Kuhn (http://ebb.org/bkuhn/)">'
    )
    assert author(meta) == "Bradley M. Kuhn"
    assert author('<meta name="DC.Creator" content="Kooman, F."><meta name="DC.Creator" '
                  'content="Jong, Michiel de">') == "Kooman, F.; Jong, Michiel de"  # fmt: skip
    # Else the article's JSON-LD (XHTML's CDATA wrapper too), not its comments' authors
    ld = {
        "@type": "NewsArticle",
        "author": [{"@type": "Person", "name": "Stella Kim"}, {"name": "Jennifer Jett"}],
        "comment": [{"@type": "Comment", "author": {"name": "A Reader"}}],
    }
    script = f'<script type="application/ld+json">//<![CDATA[\n{json.dumps(ld)}\n//]]></script>'
    assert author(script) == "Stella Kim; Jennifer Jett"
    graph = {"@graph": [{"@type": "WebPage"}, {"@type": "Article", "author": "mcupdate"}]}
    assert author(f'<script type="application/ld+json">{json.dumps(graph)}</script>') == "mcupdate"
    # Else a byline's rel=author link, whatever furniture it sits in
    byline = '<header><a rel="author" href="/u/rje">By Richard (R.J.) Eskow</a></header><p>Hi.</p>'
    assert author("", byline) == "Richard (R.J.) Eskow"
    # Nothing said, an empty or broken value, or a team page's long list: no author
    assert author("") == ""
    assert author('<meta name="author" content="">') == ""
    assert author('<script type="application/ld+json">{"author": </script>') == ""
    team = "".join(f'<meta name="author" content="Writer {n}">' for n in "ABCD")
    assert author(team) == ""


def test_html_chunks_carry_the_page_title_and_section(tmp_path):
    (tmp_path / "post.html").write_text(
        "<html><head><title>Site | Post</title></head><body><article><h1>Release notes</h1>"
        "<h2>Fixes</h2><p>The crash on start is fixed in version 2.1.</p></article></body></html>",
        "utf-8",
    )
    doc, chunks = _chunks(tmp_path / "post.html")
    assert doc.title == "Release notes"
    assert [c.heading for c in chunks] == ["Release notes > Fixes"]


def test_an_h1_that_names_the_site_is_not_the_page_title():
    page = (
        "<html><head><title>OS | Node.js v20 Documentation</title></head><body>"
        "<header><h1>Node.js v20 documentation</h1></header>"
        "<div><h2>OS</h2><p>The os module provides operating system utilities.</p></div>"
        "</body></html>"
    )
    assert html_text(page).title == "OS"
    # a headline's <h1> in a header is still the headline when nothing else heads the text
    news = (
        "<html><head><title>Rates rise again - Daily Site</title></head><body>"
        "<header><h1>Rates rise again</h1></header><article><p>Rates rose.</p></article>"
        "<aside><h2>Daily Site</h2></aside></body></html>"
    )
    assert html_text(news).title == "Rates rise again"


def test_pdf_title_skips_running_headers_and_page_counters(tmp_path):
    header = "Volume 85, Number 12 / Rules and Regulations"
    pages = [
        f"{header}\n1 of 3\nAirworthiness Directives for Model 737 Airplanes\n"
        "The FAA proposes a rule.",
        f"{header}\n2 of 3\nThe rule applies to all operators.",
        f"{header}\n3 of 3\nComments are due by the deadline.",
    ]
    got = pdf_text(pdf_bytes(pages))
    assert got.title == "Airworthiness Directives for Model 737 Airplanes"
    path = tmp_path / "rule.pdf"
    path.write_bytes(pdf_bytes(pages))
    doc, chunks = _chunks(path)
    assert doc.title == got.title and all(c.heading == got.title for c in chunks)


def test_pdf_metadata_title_wins_unless_a_tool_made_it_up():
    from pypdf import PdfReader, PdfWriter

    def with_title(title: str) -> bytes:
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes(["Some body text here."]))))
        writer.add_metadata({"/Title": title})
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    assert pdf_text(with_title("Bitcoin: A Peer-to-Peer Electronic Cash System")).title == (
        "Bitcoin: A Peer-to-Peer Electronic Cash System"
    )
    assert pdf_text(with_title("Microsoft Word - draft3.doc")).title == "Some body text here."


def test_word_headings_become_the_outline(tmp_path):
    path = write_docx(tmp_path / "memo.docx", "Quarterly memo", ["Revenue grew by 4 percent."])
    data = path.read_bytes()
    doc, blocks = parse_document(data, path, path.name)
    assert doc.title == "Quarterly memo"
    assert [b[2] for b in blocks] == ["Quarterly memo"]
    assert doc.text[blocks[0][0] : blocks[0][1]] == "Revenue grew by 4 percent."


def test_without_an_h1_the_title_is_the_head_title_without_the_site_name():
    page = (
        "<html><head><title>Saving Data: Reducing App Updates | Android Blog</title></head>"
        "<body><p>Oct 18, 2019 · 8 min read</p><p>We made updates smaller.</p></body></html>"
    )
    assert html_text(page).title == "Saving Data: Reducing App Updates"


def test_a_headings_permalink_and_edit_link_are_not_its_words(tmp_path):
    (tmp_path / "guide.html").write_text(
        "<html><head><title>Guide</title></head><body><main>"
        '<h1>Evolve guide<a class="headerlink" href="#evolve-guide">¶</a></h1>'
        '<h2>Setting up<a class="headerlink" href="#setting-up">¶</a></h2>'
        "<p>Edit the configuration of the test repository first.</p>"
        '<h2><a href="#tips">Tips and tricks</a><span><a class="mark" href="#tips">#</a></span>'
        '<span class="mw-editsection">[<a href="/w/index.php?title=Guide&amp;action=edit'
        '&amp;section=2">edit</a>]</span></h2>'
        "<p>Keep the changesets in draft phase while you share them.</p>"
        "<p>See the <a href='#setting-up'>setup</a> section, or <a href='#top'>↑</a>.</p>"
        "</main></body></html>",
        "utf-8",
    )
    doc, chunks = _chunks(tmp_path / "guide.html")
    assert doc.title == "Evolve guide"
    headings = {c.heading for c in chunks}
    assert headings == {"Evolve guide > Setting up", "Evolve guide > Tips and tricks"}
    # a link in the text is text: only a heading's own controls go
    assert "See the setup section, or ↑." in " ".join(c.text for c in chunks)


def test_pdf_lines_set_larger_than_the_body_head_sections_with_exact_chunks(tmp_path):
    """A statement's two accounts each print "Interest paid" under their own heading:
    that heading is the chunk's, so an amount is not taken for the other account's."""
    from tests.makers import pdf_from_content, pdf_text_op

    def typeset(lines: list[tuple[str, float]]) -> str:
        return "".join(pdf_text_op(t, 50, 760 - 24 * i, z) for i, (t, z) in enumerate(lines))

    rows = [(f"Oct {d} Card purchase at the corner store {d}.00", 10) for d in range(1, 9)]
    pages = [
        typeset([("Member Statement", 22), ("Everyday Chequing", 15), *rows]),
        typeset([("Interest paid 12.00", 10), ("High-Interest Savings", 15), *rows[:4]]),
        typeset([("Interest paid 37.61", 10), ("Fees are listed on the back.", 10)]),
    ]
    path = tmp_path / "statement.pdf"
    path.write_bytes(pdf_from_content(pages))
    doc, blocks = parse_document(path.read_bytes(), path, path.name)
    assert doc.title == "Member Statement"
    chunks = chunk_document(doc.source, doc.title, doc.text, blocks, pages=doc.pages)
    assert all(doc.text[c.start : c.end] == c.text for c in chunks)
    heading = {c.text: c.heading for c in chunks}
    owner = lambda amount: next(h for t, h in heading.items() if amount in t)  # noqa: E731
    assert owner("12.00") == "Member Statement > Everyday Chequing"
    assert owner("37.61") == "Member Statement > High-Interest Savings"
    # Body text set at one size heads nothing: a PDF without larger lines is as before
    plain = tmp_path / "plain.pdf"
    plain.write_bytes(pdf_from_content([typeset(rows)]))
    _, flat = parse_document(plain.read_bytes(), plain, plain.name)
    assert {b[2] for b in flat} == {"Oct 1 Card purchase at the corner store 1.00"}
