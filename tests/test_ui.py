"""The Gradio app, driven through its callback with a fake engine and no server."""

from __future__ import annotations

import gc
from dataclasses import replace
from pathlib import Path

import gradio as gr
import pytest

from index import Document, Passage
from rag import Answer, Citation, Timings
from ui import build_app, make_respond
from ui.app import citation_choices, make_open_source
from ui.render import render_answer, render_document, safe_text


def test_app_builds_without_launching(engine_factory, corpus):
    engine = engine_factory()
    engine.index([corpus])
    app = build_app(engine)
    assert isinstance(app, gr.Blocks)
    config = str(app.config)
    assert "fake-llm" in config and "2 documents" in config


def test_chat_streams_then_shows_sources_under_the_answer(engine_factory, corpus):
    engine = engine_factory(
        [
            "Green tea is brewed at 80 degrees Celsius [1]. It was first brewed by Napoleon "
            "in 1802 [1]. Steep it for two minutes [1]."
        ]
    )
    engine.index([corpus])
    respond = make_respond(engine)
    steps, shown = [], []
    for step in respond("How hot should green tea be?", [], []):
        steps.append(step)
        shown.append(step[1][-1]["content"])  # the same list is updated in place
    shown = shown[1:-1]  # between the placeholder and the rendered answer
    # The page shows each checked sentence as it passes; never the one the checks dropped.
    assert shown == [
        "Green tea is brewed at 80 degrees Celsius [1]. …",
        "Green tea is brewed at 80 degrees Celsius [1]. Steep it for two minutes [1]. …",
    ]
    box, messages, history, citations, conversation = steps[-1]
    assert conversation is None  # not asked to save: nothing saved
    assert [(c["n"], c["source"]) for c in citations] == [(1, "tea.txt")]
    assert box == ""
    assert messages[0] == {"role": "user", "content": "How hot should green tea be?"}
    final = messages[-1]["content"]
    assert final.startswith(
        "Green tea is brewed at 80 degrees Celsius [1]. Steep it for two minutes [1].\n\n"
        "*(1 sentence left out: not supported by the documents)*"
    )
    assert "**Sources**" in final and "**[1] Green Tea Brewing Guide**" in final
    assert "`tea.txt`" in final
    # both sentences cite passage 1: its span covers what each stands on
    span = "Green tea should be brewed at 80 degrees Celsius. Steep it for two minutes."
    assert f"> **{span}**" in final
    assert history == [("How hot should green tea be?", final.split("\n\n*(")[0])]


def test_follow_up_passes_the_conversation(engine_factory, corpus):
    engine = engine_factory(
        [
            "Paris is the capital of France [1].",
            "When was the Eiffel Tower completed?",
            "The Eiffel Tower was completed in 1889 [1].",
        ]
    )
    engine.index([corpus])
    respond = make_respond(engine)
    *_, (_, messages, history, _, _) = respond("Capital of France?", [], [])
    *_, (_, messages, history, _, _) = respond("When was its tower finished?", messages, history)
    assert "User: Capital of France?" in engine.generator.prompts[1][-1]["content"]
    assert "completed in 1889 [1]." in messages[-1]["content"] and len(history) == 2


def test_errors_are_shown_in_the_chat(engine_factory):
    engine = engine_factory()
    *_, (box, messages, _, _, _) = make_respond(engine)("   ", [], [])
    assert messages[-1]["content"].startswith("**Error:**") and "empty" in messages[-1]["content"]


def test_rendering_escapes_html_links_and_images():
    hostile = "Hi <img src=x onerror=alert(1)> ![a](http://evil/x.png) [b](javascript:alert(1))"
    out = safe_text(hostile)
    assert "<img" not in out and "](" not in out and "javascript:" not in out
    assert "http:" not in out
    p = Passage("a.txt", "<b>T</b>", "text <script>x</script>", 0, 5, 0.9)
    answer = Answer("q", "Yes [1].", False, (Citation(1, "a.txt", p.title, p.text, 0, 5),), (p,))
    html_out = render_answer(answer)
    assert "<script>" not in html_out and "<b>" not in html_out and "[1]" in html_out


