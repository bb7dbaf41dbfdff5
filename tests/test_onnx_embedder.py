"""The ONNX embedders, exported here from the shipped weights: torch's vectors (fp32) or close
to them (int8), published once with a hash that is checked, and no torch at run time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index import SentenceTransformerEmbedder, bundled_corpus, make_embedder
from index.embedding import EmbedderError
from index.onnx_embedder import OnnxEmbedder

pytestmark = pytest.mark.real
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """Paragraphs of the bundled news and short sentences, as indexing and windows embed."""
    out: list[str] = []
    for file in sorted(bundled_corpus().rglob("*.txt"))[:12]:
        lines = [line.strip() for line in file.read_text("utf-8").splitlines() if line.strip()]
        long = [line for line in lines if len(line) > 200]
        out += long[:3] + [s for s in " ".join(lines).split(". ")[:3] if s]
    return out


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")  # one export per backend for the module


@pytest.fixture(scope="module")
def reference(texts: list[str]) -> np.ndarray:
    return SentenceTransformerEmbedder().embed(texts)


@pytest.mark.parametrize(
    ("backend", "worst", "mean"), [("onnx", 0.9999, 0.99999), ("onnx-int8", 0.98, 0.993)]
)
def test_the_exported_model_embeds_like_torch(cache, texts, reference, backend, worst, mean):
    embedder = make_embedder(backend, cache)
    vectors = embedder.embed(texts)
    cosine = (vectors * reference).sum(axis=1)
    assert vectors.shape == reference.shape and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert cosine.min() >= worst and cosine.mean() >= mean
    assert embedder.embed([]).shape == (0, reference.shape[1])
    # The nearest paragraph of each query is the one torch finds.
    assert (np.argmax(vectors @ vectors[:5].T, axis=0) == np.arange(5)).all()
    sidecar = json.loads(embedder.path.with_suffix(".json").read_text("utf-8"))
    assert len(sidecar["sha256"]) == 64


def test_a_damaged_export_is_replaced_and_no_torch_is_loaded_to_embed(cache, texts):
    first = OnnxEmbedder("onnx-int8", cache)
    expected = first.embed(texts[:3])
    with first.path.open("r+b") as fh:  # a disk error, or an edit, in the middle
        fh.seek(first.path.stat().st_size // 2)
        fh.write(b"\0" * 4096)
    again = OnnxEmbedder("onnx-int8", cache)
    assert np.allclose(again.embed(texts[:3]), expected, atol=1e-6)
    code = (
        "import sys; from index import make_embedder; "
        f"e = make_embedder('onnx-int8', {str(cache)!r}); e.embed(['a test']); "
        "print(sorted(m for m in ('torch', 'sentence_transformers') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "[]", out.stderr[-2000:]


def test_an_unknown_backend_is_refused():
    with pytest.raises(EmbedderError, match="onnx-int8"):
        make_embedder("tensorrt")
