"""The Gradio chat: builds a `gr.Blocks` from a `RAG` object; launching is separate.

Callbacks only move text between the page and `RAG.stream`; there is no retrieval or
model logic here, so the app is tested with a fake engine and no server.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported

import gradio as gr  # noqa: E402
from starlette.datastructures import Headers  # noqa: E402
from starlette.responses import PlainTextResponse  # noqa: E402

from rag import RAG, SUPPORTED_SUFFIXES, Answer, InputError, RagError  # noqa: E402
from rag.safety.network import HeaderPolicy, require_secret  # noqa: E402

from . import conversations as saved  # noqa: E402
from .render import cited, render_answer, render_document, safe_code, safe_text  # noqa: E402

EXAMPLES = [
    "In which city was Meng Wanzhou arrested?",
    "What did Li Qiang call Carney's visit?",
    "What did Ontario Premier Doug Ford accuse Carney of?",
]
ChatMessages = list[dict[str, Any]]
CHAT_GROUP = "chat"  # the queue group of every event that runs the model
History = list[tuple[str, str]]


def describe(engine: RAG) -> str:
    info = engine.info()
    changed = info.get("updated")
    when = (
        f", changed {time.strftime('%Y-%m-%d %H:%M', time.localtime(changed))}" if changed else ""
    )
    return (
        f"Model: `{info['model']}` · Index: `{info['db']}` "
        f"({info['documents']} documents, {info['chunks']} chunks{when})"
    )


def make_respond(engine: RAG):
    """The chat callback: streams the answer into the last message, then its sources.

    Its fourth output is the last answer's citations (for "Open a source"); `sources`,
    the documents picked in the page (none: all), limits the question to them.
    """

    def respond(
        question: str,
        messages: ChatMessages | None,
        history: History | None,
        sources: list[str] | None = None,
        conversation: str | None = None,
        request: gr.Request | None = None,  # Gradio fills it in: the login's user name
    ) -> Iterator[tuple[str, ChatMessages, History, list[dict], str | None]]:
        messages = list(messages or [])
        history = list(history or [])
        messages.append({"role": "user", "content": safe_text(question or "")})
        messages.append({"role": "assistant", "content": "…"})
        yield "", messages, history, [], conversation
        streamed = ""
        try:
            saved_to, user = None, saved.user_of(request)
            if conversation is not None:  # "": the page's first question starts one
                # a bad question or scope must not leave an empty conversation behind
                engine.standalone_question(question or "")
                engine.resolve_sources(sources or None)
                saved_to = conversation or engine.conversations.create(user)
            events = engine.stream(
                question or "",
                history=history,
                sources=sources or None,
                conversation=saved_to,
                user=user,
            )  # the answer is saved to the conversation as soon as it is final
            for event in events:
                if isinstance(event, Answer):
                    messages[-1] = {"role": "assistant", "content": render_answer(event)}
                    history.append((event.question, event.text))
                    yield "", messages, history, cited(event), saved_to or conversation
                    return
                streamed += event.text  # checked: the answer's own words, shown as they pass
                messages[-1] = {"role": "assistant", "content": safe_text(streamed) + " …"}
                yield "", messages, history, [], saved_to or conversation
        except RagError as exc:
            messages[-1] = {"role": "assistant", "content": f"**Error:** {safe_text(str(exc))}"}
            yield question or "", messages, history, [], conversation

    return respond


def citation_choices(citations: list[dict] | None) -> Any:
    """The picker of "Open a source": one entry per citation of the last answer."""
    choices = [
        (f"[{c['n']}] {c['title']} ({c['source']}" + _page(c["page"]) + ")", i)
        for i, c in enumerate(citations or [])
    ]
    return gr.Dropdown(choices=choices, value=None, interactive=bool(choices))


def _page(page: int | None) -> str:
    return f", page {page}" if page else ""


def make_open_source(engine: RAG):
    """Show the document behind a citation, its cited span in bold; errors in words."""

    def open_source(choice: int | None, citations: list[dict] | None) -> str:
        if choice is None or not citations or not 0 <= int(choice) < len(citations):
            return "*Pick a source of the last answer to read it in its document.*"
        c = citations[int(choice)]
        try:
            doc = engine.document(c["source"])
        except RagError as exc:
            return f"**Cannot open `{safe_code(c['source'])}`:** {safe_text(str(exc))}"
        return render_document(doc, c["start"], c["end"], c.get("heading", ""))

    return open_source


def shows_demo(engine: RAG) -> bool:
    """Canned questions fit only the bundled news corpus (or the empty index it fills)."""
    return bool(engine.info()["demo"])


@dataclass
class DocumentsPanel:
    refresh: Callable[[], tuple]
    outputs: list[Any]


def document_rows(engine: RAG) -> list[list[Any]]:
    return [[d.title, d.source, len(d.chunk_ids)] for d in engine.documents()]


def make_upload(engine: RAG):
    """Index uploaded files, reporting progress; bad files are named, nothing is lost."""

    def upload(files: list[Any] | None, progress: gr.Progress | None = None) -> str:
        progress = progress or gr.Progress()
        paths = [Path(f if isinstance(f, str) else f.name) for f in files or []]
        if not paths:
            return "Choose one or more files first."
        stages = {"read": "Reading files", "embed": "Embedding chunks"}

        def note(event: Any) -> None:
            progress((event.done, max(event.total, 1)), desc=stages.get(event.stage, ""))

        try:
            report = engine.add_files(paths, progress=note)
        except RagError as exc:
            return f"**Not added:** {safe_text(str(exc))}"
        done = ", ".join(f"{v} {k}" for k, v in report.counts().items() if v)
        lines = [f"Indexed: {done or 'nothing new'} ({report.chunks_added} chunks)."]
        lines += [f"- `{safe_code(s)}`: {safe_text(r)}" for s, r in report.failed.items()]
        return "\n".join(lines)

    return upload


def make_remove(engine: RAG):
    def remove(source: str | None) -> str:
        if not source:
            return "Choose a document to remove."
        try:
            gone = engine.remove([source])
        except RagError as exc:
            return f"**Not removed:** {safe_text(str(exc))}"
        return f"Removed `{safe_code(source)}`." if gone else "That document is not indexed."

    return remove


def documents_panel(engine: RAG, status: gr.Markdown, scope: gr.Dropdown) -> DocumentsPanel:
    """Upload files into the index, list what is indexed, remove a document."""
    allowed = sorted(SUPPORTED_SUFFIXES)
    with gr.Accordion("Documents", open=False, elem_id="rag-documents"):
        table = gr.Dataframe(
            value=document_rows(engine),
            headers=["Title", "File", "Chunks"],
            interactive=False,
            wrap=True,
            elem_id="rag-doc-table",
        )
        files = gr.File(
            label=f"Add documents ({' '.join(allowed)}; up to "
            f"{engine.settings.max_file_mb} MB each)",
            file_count="multiple",
            file_types=allowed,
            elem_id="rag-upload",
        )
        add = gr.Button("Index these files", elem_id="rag-add")
        with gr.Row():
            choice = gr.Dropdown(
                choices=[d.source for d in engine.documents()],
                label="Remove a document from the index",
                scale=4,
                elem_id="rag-remove-choice",
            )
            drop = gr.Button("Remove", variant="stop", scale=1, elem_id="rag-remove")
        message = gr.Markdown(elem_id="rag-doc-message")

    def refresh() -> tuple:
        sources = [d.source for d in engine.documents()]
        # The question's picker keeps what is still indexed of the user's choice.
        return (
            document_rows(engine),
            gr.Dropdown(choices=sources, value=None),
            describe(engine),
            gr.Dropdown(choices=sources),
        )

    outputs = [table, choice, status, scope]
    # Index changes run one at a time (the index has one writer) in their own queue group,
    # so they never wait behind an answer; refreshing the list is cheap and unlimited.
    index_group = {"concurrency_id": "index", "concurrency_limit": 1, "api_visibility": "private"}
    cheap = {"concurrency_limit": None, "api_visibility": "private"}
    add.click(make_upload(engine), files, message, **index_group).then(
        refresh, None, outputs, **cheap
    ).then(lambda: None, None, files, **cheap)
    drop.click(make_remove(engine), choice, message, **index_group).then(
        refresh, None, outputs, **cheap
    )
    return DocumentsPanel(refresh, outputs)


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
        scope = gr.Dropdown(
            choices=[d.source for d in engine.documents()],
            multiselect=True,
            label="Ask only these documents (none chosen: all of them)",
            elem_id="rag-scope",
        )
        if shows_demo(engine):
            gr.Examples(EXAMPLES, inputs=box, label="Examples")
        new = gr.Button("New conversation", size="sm")
        last = gr.State([])  # the last answer's citations
        current = gr.State("")  # the open conversation's id ("": a new one, saved on asking)
        with gr.Accordion("Open a source", open=False, elem_id="rag-open"):
            pick = gr.Dropdown(
                choices=[], label="A source of the last answer", elem_id="rag-open-choice"
            )
            view = gr.Markdown(elem_id="rag-document")
        with gr.Accordion("Conversations", open=False, elem_id="rag-conversations"):
            listed = gr.Dropdown(
                choices=[], label="Saved conversations (newest first)", elem_id="rag-conv-list"
            )
            with gr.Row():
                reopen = gr.Button("Open", size="sm", elem_id="rag-conv-open")
                export = gr.Button("Export as Markdown", size="sm", elem_id="rag-conv-export")
                delete = gr.Button("Delete", size="sm", variant="stop", elem_id="rag-conv-delete")
            with gr.Row():
                title = gr.Textbox(
                    placeholder="New name", show_label=False, scale=4, elem_id="rag-conv-title"
                )
                rename = gr.Button("Rename", size="sm", scale=1, elem_id="rag-conv-rename")
            exported = gr.File(label="Markdown export", elem_id="rag-conv-file")
            conv_message = gr.Markdown(elem_id="rag-conv-message")
        docs = documents_panel(engine, status, scope)
        io = ([box, chatbot, history, scope, current], [box, chatbot, history, last, current])
        # Answers at once as the backend allows (one for the local model, which is
        # serialized anyway; RAG_CONCURRENCY for an LLM server), FIFO across both
        # triggers: the queue (unlike a lock) shows each waiting user their position.
        slots = engine.settings.answer_slots
        chat = {"concurrency_id": CHAT_GROUP, "concurrency_limit": slots}
        cheap = {"api_visibility": "private", "concurrency_limit": None}
        for event in (
            box.submit(respond, *io, api_name="ask", **chat),
            ask.click(respond, *io, api_visibility="private", **chat),
        ):
            event.then(citation_choices, last, pick, **cheap).then(
                saved.make_listing(engine), current, listed, **cheap
            )
        pick.change(make_open_source(engine), [pick, last], view, **cheap)
        reopen.click(
            saved.make_reopen(engine),
            listed,
            [chatbot, history, last, current, conv_message],
            **cheap,
        ).then(citation_choices, last, pick, **cheap)
        rename.click(saved.make_rename(engine), [listed, title], [listed, conv_message], **cheap)
        delete.click(
            saved.make_delete(engine),
            [listed, current],
            [listed, chatbot, history, last, current, conv_message],
            **cheap,
        )
        export.click(saved.make_export(engine), listed, [exported, conv_message], **cheap)
        new.click(
            lambda: ([], [], "", [], ""),
            None,
            [chatbot, history, box, last, current],
            api_visibility="private",
            concurrency_limit=None,  # cheap: never waits behind an answer
        )
        app.load(
            lambda: describe(engine), None, status, api_visibility="private", concurrency_limit=None
        )
        app.load(docs.refresh, None, docs.outputs, api_visibility="private", concurrency_limit=None)
        app.load(saved.make_listing(engine), None, listed, **cheap)
    return app


# Options a caller may pass through to Gradio; everything else is fixed by `launch()`.
LAUNCH_OPTIONS = frozenset(
    {"prevent_thread_lock", "quiet", "ssl_certfile", "ssl_keyfile", "ssl_keyfile_password"}
)
# Gradio's routes that read files or fetch URLs for the caller (paths with `//` collapsed).
_FILE_ROUTE = re.compile(r"/(?:gradio_api/)?file(?:=|/)(.*)", re.S)
_PROXY_ROUTE = re.compile(r"(?:^|/)proxy=", re.I)
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:", re.I)


def ui_login(
    engine: RAG, host: str, username: str | None = None, password: str | None = None
) -> tuple[str, str] | None:
    """The login the UI must demand: arguments, else settings. Off loopback one is required,
    because Gradio otherwise serves the documents and the model to the whole network."""
    user = engine.settings.ui_username if username is None else username
    secret = engine.settings.ui_password if password is None else password
    if bool(user) != bool(secret):
        raise InputError(
            "the web UI login needs both a username and a password "
            "(RAG_UI_USERNAME and RAG_UI_PASSWORD, or --username and --password-file)"
        )
    require_secret(
        host,
        bool(user),
        "the web UI",
        "a login",
        "RAG_UI_USERNAME and RAG_UI_PASSWORD (or rag ui --username U --password-file F)",
    )
    return (user, secret) if user else None


class RequestGuard:
    """The outermost ASGI layer: refuses, before Gradio sees them, requests Gradio would serve.

    - a `Host` that is not where the UI is bound, or an `Origin` of another site
      (`rag.safety.network`, the API's rules): DNS rebinding reaches 127.0.0.1 too, and
      Gradio reflects every origin with credentials while its login cookie is SameSite=None;
    - `/proxy=` and `/file=<URL>` (the server would fetch from the internet for the caller);
    - `/file=` outside Gradio's upload folder, whatever `GRADIO_ALLOWED_PATHS` says.
    """

    def __init__(self, app: Any, upload_dir: str | Path, host: str) -> None:
        self.app = app
        self.upload_dir = Path(upload_dir).resolve()
        self.policy = HeaderPolicy(host)  # the same Host/Origin rules as the API

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        reason = self.refusal(scope) if scope["type"] in ("http", "websocket") else None
        if reason is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            await PlainTextResponse(reason, status_code=403)(scope, receive, send)

    def refusal(self, scope: dict) -> str | None:
        """Why this request is refused, or None to pass it to Gradio."""
        headers = Headers(raw=list(scope.get("headers") or []))
        scheme = scope.get("scheme", "http")
        refused = self.policy.refusal(headers.get("host", ""), headers.get("origin"), scheme)
        if refused is not None:
            return refused.reason[0].upper() + refused.reason[1:] + "."
        path = re.sub(r"/{2,}", "/", scope.get("path", ""))
        if _PROXY_ROUTE.search(path):
            return "Proxying is disabled."
        match = _FILE_ROUTE.fullmatch(path)
        if match and not self.servable(match.group(1)):
            return "File not allowed."
        return None

    def servable(self, target: str) -> bool:
        """Only files Gradio itself wrote (uploads, outputs) may be downloaded."""
        if _SCHEME.match(target):
            return False
        try:
            Path(os.path.abspath(target)).resolve().relative_to(self.upload_dir)
        except (ValueError, OSError):
            return False
        return True


def _guard_lifespan(host: str):
    """Wraps the finished middleware stack at server start-up, before the first request:
    Gradio adds its own CORS middleware last, so only this layer can sit outside it."""

    @contextlib.asynccontextmanager
    async def lifespan(server_app: Any) -> AsyncIterator[None]:
        stack = server_app.middleware_stack or server_app.build_middleware_stack()
        server_app.middleware_stack = RequestGuard(stack, server_app.uploaded_file_dir, host)
        yield

    return lifespan


def launch(
    engine: RAG,
    host: str = "127.0.0.1",
    port: int = 7860,
    *,
    username: str | None = None,
    password: str | None = None,
    **options: Any,
) -> gr.Blocks:
    """Index the demo corpus if empty, load the models, then serve (blocking unless
    `prevent_thread_lock=True` is passed); returns the app so callers can `close()` it.

    Safe by construction: no share link, no analytics, no SSR/Node or MCP server, uploads
    capped at `max_file_mb`, and a login (arguments, else `ui_username`/`ui_password`)
    that is required off loopback. Bad options fail before anything is loaded.
    """
    unknown = sorted(set(options) - LAUNCH_OPTIONS)
    if unknown:
        raise InputError(f"launch() does not take {', '.join(unknown)}: these stay fixed")
    auth = ui_login(engine, host, username, password)
    blocking = not options.pop("prevent_thread_lock", False)
    engine.ensure_indexed()
    engine.warm_up()
    app = build_app(engine)
    app.queue(default_concurrency_limit=1, max_size=64)
    try:
        app.launch(
            server_name=host,
            server_port=port,
            auth=auth,
            share=False,
            inbrowser=False,
            show_error=False,
            prevent_thread_lock=True,
            max_file_size=engine.settings.max_file_bytes,
            footer_links=[],
            strict_cors=True,
            ssr_mode=False,
            mcp_server=False,
            num_workers=0,
            enable_monitoring=False,
            app_kwargs={"lifespan": _guard_lifespan(host)},
            **options,
        )
        if not isinstance(getattr(app.server_app, "middleware_stack", None), RequestGuard):
            app.close()
            raise RagError("the web UI's request guard did not install; refusing to serve")
        if blocking:
            app.block_thread()
    except KeyboardInterrupt:
        # Ctrl-C is how serving ends. Once blocking, Gradio's `block_thread` closes the
        # server and returns; a Ctrl-C a moment earlier (the page already served, `launch`
        # not yet blocking) ended the command with exit 130 instead, as a CI rehearsal's
        # offline UI test found under load. Now it ends the same way at either moment.
        app.close()
        if not blocking:
            raise
    return app