def test_sources_highlight_the_exact_supporting_span():
    text = "Intro sentence here. Green tea is brewed at 80 degrees. Outro *sentence*."
    p = Passage("tea.txt", "Tea", text, 100, 100 + len(text), 0.8)
    span_start = text.index("Green")
    span_end = text.index("Outro") - 1
    c = Citation(1, "tea.txt", "Tea", text[span_start:span_end], 100 + span_start, 100 + span_end)
    answer = Answer(
        "q", "It is 80 degrees [1].", False, (c,), (p,), "m", Timings(), ("Also blue.",)
    )
    out = render_answer(answer)
    assert (
        "> Intro sentence here. **Green tea is brewed at 80 degrees.** Outro \\*sentence\\*." in out
    )
    assert "Also blue" not in out  # what the checks dropped is never shown
    assert "*(1 sentence left out: not supported by the documents)*" in out


def test_sources_and_an_opened_document_say_who_wrote_it_when_the_document_does():
    text = "Rez gets the VR treatment, and the results are terrific."
    by = Passage("vr.html", "VR", text, 0, len(text), 0.8, author="Ben *Silverman*")
    plain = Passage("notes.txt", "Notes", text, 0, len(text), 0.7)
    cites = tuple(
        Citation(n, p.source, p.title, text, 0, len(text)) for n, p in ((1, by), (2, plain))
    )
    out = render_answer(Answer("q", "Terrific [1][2].", False, cites, (by, plain)))
    assert "`vr.html` · by Ben \\*Silverman\\* · supporting" in out  # escaped, not emphasis
    assert "`notes.txt` · supporting" in out  # no byline, none shown
    page = Document("vr.html", "/d/vr.html", "VR", text, "h", author="Ben Silverman")
    assert render_document(page, 0, 3).startswith("### VR\n`vr.html` · by Ben Silverman\n")
    assert render_document(replace(page, author=""), 0, 3).startswith("### VR\n`vr.html`\n")


def test_launch_serves_the_chat_on_loopback(engine_factory, corpus):
    import socket

    from gradio_client import Client

    from ui import launch

    engine = engine_factory(["Green tea is brewed at 80 degrees Celsius [1]."])
    engine.index([corpus])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = launch(engine, port=port, prevent_thread_lock=True, quiet=True)
    try:
        assert app.local_url.startswith(f"http://127.0.0.1:{port}")
        client = Client(app.local_url, verbose=False)
        _, messages = client.predict("How hot should green tea be?", [], api_name="/ask")
        final = messages[-1]["content"]
        text = final[0]["text"] if isinstance(final, list) else final
        assert "80 degrees Celsius [1]" in text and "**Sources**" in text and "`tea.txt`" in text
    finally:
        app.close()


def test_a_ctrl_c_as_the_ui_starts_stops_it_as_one_while_it_serves(
    engine_factory, corpus, monkeypatch
):
    """Ctrl-C is how serving ends: Gradio's `block_thread` closes the server and returns.
    One landing after the page is served but before `launch` blocks (exit 130 in a CI
    rehearsal's offline test, under load) now ends it the same way: the server closed,
    `launch` returning; without blocking, the caller's Ctrl-C is still its own."""
    import socket

    from ui import launch

    def interrupted(self: gr.Blocks) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(gr.Blocks, "block_thread", interrupted)
    engine = engine_factory()
    engine.index([corpus])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    try:
        app = launch(engine, port=port, quiet=True)  # blocking: it returns
    except KeyboardInterrupt:  # (caught here: escaping, it would stop the whole test run)
        pytest.fail("a Ctrl-C as the UI started escaped launch()")
    assert not app.is_running
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # the port is free again: the server was closed
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kw: interrupted(self))
    with pytest.raises(KeyboardInterrupt):
        launch(engine, port=port, prevent_thread_lock=True, quiet=True)


