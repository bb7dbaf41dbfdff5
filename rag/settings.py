"""One settings object: defaults, then `RAG_*` environment variables, then arguments.

Each setting is declared once, with its type, bounds and help text (pydantic-settings
reads and validates the environment); a bad value is an `InputError` naming its variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

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


class Settings(BaseSettings):
    """Every knob that matters, each with a `RAG_<NAME>` environment variable."""

    model_config = SettingsConfigDict(
        env_prefix="RAG_", frozen=True, extra="forbid", env_ignore_empty=True
    )

    db: Path = Field(default_factory=lambda: _data_home() / "index", description="index directory")
    model: str = Field("default", description="preset (default, small) or a path to a .gguf")
    model_sha256: str = Field("", description="expected sha256 of a custom GGUF (checked)")
    cache_dir: Path = Field(
        default_factory=_cache_home, description="where preset GGUF files are assembled"
    )
    top_k: int = Field(5, ge=1, le=20, description="passages given to the model")
    min_score: float = Field(
        0.25,
        ge=-1.0,
        le=1.0,
        description="refuse without asking the model when no passage is this close "
        "(cosine) and none holds half of the question's distinctive words",
    )
    ctx: int = Field(4096, ge=512, le=32768, description="llama.cpp context tokens")
    threads: int = Field(
        default_factory=_physical_cores, ge=1, le=256, description="llama.cpp threads"
    )
    max_tokens: int = Field(320, ge=16, le=4096, description="longest answer, in tokens")
    # Chosen on every set together: 450 holds the answer for 0.92 dev, 0.80 html, 0.82
    # docs, 0.47 pdf of questions whose answer is in the top 5 (150: 0.85, 0.80, 0.65,
    # 0.35), at a median of ~350 passage tokens against ~400-700 for all five.
    context_tokens: int = Field(
        450,
        ge=0,
        le=32768,
        description="passage tokens of a first try (0: all top_k); a refusal retries with "
        "all of them (see pipeline.Pipeline.select)",
    )
    draft_tokens: int = Field(
        0, ge=0, le=32, description="prompt-lookup speculative decoding (0: off; slower on 2 cores)"
    )
    # Windows cut answers away (list items, table rows, a number two sentences on): whole
    # chunks raised recall@5 on docs from 0.47 to 0.82, pdf 0.24-0.65.
    window: int = Field(
        0,
        ge=0,
        le=10,
        description="sentences kept either side of a chunk's best sentence (0: whole "
        "chunks, overlapping ones merged)",
    )
    max_question_chars: int = Field(
        1000, ge=10, le=100_000, description="longer questions are refused with an error"
    )
    embed_backend: str = Field(
        "onnx-int8",
        description="embedding runtime: torch, onnx (the same vectors) or onnx-int8",
    )
    chunk_chars: int = Field(700, ge=200, le=4000, description="longest chunk when indexing")
    max_file_mb: int = Field(
        20, ge=1, le=2048, description="larger files are skipped when indexing, refused on upload"
    )
    ui_username: str = Field("", description="web UI login; required off loopback")
    ui_password: str = Field("", repr=False, description="web UI password (never printed)")
    api_key: str = Field("", repr=False, description="`rag serve`: required bearer key when set")
    # Scale-out on existing engines (empty: everything in this process).
    chroma_url: str = Field("", description="a Chroma server, e.g. http://127.0.0.1:8000")
    llm_url: str = Field(
        "", description="an OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1"
    )
    llm_model: str = Field("", description="model name sent to that server (default: its first)")
    llm_api_key: str = Field("", repr=False, description="bearer key for that server")
    concurrency: int = Field(
        0,
        ge=0,
        le=64,
        description="answers generated at once by the UI (0: 1 for the local GGUF, whose "
        "llama.cpp context serves one request at a time; REMOTE_CONCURRENCY for a server)",
    )

    @field_validator("embed_backend")
    @classmethod
    def _backend(cls, value: str) -> str:
        if value not in BACKENDS:
            raise ValueError(f"must be {' or '.join(BACKENDS)}")
        return value

    @field_validator("db", "cache_dir")
    @classmethod
    def _home(cls, value: Path) -> Path:
        return Path(value).expanduser()

    @property
    def answer_slots(self) -> int:
        """How many answers may be generated at once (see `concurrency`)."""
        if not self.llm_url:
            return 1  # a local llama.cpp context: more would only wait on its lock
        return self.concurrency or REMOTE_CONCURRENCY

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults < environment (`env`, default `os.environ`) < explicit arguments
        (None arguments are ignored)."""
        unknown = sorted(set(overrides) - set(cls.model_fields))
        if unknown:
            raise InputError(f"unknown setting {unknown[0]!r}")
        given = {k: v for k, v in overrides.items() if v is not None}
        if env is not None:  # an explicit environment only: os.environ is not read
            for name in cls.model_fields:
                raw = env.get(f"RAG_{name.upper()}")
                if raw not in (None, "") and name not in given:
                    given[name] = raw
            return cls._build(given, read_environ=False)
        return cls._build(given)

    @classmethod
    def _build(cls, values: dict[str, Any], read_environ: bool = True) -> Settings:
        token = _READ_ENVIRON.set(read_environ)
        try:
            return cls(**values)
        except ValidationError as exc:
            raise InputError(_explain(exc)) from exc
        finally:
            _READ_ENVIRON.reset(token)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then `RAG_*` variables (unless an explicit environment was given);
        never a .env file or a secrets folder."""
        return (init_settings, env_settings) if _READ_ENVIRON.get() else (init_settings,)


# False while `from_env` builds from an explicit environment mapping instead of os.environ
_READ_ENVIRON: ContextVar[bool] = ContextVar("rag_settings_read_environ", default=True)


def bounds(name: str) -> tuple[Any, Any] | None:
    """A setting's (lowest, highest) allowed value as its Field declares them (ge, le);
    None for a setting without both: error messages and `rag --help` read them here."""
    field = Settings.model_fields.get(name)
    found = {type(m).__name__: m for m in field.metadata} if field else {}
    if "Ge" not in found or "Le" not in found:
        return None
    return found["Ge"].ge, found["Le"].le


def _explain(exc: ValidationError) -> str:
    """The first problem, naming the setting and its variable as a user sets it."""
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else "?"
    if error["type"] == "extra_forbidden":
        return f"unknown setting {name!r}"
    span = bounds(name)
    if error["type"] in ("greater_than_equal", "less_than_equal") and span:
        return f"setting {name} (RAG_{name.upper()}) must be in [{span[0]}, {span[1]}]"
    reason = str(error["msg"]).removeprefix("Value error, ")
    return f"setting {name} (RAG_{name.upper()}): {error.get('input')!r}: {reason}"
