"""`rag index --watch`: the index follows a folder as files are added, edited, renamed and
deleted, with the guarantees of an ordinary index run; Ctrl-C stops it cleanly."""

from __future__ import annotations

import threading
import time

import pytest

from rag import cli, watch
from rag.errors import RagError
from tests.fakes import make_engine


def wait_for(condition, reports, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out; reports so far: {reports}"
        time.sleep(0.05)


def settled(reports: list, quiet: float = 0.6) -> int:
    """The number of runs once none has been reported for `quiet` seconds."""
    n = -1
    while n != len(reports):
        n = len(reports)
        time.sleep(quiet)
    return n


@pytest.mark.slow
def test_the_index_follows_a_folder_until_stopped(tmp_path, corpus):
    engine = make_engine(tmp_path)
    reports: list = []
    stop = threading.Event()
    watcher = threading.Thread(
        target=watch.watch,
        args=(engine, [corpus], reports.append, stop),
        kwargs={"debounce_ms": 100},
    )
    watcher.start()
    try:
        sources = lambda: {d.source for d in engine.documents()}  # noqa: E731
        wait_for(lambda: sources() == {"paris.md", "tea.txt"}, reports)
        time.sleep(0.3)  # the watcher is set up once the first run has finished

        (corpus / "rome.md").write_text("# Rome\n\nRome is the capital of Italy.\n", "utf-8")
        wait_for(lambda: "rome.md" in sources(), reports)

        (corpus / "rome.md").write_text("# Rome\n\nRome has the Colosseum.\n", "utf-8")
        wait_for(lambda: any("Colosseum" in p.text for p in engine.retrieve("Colosseum")), reports)

        (corpus / "rome.md").rename(corpus / "roma.md")
        wait_for(lambda: sources() == {"paris.md", "tea.txt", "roma.md"}, reports)

        (corpus / "tea.txt").unlink()
        wait_for(lambda: sources() == {"paris.md", "roma.md"}, reports)
        runs = settled(reports)
        (corpus / "notes.bin").write_bytes(b"\x00\x01")  # not a document: no run at all
        time.sleep(0.8)
        assert len(reports) == runs
    finally:
        stop.set()
        watcher.join(10)
    assert not watcher.is_alive()
    assert all(not isinstance(r, RagError) and not r.failed for r in reports), reports


def test_a_missing_folder_is_an_error_before_watching(tmp_path):
    with pytest.raises(RagError, match="no such file or directory"):
        watch.watch(make_engine(tmp_path), [tmp_path / "nope"], print)


def test_cli_watch_prints_a_line_per_run_and_ctrl_c_exits_cleanly(
    tmp_path, corpus, monkeypatch, capsys
):
    engine = make_engine(tmp_path)
    monkeypatch.setattr(cli, "_engine", lambda args, **kw: engine)

    def one_run_then_ctrl_c(engine, paths, on_report, *args, **kw):
        on_report(engine.index(paths))
        on_report(RagError("index is locked by pid 1"))
        raise KeyboardInterrupt

    monkeypatch.setattr(watch, "watch", one_run_then_ctrl_c)
    assert cli.main(["index", "--watch", str(corpus)]) == 0
    out, err = capsys.readouterr()
    assert f"watching {corpus}" in out and "2 added" in out
    assert "not indexed: index is locked by pid 1" in err and "stopped watching" in err