def test_uploads_are_indexed_listed_and_removable(engine_factory, corpus, tmp_path):
    from ui.app import document_rows, make_remove, make_upload

    engine = engine_factory()
    engine.index([corpus])
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "oolong.txt").write_text("Oolong Guide\n\nOolong is partly oxidised.", "utf-8")
    calls = []
    message = make_upload(engine)([str(incoming / "oolong.txt")], lambda *a, **k: calls.append(a))
    assert message.startswith("Indexed: 1 added") and calls  # progress was reported
    assert ["Oolong Guide", "oolong.txt", 1] in document_rows(engine)
    assert (engine.uploads_dir / "oolong.txt").is_file()
    assert make_remove(engine)("oolong.txt") == "Removed `oolong.txt`."
    assert "oolong.txt" not in [row[1] for row in document_rows(engine)]
    assert not (engine.uploads_dir / "oolong.txt").exists()  # not re-added by a later upload
    assert (incoming / "oolong.txt").exists()  # the user's own file is never touched


def test_bad_uploads_are_refused_whole_and_change_nothing(engine_factory, corpus, tmp_path):
    from ui.app import document_rows, make_upload

    engine = engine_factory(max_file_mb=1)
    engine.index([corpus])
    before = document_rows(engine)
    (tmp_path / "ok.txt").write_text("Fine text about tea.", "utf-8")
    (tmp_path / "run.sh").write_text("rm -rf /", "utf-8")
    (tmp_path / "big.txt").write_text("x " * 600_000, "utf-8")
    upload = make_upload(engine)
    noop = lambda *a, **k: None  # noqa: E731
    assert "file type not accepted" in upload(
        [str(tmp_path / "ok.txt"), str(tmp_path / "run.sh")], noop
    )
    assert "over the 1 MB limit" in upload([str(tmp_path / "big.txt")], noop)
    assert upload([], noop) == "Choose one or more files first."
    assert document_rows(engine) == before and not engine.uploads_dir.exists()


def test_the_page_has_the_documents_panel_with_an_extension_allowlist(engine_factory, corpus):
    engine = engine_factory()
    engine.index([corpus])
    config = build_app(engine).config
    upload = [c for c in config["components"] if c.get("props", {}).get("elem_id") == "rag-upload"]
    assert upload and set(upload[0]["props"]["file_types"]) == {
        ".txt",
        ".text",
        ".md",
        ".markdown",
        ".mdx",
        ".rst",
        ".adoc",
        ".asciidoc",
        ".org",
        ".html",
        ".htm",
        ".pdf",
        ".docx",
    }


TEA_Q = "How hot should green tea be?"
TEA_REPLY = "Green tea is brewed at 80 degrees Celsius [1]."


def props(app, elem_id: str) -> dict | None:
    found = [c for c in app.config["components"] if c.get("props", {}).get("elem_id") == elem_id]
    return found[0]["props"] if found else None


def test_a_picked_document_scopes_the_question(engine_factory, corpus):
    engine = engine_factory(["Paris is the capital of France [1]."])
    engine.index([corpus])
    assert {c[0] for c in props(build_app(engine), "rag-scope")["choices"]} == {
        "paris.md",
        "tea.txt",
    }
    *_, (_, messages, _, citations, _) = make_respond(engine)(
        "Capital of France?", [], [], ["tea.txt"]
    )
    assert "chosen documents (tea.txt)" in messages[-1]["content"] or all(
        c["source"] == "tea.txt" for c in citations
    )
    prompt = engine.generator.prompts[-1][-1]["content"] if engine.generator.prompts else ""
    assert "Paris is the capital" not in prompt  # the other document never reached the model
    *_, (_, messages, _, _, _) = make_respond(engine)("Capital?", [], [], ["gone.md"])
    assert messages[-1]["content"].startswith("**Error:**") and "gone.md" in messages[-1]["content"]


def test_a_citation_opens_its_document_with_the_span_in_bold(engine_factory, corpus):
    engine = engine_factory(["Green tea is brewed at 80 degrees Celsius [1]."])
    engine.index([corpus])
    *_, (_, _, _, citations, _) = make_respond(engine)("How hot should green tea be?", [], [])
    picker = citation_choices(citations)
    assert [label for label, _ in picker.choices] == ["[1] Green Tea Brewing Guide (tea.txt)"]
    view = make_open_source(engine)(0, citations)
    assert view.startswith("### Green Tea Brewing Guide\n`tea.txt`")
    assert "**Green tea should be brewed at 80 degrees Celsius.**" in view
    assert "Black tea needs boiling water" in view  # the document around the span
    (corpus / "tea.txt").write_text("Edited since.\n", "utf-8")
    assert "changed since it was indexed" in make_open_source(engine)(0, citations)
    assert make_open_source(engine)(None, citations).startswith("*Pick a source")


