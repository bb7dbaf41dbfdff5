"""The language model behind the answers: one `Generator` interface (base.py), the local
GGUF through llama.cpp (llamacpp.py), an OpenAI-compatible server (openai.py), and the
model files assembled from their PyPI parts and verified (models.py)."""

from .base import MESSAGE_OVERHEAD, ChatStream, Generator, Message, estimate_tokens
from .llamacpp import LlamaCppGenerator
from .models import PRESETS, Preset, resolve_model

__all__ = [
    "MESSAGE_OVERHEAD",
    "PRESETS",
    "ChatStream",
    "Generator",
    "LlamaCppGenerator",
    "Message",
    "Preset",
    "estimate_tokens",
    "resolve_model",
]
