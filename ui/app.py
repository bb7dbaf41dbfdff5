"""The Gradio chat: builds a `gr.Blocks` from a `RAG` object; launching is separate.

Callbacks only move text between the page and `RAG.stream`; there is no retrieval or
model logic here, so the app is tested with a fake engine and no server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported

import gradio as gr  # noqa: E402

from rag import RAG, Answer, RagError  # noqa: E402

from .render import render_answer, safe_text  # noqa: E402

EXAMPLES = [
    "In which city was Meng Wanzhou arrested?",
    "What did Li Qiang call Carney's visit?",
    "What did Ontario Premier Doug Ford accuse Carney of?",
]
ChatMessages = list[dict[str, Any]]
History = list[tuple[str, str]]


def describe(engine: RAG) -> str:
    info = engine.info()
    return (
        f"Model: `{info['model']}` · Index: `{info['db']}` "
        f"({info['documents']} documents, {info['chunks']} chunks)"
    )


def make_respond(engine: RAG):
    """The chat callback: streams the answer into the last message, then its sources."""

    def respond(
        question: str, messages: ChatMessages | None, history: History | None
    ) -> Iterator[tuple[str, ChatMessages, History]]:
        messages = list(messages or [])
        history = list(history or [])
        messages.append({"role": "user", "content": safe_text(question or "")})
        messages.append({"role": "assistant", "content": "…"})
        yield "", messages, history
        streamed = ""
        try:
            for event in engine.stream(question or "", history=history):
                if isinstance(event, Answer):
                    messages[-1] = {"role": "assistant", "content": render_answer(event)}
                    history.append((event.question, event.text))
                else:
                    streamed += event
                    messages[-1] = {"role": "assistant", "content": safe_text(streamed)}
                yield "", messages, history
        except RagError as exc:
            messages[-1] = {"role": "assistant", "content": f"**Error:** {safe_text(str(exc))}"}
            yield question or "", messages, history

    return respond


def build_app(engine: RAG) -> gr.Blocks:
    """The whole page, wired to `engine`; call `.launch()` (or `launch()`) to serve it."""
    respond = make_respond(engine)
    with gr.Blocks(title="rag · ask your documents", analytics_enabled=False) as app:
        gr.Markdown(
            "## Ask your documents\nAnswers come only from the indexed passages, "
            "each claim cited as [n] with its source below."
        )
        status = gr.Markdown(describe(engine), elem_id="rag-status")
        chatbot = gr.Chatbot(
            label="Conversation", height=560, sanitize_html=True, elem_id="rag-chat"
        )
        history = gr.State([])
        with gr.Row():
            box = gr.Textbox(
                placeholder="Ask a question about the documents…",
                show_label=False,
                scale=8,
                max_length=engine.settings.max_question_chars,
                elem_id="rag-question",
            )
            ask = gr.Button("Ask", variant="primary", scale=1, elem_id="rag-ask")
        gr.Examples(EXAMPLES, inputs=box, label="Examples")
        new = gr.Button("New conversation", size="sm")
        io = ([box, chatbot, history], [box, chatbot, history])
        box.submit(respond, *io, api_name="ask")
        ask.click(respond, *io, api_visibility="private")
        new.click(lambda: ([], [], ""), None, [chatbot, history, box], api_visibility="private")
        app.load(lambda: describe(engine), None, status, api_visibility="private")
    return app


def launch(engine: RAG, host: str = "127.0.0.1", port: int = 7860, **kwargs: Any) -> gr.Blocks:
    """Index the demo corpus if empty, load the models, then serve (blocking unless
    `prevent_thread_lock=True` is passed); returns the app so callers can `close()` it."""
    engine.ensure_indexed()
    engine.warm_up()
    app = build_app(engine)
    app.queue(default_concurrency_limit=1, max_size=64)
    app.launch(
        server_name=host,
        server_port=port,
        share=False,
        inbrowser=False,
        show_error=False,
        max_file_size="20mb",
        footer_links=[],
        **kwargs,
    )
    return app