def test_demo_questions_only_over_the_bundled_corpus(engine_factory, corpus, tmp_path):
    from tests.fakes import make_engine

    engine = engine_factory()
    engine.index([corpus])
    assert "In which city was Meng Wanzhou arrested?" not in str(build_app(engine).config)
    demo = make_engine(tmp_path / "demo")
    demo.ensure_indexed()
    assert "In which city was Meng Wanzhou arrested?" in str(build_app(demo).config)


class Request:
    """What Gradio passes as `gr.Request`: the login's user name."""

    def __init__(self, username: str | None) -> None:
        self.username = username


def test_the_chat_is_saved_and_reopened_with_its_sources(engine_factory, corpus):
    from ui import conversations as saved

    engine = engine_factory([TEA_REPLY, "How long?", "Steep it for two minutes [1]."])
    engine.index([corpus])
    respond, alice = make_respond(engine), Request("alice")
    *_, (_, messages, history, _, cid) = respond(TEA_Q, [], [], None, "", alice)
    assert cid and engine.conversations.get(cid, "alice").answers[0].text == TEA_REPLY
    *_, (_, messages, history, _, same) = respond(
        "And how long?", messages, history, None, cid, alice
    )
    assert same == cid and len(engine.conversations.get(cid, "alice").answers) == 2
    listing = saved.make_listing(engine)(cid, alice)
    assert [v for _, v in listing.choices] == [cid] and listing.value == cid
    assert "(2 turns)" in listing.choices[0][0]
    reopened, turns, last, current, note = saved.make_reopen(engine)(cid, alice)
    assert current == cid and turns == history and "Opened" in note
    assert [m["content"] for m in reopened] == [m["content"] for m in messages]
    assert "**Sources**" in reopened[-1]["content"] and last[0]["source"] == "tea.txt"
    export = saved.make_export(engine)
    path, _ = export(cid, alice)
    again, _ = export(cid, alice)  # the same title twice: two files, neither overwritten
    assert Path(path).read_text("utf-8").startswith(f"# {TEA_Q}") and again != path
    assert Path(again).read_text("utf-8") == Path(path).read_text("utf-8")
    # the page's exports live in one directory, gone with the page (no /tmp litter)
    root = Path(path).parent.parent
    assert Path(again).parent.parent == root and root.name.startswith("rag-export-")
    del export
    gc.collect()
    assert not root.exists()
    # another login sees none of it and cannot open, rename, export or delete it
    bob = Request("bob")
    assert saved.make_listing(engine)(None, bob).choices == []
    assert saved.make_reopen(engine)(cid, bob)[-1].startswith("**no conversation")
    assert saved.make_rename(engine)(cid, "mine", bob)[1].startswith("**Not renamed")
    assert saved.make_export(engine)(cid, bob)[0] is None
    assert saved.make_delete(engine)(cid, "", bob)[-1].startswith("**Not deleted")
    assert saved.make_rename(engine)(cid, "Tea", alice)[1] == "Renamed."
    assert saved.make_delete(engine)(cid, cid, alice)[1:5] == ([], [], [], "")
    assert engine.conversations.list("alice") == []


def test_a_bad_question_or_scope_leaves_no_empty_conversation(engine_factory, corpus):
    engine = engine_factory([TEA_REPLY])
    engine.index([corpus])
    for question, sources in (("   ", None), (TEA_Q, ["gone.md"])):
        *_, (_, messages, _, _, cid) = make_respond(engine)(question, [], [], sources, "")
        assert messages[-1]["content"].startswith("**Error:**") and cid == ""
    assert engine.conversations.list() == []


def test_the_page_has_the_conversations_panel(engine_factory, corpus):
    engine = engine_factory()
    engine.index([corpus])
    app = build_app(engine)
    for elem in ("rag-conv-list", "rag-conv-open", "rag-conv-export", "rag-conv-delete"):
        assert props(app, elem) is not None, elem
