"""Questions about chosen documents, and documents opened by name: the Python API, the CLI
and the HTTP API. Scoping applies to both rankings and to refusals; a name that is not
indexed is an error (never a silent widening), and only indexed documents can be read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag import DocumentError, InputError, UnknownDocumentError, cli
from tests.makers import fetch, pdf_bytes
from tests.test_serve import start  # noqa: F401  (fixture)

EIFFEL = "When was the Eiffel Tower completed?"


def indexed(engine_factory, corpus: Path, replies=()):
    (corpus / "guide").mkdir()
    (corpus / "guide" / "eiffel.md").write_text(
        "# Tower Facts\n\nThe Eiffel Tower was completed in 1889 for the World's Fair.\n", "utf-8"
    )
    engine = engine_factory(replies, min_score=0.05)
    engine.index([corpus])
    return engine


def test_retrieval_is_limited_to_the_chosen_documents(engine_factory, corpus):
    engine = indexed(engine_factory, corpus)
    everywhere = {p.source for p in engine.retrieve(EIFFEL)}
    assert {"paris.md", "guide/eiffel.md"} <= everywhere
    assert {p.source for p in engine.retrieve(EIFFEL, sources=["paris.md"])} == {"paris.md"}
    # a folder prefix, with or without its slash; a lone name is a list of one
    for folder in ("guide", "guide/", ["guide"]):
        assert {p.source for p in engine.retrieve(EIFFEL, sources=folder)} == {"guide/eiffel.md"}


def test_bm25_is_scoped_too_a_rare_word_outside_the_scope_is_not_found(engine_factory, corpus):
    engine = indexed(engine_factory, corpus)
    hits = engine.store.search("World's Fair", k=5, sources=["tea.txt"])
    assert hits and all(p.source == "tea.txt" for p in hits)


def test_an_answer_cites_only_the_chosen_document(engine_factory, corpus):
    engine = indexed(engine_factory, corpus, ["It was completed in 1889 [1]."])
    answer = engine.ask(EIFFEL, sources=["guide"])
    assert not answer.refused and answer.scope == ("guide/eiffel.md",)
    assert [c.source for c in answer.citations] == ["guide/eiffel.md"]
    assert answer.to_dict()["scope"] == ["guide/eiffel.md"]


def test_a_refusal_over_chosen_documents_says_the_others_were_not_searched(engine_factory, corpus):
    engine = indexed(engine_factory, corpus, ["I cannot answer that from the documents."])
    answer = engine.ask("How hot should green tea be?", sources=["paris.md"])
    assert answer.refused and answer.citations == ()
    assert "chosen documents (paris.md)" in answer.text
    assert "not searched" in answer.text


@pytest.mark.parametrize("bad", [["nope.md"], ["par"], ["guide/x"], [""], ["/"], []])
def test_an_unknown_or_empty_scope_is_an_error_before_any_work(engine_factory, corpus, bad):
    engine = indexed(engine_factory, corpus, ["unused [1]."])
    with pytest.raises(InputError) as err:
        engine.ask(EIFFEL, sources=bad)
    assert "document" in str(err.value)
    assert engine.generator.prompts == []  # the model was never asked


def test_a_document_is_read_by_name_with_the_offsets_citations_use(engine_factory, corpus):
    engine = indexed(engine_factory, corpus, ["It was completed in 1889 [1]."])
    answer = engine.ask(EIFFEL, sources=["guide/eiffel.md"])
    doc = engine.document("guide/eiffel.md")
    assert doc.title == "Tower Facts" and doc.source == "guide/eiffel.md"
    for c in answer.citations:
        assert doc.text[c.start : c.end] == c.text


def test_a_pdf_document_comes_with_its_pages(engine_factory, corpus):
    (corpus / "report.pdf").write_bytes(
        pdf_bytes(["Quarterly revenue was 12 million dollars.", "Costs fell by 3 percent."])
    )
    engine = indexed(engine_factory, corpus)
    doc = engine.document("report.pdf")
    assert len(doc.pages) == 2
    s, e = doc.pages[1]
    assert "Costs fell" in doc.text[s:e]
    (hit,) = [p for p in engine.retrieve("Costs fell by how much", sources=["report.pdf"])][:1]
    assert hit.page == 2 and doc.text[hit.start : hit.end] == hit.text


@pytest.mark.parametrize(
    "name", ["../docs/tea.txt", "/etc/passwd", "tea", "docs/tea.txt", "TEA.TXT", "guide"]
)
def test_only_indexed_documents_can_be_read_never_a_path(engine_factory, corpus, name):
    engine = indexed(engine_factory, corpus)
    with pytest.raises(UnknownDocumentError):
        engine.document(name)


def test_a_file_changed_since_indexing_is_not_shown_with_stale_offsets(engine_factory, corpus):
    engine = indexed(engine_factory, corpus)
    (corpus / "tea.txt").write_text("Something else entirely.\n", "utf-8")
    with pytest.raises(DocumentError, match="changed since it was indexed"):
        engine.document("tea.txt")
    (corpus / "tea.txt").unlink()
    with pytest.raises(DocumentError):
        engine.document("tea.txt")


def test_cli_ask_takes_repeatable_sources(engine_factory, corpus, tmp_path, capsys, monkeypatch):
    engine = indexed(engine_factory, corpus, ["It was completed in 1889 [1]."])
    monkeypatch.setattr(cli, "_engine", lambda args, **kw: engine)
    assert cli.main(["ask", EIFFEL, "--json", "-s", "guide", "--source", "paris.md"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["scope"]) == {"guide/eiffel.md", "paris.md"}
    assert cli.main(["ask", EIFFEL, "--source", "missing.md"]) == 1
    assert "missing.md" in capsys.readouterr().err


# -- HTTP ------------------------------------------------------------------------------


def test_api_lists_and_returns_documents(start):  # noqa: F811
    srv = start()
    status, _, text = fetch(srv.port, "/v1/documents")
    assert status == 200
    listed = {d["source"]: d for d in json.loads(text)["data"]}
    assert set(listed) == {"paris.md", "tea.txt"} and listed["tea.txt"]["chunks"] >= 1
    status, _, text = fetch(srv.port, "/v1/documents/paris.md")
    body = json.loads(text)
    assert status == 200 and body["title"] == "Paris Travel Notes"
    assert body["text"] == srv.engine.document("paris.md").text and body["pages"] == []


@pytest.mark.parametrize(
    "path",
    [
        "/v1/documents/../../etc/passwd",
        "/v1/documents/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/v1/documents/%252e%252e%252fetc%252fpasswd",
        "/v1/documents//etc/passwd",
        "/v1/documents/rag-index.json",
        "/v1/documents/nope.md",
    ],
)
def test_api_reads_only_indexed_documents(start, path):  # noqa: F811
    srv = start()
    status, _, text = fetch(srv.port, path)
    assert status in (400, 404), text
    assert "root:" not in text and "error" in json.loads(text)


def test_api_documents_need_the_key_like_the_chat(start):  # noqa: F811
    srv = start(key="k3y")
    assert fetch(srv.port, "/v1/documents/paris.md")[0] == 401
    status, _, _ = fetch(
        srv.port, "/v1/documents/paris.md", headers={"Authorization": "Bearer k3y"}
    )
    assert status == 200


def test_api_chat_takes_sources(start):  # noqa: F811
    srv = start(["The tower was completed in 1889 [1]."])
    resp = srv.ask(EIFFEL, extra_body={"sources": ["paris.md"]})
    assert [c["source"] for c in resp.citations] == ["paris.md"]
    for bad, match in (({"sources": ["nope.md"]}, "nope.md"), ({"sources": "paris.md"}, "list")):
        with pytest.raises(Exception, match=match):
            srv.ask(EIFFEL, extra_body=bad)
    with pytest.raises(Exception, match="nope.md"):
        srv.ask(EIFFEL, stream=True, extra_body={"sources": ["nope.md"]})
    assert len(srv.generator.prompts) == 1  # only the good request reached the model
