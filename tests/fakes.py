"""Fakes, not mocks: a deterministic bag-of-words embedder and a scripted chat model; and
where the quality gates leave their reports."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from rag import RAG
from rag.evaluation import EvalReport

DATA = Path(__file__).resolve().parent / "data"


def artifacts() -> Path:
    """Where tests leave what a person reads after a run: $RAG_ARTIFACTS or tests/artifacts."""
    folder = Path(os.environ.get("RAG_ARTIFACTS") or DATA.parent / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_report(name: str, report: EvalReport) -> None:
    """A quality gate's metrics and rows, kept whether it passes or not: a passing run is
    also a measurement (`rag eval`'s own table and metrics)."""
    path = artifacts() / f"quality-{name}.txt"
    path.write_text(json.dumps(report.metrics(), indent=1) + "\n" + report.table() + "\n", "utf-8")


class FakeEmbedder:
    """Hashes words into a 256-d vector: texts sharing words are similar, deterministically."""

    name = "fake-bow-256"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), 256), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                h = int(hashlib.md5(word.encode()).hexdigest(), 16)
                out[i, h % 256] += 1.0
            norm = np.linalg.norm(out[i])
            out[i] = out[i] / norm if norm else out[i]
            if not norm:
                out[i, 0] = 1.0
        return out


class FakeGenerator:
    """Returns queued replies in small deltas and records every prompt it was given."""

    name = "fake-llm"

    def __init__(self, replies: Sequence[str] = ()) -> None:
        self.replies = list(replies)
        self.prompts: list[list[dict[str, str]]] = []

    def count_tokens(self, messages: Sequence[dict[str, str]]) -> int:
        return sum(len(m["content"].split()) for m in messages)

    def stream_chat(
        self, messages: Sequence[dict[str, str]], *, max_tokens: int, temperature: float
    ) -> Iterator[str]:
        self.prompts.append(list(messages))
        reply = self.replies.pop(0) if self.replies else "I cannot answer that from the documents."
        for i in range(0, len(reply), 7):
            yield reply[i : i + 7]


def make_engine(tmp_path: Path, replies: Sequence[str] = (), **overrides) -> RAG:
    """An engine on the fakes; `generator=` replaces the scripted one."""
    return RAG.open(
        db=tmp_path / "db",
        embedder=FakeEmbedder(),
        generator=overrides.pop("generator", None) or FakeGenerator(replies),
        cache_dir=tmp_path / "cache",
        **{"min_score": 0.05, **overrides},
    )
