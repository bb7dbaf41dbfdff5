"""The Gradio web UI. Knows `rag`'s public API only: no Chroma, no llama.cpp."""

from .app import build_app, launch, make_respond

__all__ = ["build_app", "launch", "make_respond"]
