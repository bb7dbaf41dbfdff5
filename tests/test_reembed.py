"""An index remembers its embedder: another one is refused, or embeds every chunk again on
request, and an interrupted re-embedding never leaves old and new vectors searched together."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pytest

from index import IndexDirError, Store, sync
from index.store import MARKER, REEMBEDDING
from rag.errors import InputError
from rag.settings import Settings
from tests.fakes import FakeEmbedder


class OtherEmbedder(FakeEmbedder):
    """Another model: the same words land in other dimensions."""

    name = "fake-bow-256-other"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.roll(super().embed(texts), 7, axis=1)


class DiesAfter(OtherEmbedder):
    """Embeds `calls` batches, then fails as a killed process would stop."""

    def __init__(self, calls: int) -> None:
        super().__init__()
        self.left = calls

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self.left == 0:
            raise KeyboardInterrupt
        self.left -= 1
        return super().embed(texts)


def _vectors(store: Store) -> dict[str, np.ndarray]:
    ids = [cid for doc in store.documents().values() for cid in doc.chunk_ids]
    return {cid: np.asarray(v) for cid, v in store.embeddings(ids).items()}


def test_another_embedder_is_refused_with_the_way_out_and_nothing_changes(tmp_path, corpus):
    sync(Store(tmp_path / "db", FakeEmbedder()), [corpus])
    marker = (tmp_path / "db" / MARKER).read_text("utf-8")
    with pytest.raises(IndexDirError, match=r"rag index --reembed"):
        Store(tmp_path / "db", OtherEmbedder())
    assert (tmp_path / "db" / MARKER).read_text("utf-8") == marker
    assert Store(tmp_path / "db", FakeEmbedder()).search("capital of France")


def test_reembed_replaces_every_vector_and_keeps_every_document(tmp_path, corpus):
    old = Store(tmp_path / "db", FakeEmbedder())
    sync(old, [corpus])
    before, documents = _vectors(old), old.documents()
    store = Store(tmp_path / "db", OtherEmbedder(), reembed=True)
    assert store.reembedded == len(before) > 0
    assert json.loads((tmp_path / "db" / MARKER).read_text("utf-8"))["embedder"] == (
        OtherEmbedder.name
    )
    after = _vectors(store)
    assert after.keys() == before.keys()
    texts = dict(zip(after, store._texts(list(after)), strict=True))
    for cid, vector in after.items():
        assert np.allclose(vector, OtherEmbedder().embed([texts[cid]])[0], atol=1e-6)
        assert not np.allclose(vector, before[cid], atol=1e-3)
    assert store.documents() == documents
    assert store.search("capital of France")[0].source == "paris.md"
    # Opened again, it is this embedder's index: nothing more to do, the old one refused.
    assert Store(tmp_path / "db", OtherEmbedder(), reembed=True).reembedded == 0
    with pytest.raises(IndexDirError, match="fake-bow-256-other"):
        Store(tmp_path / "db", FakeEmbedder())


def test_an_interrupted_reembed_is_refused_until_finished(tmp_path, corpus, monkeypatch):
    monkeypatch.setattr("index.store._ADD_BATCH", 2)  # several batches from a small corpus
    sync(Store(tmp_path / "db", FakeEmbedder()), [corpus])
    with pytest.raises(KeyboardInterrupt):
        Store(tmp_path / "db", DiesAfter(calls=1), reembed=True)
    marker = json.loads((tmp_path / "db" / MARKER).read_text("utf-8"))
    assert marker[REEMBEDDING] == OtherEmbedder.name
    for embedder in (FakeEmbedder(), OtherEmbedder()):  # old and new vectors are mixed now
        with pytest.raises(IndexDirError, match="interrupted"):
            Store(tmp_path / "db", embedder)
    store = Store(tmp_path / "db", OtherEmbedder(), reembed=True)
    assert REEMBEDDING not in json.loads((tmp_path / "db" / MARKER).read_text("utf-8"))
    texts = dict(zip(_vectors(store), store._texts(list(_vectors(store))), strict=True))
    for cid, vector in _vectors(store).items():
        assert np.allclose(vector, OtherEmbedder().embed([texts[cid]])[0], atol=1e-6)


def test_the_backend_setting_names_its_choices():
    assert Settings.from_env({"RAG_EMBED_BACKEND": "onnx"}).embed_backend == "onnx"
    assert Settings.from_env({}, embed_backend="torch").embed_backend == "torch"
    with pytest.raises(InputError, match="torch or onnx or onnx-int8"):
        Settings.from_env({"RAG_EMBED_BACKEND": "cuda"})


def test_rag_index_reembed_from_the_command_line(tmp_path, corpus, monkeypatch, capsys):
    from rag import cli

    fakes = {"torch": FakeEmbedder, "onnx-int8": OtherEmbedder}
    monkeypatch.setattr("rag.engine.make_embedder", lambda backend, cache: fakes[backend]())
    db = str(tmp_path / "db")
    monkeypatch.setenv("RAG_EMBED_BACKEND", "torch")
    assert cli.main(["index", str(corpus), "--db", db, "-q"]) == 0
    monkeypatch.setenv("RAG_EMBED_BACKEND", "onnx-int8")
    capsys.readouterr()
    assert cli.main(["index", str(corpus), "--db", db, "-q"]) == 1
    assert "rag index --reembed" in capsys.readouterr().err
    assert cli.main(["index", str(corpus), "--db", db, "-q", "--reembed"]) == 0
    out = capsys.readouterr().out
    assert f"again with {OtherEmbedder.name}" in out and "2 unchanged" in out
