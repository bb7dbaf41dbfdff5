"""The CLI is a thin shell: one-line errors, non-zero exits, JSON in the documented shape."""

from __future__ import annotations

import json
import re

import pytest

from rag import cli
from tests.fakes import make_engine


@pytest.fixture
def fake_cli(tmp_path, monkeypatch):
    engines = []

    def fake_engine(args, **extra):
        engine = make_engine(tmp_path, ["Paris is the capital of France [1]."])
        engines.append(engine)
        return engine

    monkeypatch.setattr(cli, "_engine", fake_engine)
    return engines


def test_help_explains_every_subcommand_and_option(capsys):
    for argv, expected in [
        ([], ["index", "docs", "remove", "ask", "ui"]),
        (["index"], ["--db", "--model", "--json", "--quiet", "PATH", ".pdf", ".docx"]),
        (["docs"], ["--db", "--json"]),
        (["remove"], ["SOURCE", "--db"]),
        (["ask"], ["--db", "--json", "--top-k", "question"]),
        (["ui"], ["--host", "--port", "127.0.0.1", "--db", "--username", "--password-file"]),
    ]:
        with pytest.raises(SystemExit) as exit_:
            cli.main([*argv, "--help"])
        assert exit_.value.code == 0
        out = capsys.readouterr().out
        for word in expected:
            assert word in out


def test_index_help_names_every_file_type_it_reads(capsys):
    from rag import SUPPORTED_SUFFIXES

    with pytest.raises(SystemExit):
        cli.main(["index", "--help"])
    listed = set(re.findall(r"\.[a-z]+\b", capsys.readouterr().out))
    assert listed >= SUPPORTED_SUFFIXES


def test_help_lists_every_setting_with_its_bounds(capsys):
    from rag import Settings

    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    for name in Settings.model_fields:
        assert f"RAG_{name.upper()} " in out
    assert "RAG_TOP_K passages given to the model (1 to 20); default 5" in out
    assert "web UI password (never printed) RAG_API_KEY" in out  # no default shown


def test_ask_json_has_the_documented_shape(fake_cli, corpus, capsys):
    assert cli.main(["index", str(corpus)]) == 0
    capsys.readouterr()
    assert cli.main(["ask", "What is the capital of France?", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"answer", "refused", "citations", "passages"} <= set(data)
    assert data["refused"] is False
    assert set(data["citations"][0]) == {"n", "source", "title", "text", "start", "end", "page"}
    assert data["citations"][0]["source"] == "paris.md"


def test_index_json_reports_counts(fake_cli, corpus, capsys):
    assert cli.main(["index", str(corpus), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["added"], report["unchanged"], report["failed"]) == (2, 0, 0)


def test_bad_input_is_one_line_on_stderr_and_exit_1(fake_cli, tmp_path, capsys):
    assert cli.main(["ask", "   "]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rag: error: ") and err.count("\n") == 1 and "empty" in err
    assert cli.main(["index", str(tmp_path / "nowhere")]) == 1
    assert "no such file or directory" in capsys.readouterr().err


def test_partial_failure_exit_code(fake_cli, corpus, capsys):
    (corpus / "junk.txt").write_bytes(b"\x00\x00\x00")
    assert cli.main(["index", str(corpus)]) == cli.EXIT_PARTIAL
    assert "junk.txt" in capsys.readouterr().err


def test_a_foreign_db_dir_is_a_clean_error(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("precious", "utf-8")
    assert cli.main(["index", "--db", str(tmp_path)]) == 1
    assert "not a rag index" in capsys.readouterr().err
    assert (tmp_path / "keep.txt").read_text("utf-8") == "precious"


def test_index_says_which_files_it_left_out_and_why(fake_cli, tmp_path, capsys):
    folder = tmp_path / "mixed"
    (folder / "img").mkdir(parents=True)
    (folder / "notes.md").write_text("# Notes\n\nThe depot opens at nine.\n", "utf-8")
    (folder / "plan.odt").write_bytes(b"PK\x03\x04 not read")
    (folder / "img" / "a.png").write_bytes(b"\x89PNG")
    (folder / "img" / "b.PNG").write_bytes(b"\x89PNG")
    (folder / "Makefile").write_text("all:\n", "utf-8")
    (folder / ".hidden.odt").write_bytes(b"PK")  # hidden files are not counted
    assert cli.main(["index", str(folder)]) == 0  # left out is no failure
    out = capsys.readouterr().out
    assert "1 added" in out
    assert "left out: 1 (no extension), 1 .odt, 2 .png" in out
    assert cli.main(["index", str(folder), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["skipped_types"] == {"(no extension)": 1, ".odt": 1, ".png": 2}
    assert report["failed"] == 0
