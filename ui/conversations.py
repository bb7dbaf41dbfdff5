"""The "Conversations" panel: saved chats listed newest first, reopened with their sources,
renamed, deleted and exported as Markdown. Each user (the UI login's name; "" without a
login) sees only their own: every call passes the request's user to `engine.conversations`.
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path
from typing import Any

import gradio as gr

from rag import RAG, RagError

from .render import cited, render_answer, safe_text

ChatMessages = list[dict[str, Any]]


def user_of(request: gr.Request | None) -> str:
    return (getattr(request, "username", None) or "") if request is not None else ""


def choices(engine: RAG, request: gr.Request | None = None, value: str | None = None) -> Any:
    """The list, most recent first: "title · date (n turns)"."""
    items = [
        (f"{c.title or 'Untitled'} · {time.strftime('%Y-%m-%d %H:%M', time.localtime(c.updated))}"
         f" ({c.turns} turn{'s' * (c.turns != 1)})", c.id)
        for c in engine.conversations.list(user_of(request))
        if c.turns
    ]  # fmt: skip
    return gr.Dropdown(choices=items, value=value if value in {v for _, v in items} else None)


def make_listing(engine: RAG):
    """Refresh the list, keeping `current` (the open conversation) selected."""

    def listing(current: str | None = None, request: gr.Request | None = None) -> Any:
        return choices(engine, request, current)

    return listing


def make_reopen(engine: RAG):
    """A saved conversation back in the chat: its turns rendered with their sources, its
    history for follow-ups, and it stays the current one (new turns are added to it)."""

    def reopen(
        cid: str | None, request: gr.Request | None = None
    ) -> tuple[ChatMessages, list, list, str, str]:
        if not cid:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), "Choose a conversation first."
        try:
            conv = engine.conversations.get(cid, user_of(request))
        except RagError as exc:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), f"**{safe_text(str(exc))}**"
        messages: ChatMessages = []
        for a in conv.answers:
            messages.append({"role": "user", "content": safe_text(a.question)})
            messages.append({"role": "assistant", "content": render_answer(a)})
        last = cited(conv.answers[-1]) if conv.answers else []
        return messages, conv.history(), last, cid, f"Opened “{safe_text(conv.title)}”."

    return reopen


def make_rename(engine: RAG):
    def rename(cid: str | None, title: str, request: gr.Request | None = None) -> tuple[Any, str]:
        if not cid:
            return gr.skip(), "Choose a conversation first."
        try:
            engine.conversations.rename(cid, title or "", user_of(request))
        except RagError as exc:
            return gr.skip(), f"**Not renamed:** {safe_text(str(exc))}"
        return choices(engine, request, cid), "Renamed."

    return rename


def make_delete(engine: RAG):
    """Delete the chosen conversation; if it is the open one, the chat is cleared too."""

    def delete(
        cid: str | None, current: str, request: gr.Request | None = None
    ) -> tuple[Any, Any, Any, Any, str, str]:
        if not cid:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), "Choose one first."
        try:
            engine.conversations.delete(cid, user_of(request))
        except RagError as exc:
            skip = gr.skip()
            return skip, skip, skip, skip, skip, f"**Not deleted:** {safe_text(str(exc))}"
        listed = choices(engine, request)
        if cid == current:
            return listed, [], [], [], "", "Deleted; the chat is cleared."
        return listed, gr.skip(), gr.skip(), gr.skip(), gr.skip(), "Deleted."

    return delete


def make_export(engine: RAG):
    """The chosen conversation as a Markdown file to download, with its citations.

    The files go to one directory per page, removed with it (at the latest when the
    process ends): an exported conversation is private text, and Gradio serves its own
    copy of each. A directory per export left one behind in /tmp for every click."""
    root = tempfile.TemporaryDirectory(prefix="rag-export-")

    def export(cid: str | None, request: gr.Request | None = None) -> tuple[Any, str]:
        if not cid:
            return None, "Choose a conversation first."
        try:
            conv = engine.conversations.get(cid, user_of(request))
            text = engine.conversations.markdown(cid, user_of(request))
        except RagError as exc:
            return None, f"**Not exported:** {safe_text(str(exc))}"
        name = re.sub(r"[^\w.-]+", "-", conv.title).strip("-")[:60] or "conversation"
        path = Path(tempfile.mkdtemp(dir=root.name)) / f"{name}.md"  # same titles, two files
        path.write_text(text, "utf-8")
        return str(path), "Exported: download it below."

    return export
