"""One settings object: defaults, then `RAG_*` environment variables, then arguments."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from index.onnx_embedder import BACKENDS

from .errors import InputError


def _physical_cores() -> int:
    """llama.cpp runs best with one thread per physical core, not per hyperthread."""
    try:
        cores = set()
        block: dict[str, str] = {}
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in [*fh, "\n"]:
                if not line.strip():
                    if "core id" in block:
                        cores.add((block.get("physical id", "0"), block["core id"]))
                    block = {}
                elif ":" in line:
                    key, _, value = line.partition(":")
                    block[key.strip()] = value.strip()
        if cores:
            return len(cores)
    except OSError:
        pass
    return max(1, (os.cpu_count() or 2) // 2)


def _data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "rag"


def _cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rag"


# Answers at once against an OpenAI-compatible LLM server when RAG_CONCURRENCY is 0 (auto).
REMOTE_CONCURRENCY = 4


@dataclass(frozen=True)
class Settings:
    """Every knob that matters, each with a `RAG_<NAME>` environment variable."""

    db: Path = _data_home() / "index"  # where the index lives
    model: str = "default"  # preset name (default, small) or a path to a .gguf file
    model_sha256: str = ""  # expected sha256 of a custom GGUF (checked when given)
    cache_dir: Path = _cache_home()  # where preset GGUF files are assembled
    top_k: int = 5  # passages given to the model (1-20)
    min_score: float = 0.25  # refuse without the model when no passage is this close (cosine)
    # ...and none holds half of the question's distinctive words (see pipeline.LEXICAL_EVIDENCE)
    ctx: int = 4096  # llama.cpp context tokens (512-32768)
    threads: int = _physical_cores()  # llama.cpp threads
    max_tokens: int = 320  # longest answer, in tokens (16-4096)
    # Passage text of a first try (0: all top_k; see pipeline.Pipeline.select). Chosen on every set
    # together: 450 holds the answer for 0.92 dev, 0.80 html, 0.82 docs, 0.47 pdf of
    # questions whose answer is in the top 5 (150: 0.85, 0.80, 0.65, 0.35), at a median
    # of ~350 passage tokens against ~400-700 for all five; a refusal retries with all.
    context_tokens: int = 450
    draft_tokens: int = 0  # prompt-lookup speculative decoding (0: off; slower on 2 cores)
    # Sentences kept either side of a chunk's best sentence; 0: whole chunks, overlapping
    # ones merged. Windows cut answers away (list items, table rows, a number two
    # sentences on): whole chunks raised recall@5 on docs from 0.47 to 0.82, pdf 0.24-0.65.
    window: int = 0
    max_question_chars: int = 1000  # longer questions are refused with an error
    # Embedding runtime: torch, onnx (the same vectors) or onnx-int8 (see index.onnx_embedder).
    embed_backend: str = "onnx-int8"
    chunk_chars: int = 700  # longest chunk when indexing (200-4000)
    max_file_mb: int = 20  # larger files are skipped when indexing and refused on upload
    ui_username: str = ""  # web UI login; required (with the password) off loopback
    ui_password: str = field(default="", repr=False)  # never printed with the settings
    api_key: str = field(default="", repr=False)  # `rag serve`: required bearer key when set
    # Scale-out on existing engines (empty: everything in this process).
    chroma_url: str = ""  # a Chroma server, e.g. http://127.0.0.1:8000
    llm_url: str = ""  # an OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1
    llm_model: str = ""  # model name sent to that server (default: its first model)
    llm_api_key: str = field(default="", repr=False)  # bearer key for that server
    # Answers generated at once by the UI (0: follow the backend: 1 for the local GGUF,
    # whose llama.cpp context serves one request at a time, REMOTE_CONCURRENCY for an
    # LLM server, which queues and batches requests itself).
    concurrency: int = 0

    @property
    def answer_slots(self) -> int:
        """How many answers may be generated at once (see `concurrency`)."""
        if not self.llm_url:
            return 1  # a local llama.cpp context: more would only wait on its lock
        return self.concurrency or REMOTE_CONCURRENCY

    _BOUNDS = {
        "top_k": (1, 20),
        "min_score": (-1.0, 1.0),
        "ctx": (512, 32768),
        "threads": (1, 256),
        "max_tokens": (16, 4096),
        "window": (0, 10),
        "draft_tokens": (0, 32),
        "context_tokens": (0, 32768),
        "max_question_chars": (10, 100_000),
        "chunk_chars": (200, 4000),
        "max_file_mb": (1, 2048),
        "concurrency": (0, 64),
    }

    _CHOICES = {"embed_backend": BACKENDS}

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults < environment < explicit arguments (None arguments are ignored)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"RAG_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **{k: cls._coerce(k, v) for k, v in values.items()})

    @classmethod
    def _coerce(cls, name: str, value: Any) -> Any:
        kinds = {f.name: f.type for f in fields(cls)}
        if name not in kinds:
            raise InputError(f"unknown setting {name!r}")
        kind = kinds[name]
        try:
            if kind == "Path":
                return Path(value).expanduser()
            if kind == "int":
                value = int(value)
            elif kind == "float":
                value = float(value)
            elif name in cls._CHOICES:
                if str(value) not in cls._CHOICES[name]:
                    raise ValueError
                return str(value)
            else:
                return str(value)
        except (TypeError, ValueError) as exc:
            what = " or ".join(cls._CHOICES[name]) if name in cls._CHOICES else f"a {kind}"
            raise InputError(
                f"setting {name} (RAG_{name.upper()}): {value!r} is not {what}"
            ) from exc
        lo, hi = cls._BOUNDS[name]
        if not lo <= value <= hi:
            raise InputError(f"setting {name} (RAG_{name.upper()}) must be in [{lo}, {hi}]")
        return value
