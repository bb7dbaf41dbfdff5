"""The `rag` command: a thin shell over `RAG`. Errors become one line and a non-zero exit."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputError, RagError

if TYPE_CHECKING:
    from index import IndexReport

EXIT_ERROR = 1
EXIT_PARTIAL = 3  # indexing finished but some files failed


def _settings_help() -> str:
    """Every setting's variable, help text, bounds and default, as `Settings` declares them."""
    import textwrap

    from .settings import Settings, bounds

    lines = ["settings (environment variables; arguments override them):"]
    for name, field in Settings.model_fields.items():
        text = str(field.description)
        span = bounds(name)
        if span:
            text += f" ({span[0]} to {span[1]})"
        if (
            field.repr is not False
            and field.default not in ("", None)
            and not field.default_factory
        ):
            text += f"; default {field.default}"
        wrapped = textwrap.wrap(text, 64) or [""]
        lines.append(f"  RAG_{name.upper():22} {wrapped[0]}")
        lines += [" " * 29 + more for more in wrapped[1:]]
    return "\n".join(lines)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        metavar="DIR",
        help="index directory (default: $RAG_DB, else ~/.local/share/rag/index)",
    )
    p.add_argument(
        "--model",
        metavar="NAME|PATH",
        help="LLM: preset 'default' or 'small', or a path to a .gguf file (default: $RAG_MODEL)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag",
        description="Ask questions about your documents; answers cite the passages they use. "
        "Runs fully offline with a local model.",
        epilog=_settings_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("index", help="index files and folders (default: the bundled corpus)")
    p.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        # Spelled out, not read from index.readers: importing `index` costs a second at
        # every `--help`; test_index_help_names_every_file_type_it_reads keeps it whole.
        help="files or folders (.md .markdown .mdx .txt .text .rst .adoc .asciidoc .org .html "
        ".htm .pdf .docx); a folder is mirrored: files "
        "deleted from it are removed from the index. Default: the bundled demo corpus",
    )
    _add_common(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bars (also off when not a terminal)"
    )
    p.add_argument(
        "--reembed",
        action="store_true",
        help="an index built by another embedder (RAG_EMBED_BACKEND) is embedded again with "
        "this one from its stored texts, before indexing",
    )
    p.add_argument(
        "-w",
        "--watch",
        action="store_true",
        help="keep indexing: after the first run, index again whenever files in PATHs are "
        "added, edited, renamed or deleted (one line per run); Ctrl-C stops",
    )

    p = sub.add_parser("docs", help="list the indexed documents")
    _add_common(p)
    p.add_argument("--json", action="store_true", help="print the list as JSON")

    p = sub.add_parser("remove", help="remove documents from the index (files are not touched)")
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="names as `rag docs` lists them")
    _add_common(p)

    p = sub.add_parser("ask", help="answer a question from the indexed documents")
    p.add_argument("question", help="the question, in quotes")
    _add_common(p)
    p.add_argument(
        "--json", action="store_true", help="print the answer, citations and passages as JSON"
    )
    p.add_argument(
        "-k", "--top-k", type=int, metavar="N", help="passages to give the model (default 5)"
    )
    p.add_argument(
        "-s",
        "--source",
        action="append",
        metavar="NAME",
        help="ask only this document, or the documents in this folder (as `rag docs` "
        "lists them); repeat to choose several",
    )

    p = sub.add_parser("eval", help="score a question file (the dev.jsonl format)")
    p.add_argument("file", metavar="FILE.jsonl", help="questions, one JSON object per line")
    _add_common(p)
    p.add_argument("--json", action="store_true", help="print metrics and rows as JSON")
    p.add_argument("-k", type=int, default=5, metavar="N", help="recall@N cut-off (default 5)")

    p = sub.add_parser(
        "ui", help="start the web UI (indexes the bundled corpus if the index is empty)"
    )
    _add_common(p)
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument(
        "--username",
        metavar="U",
        help="login name for the web page (default: $RAG_UI_USERNAME); a login is required "
        "when --host is not a loopback address",
    )
    p.add_argument(
        "--password-file",
        metavar="FILE",
        help="read the login password from the first line of FILE ('-': standard input) "
        "instead of $RAG_UI_PASSWORD; never pass a password as an argument",
    )

    p = sub.add_parser(
        "serve",
        help="serve an OpenAI-compatible HTTP API (/v1/chat/completions) whose answers "
        "carry citations (indexes the bundled corpus if the index is empty)",
    )
    _add_common(p)
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument(
        "--api-key-file",
        metavar="FILE",
        help="require 'Authorization: Bearer KEY', KEY read from the first line of FILE "
        "('-': standard input) instead of $RAG_API_KEY; a key is required when --host is "
        "not a loopback address; never pass a key as an argument",
    )
    return parser


def _engine(args: argparse.Namespace, **extra: Any):
    from .engine import RAG

    return RAG.open(db=args.db, model=args.model, **extra)


class _Bars:
    """tqdm bars for files read and chunks embedded, with counts and ETA, on stderr."""

    def __init__(self) -> None:
        self.bars: dict[str, Any] = {}

    def __call__(self, event: Any) -> None:
        from tqdm import tqdm

        label = {"read": "reading files", "embed": "embedding chunks"}[event.stage]
        bar = self.bars.get(event.stage)
        if bar is None:
            unit = "file" if event.stage == "read" else "chunk"
            bar = self.bars[event.stage] = tqdm(
                total=event.total, desc=label, unit=unit, file=sys.stderr, leave=True
            )
        bar.total = event.total
        bar.n = event.done
        bar.set_postfix_str(event.item[-40:], refresh=False)
        bar.refresh()

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def _report_line(report: IndexReport) -> str:
    counts = ", ".join(f"{v} {k}" for k, v in report.counts().items())
    line = f"{counts} ({report.chunks_added} chunks added, {report.chunks_embedded} embedded)"
    if report.skipped:
        kinds = ", ".join(f"{n} {kind}" for kind, n in report.skipped.items())
        line += f"; not document types we read, left out: {kinds}"
    return line


def _cmd_watch(args: argparse.Namespace) -> int:
    from index import bundled_corpus

    from .watch import watch

    engine = _engine(args)
    paths = args.paths or [bundled_corpus()]

    def show(result: IndexReport | RagError) -> None:
        stamp = time.strftime("%H:%M:%S")
        if isinstance(result, RagError):
            print(f"{stamp} not indexed: {result}", file=sys.stderr, flush=True)
            return
        line = json.dumps(result.to_dict()) if args.json else _report_line(result)
        print(f"{stamp} {line}", flush=True)
        for source, reason in result.failed.items():
            print(f"{stamp} failed: {source}: {reason}", file=sys.stderr, flush=True)

    if not args.json:
        print(f"watching {', '.join(map(str, paths))} -> {engine.store.path} (Ctrl-C stops)")
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how watching ends
        watch(engine, paths, show)
    print("stopped watching", file=sys.stderr)
    return 0


def _cmd_index(args: argparse.Namespace) -> int:
    if args.watch:
        return _cmd_watch(args)
    engine = _engine(args, reembed=args.reembed)
    if engine.store.reembedded and not args.json:
        print(f"embedded {engine.store.reembedded} chunks again with {engine.store.embedder.name}")
    bars = None if args.quiet or args.json or not sys.stderr.isatty() else _Bars()
    try:
        report = engine.index(args.paths or None, progress=bars)
    finally:
        if bars:
            bars.close()
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(f"{_report_line(report)} in {report.seconds:.1f}s -> {engine.store.path}")
        for source, reason in report.failed.items():
            print(f"failed: {source}: {reason}", file=sys.stderr)
    return EXIT_PARTIAL if report.failed else 0


def _cmd_docs(args: argparse.Namespace) -> int:
    docs = _engine(args).documents()
    if args.json:
        rows = [
            {"source": d.source, "title": d.title, "chunks": len(d.chunk_ids), "path": d.path}
            for d in docs
        ]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    for d in [] if args.json else docs:
        print(f"{d.source}\t{len(d.chunk_ids)} chunks\t{d.title}")
    return 0


def _cmd_remove(args: argparse.Namespace) -> int:
    engine = _engine(args)
    gone = engine.remove(args.sources)
    for source in gone:
        print(f"removed: {source}")
    unknown = [s for s in args.sources if s not in gone]
    for source in unknown:
        print(f"not indexed: {source}", file=sys.stderr)
    return EXIT_PARTIAL if unknown else 0


def _cmd_ask(args: argparse.Namespace) -> int:
    from .types import Answer

    engine = _engine(args, top_k=args.top_k)
    if args.json:
        answer = engine.ask(args.question, sources=args.source)
        print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
        return 0
    answer = None
    for event in engine.stream(args.question, sources=args.source):
        if isinstance(event, Answer):
            answer = event
        else:  # a checked sentence, printed as soon as it passed
            print(event.text, end="", flush=True)
    assert answer is not None
    print()
    for c in answer.citations:
        page = f"page {c.page}, " if c.page else ""
        print(f"\n[{c.n}] {c.title} — {c.source} ({page}chars {c.start}-{c.end})")
        print("    " + c.text.replace("\n", "\n    "))
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from .evaluation import evaluate, load_questions

    items = load_questions(args.file)
    engine = _engine(args)
    progress = (
        None if args.json else (lambda row: print(f"{row.id}: {row.seconds:.1f}s", file=sys.stderr))
    )
    report = evaluate(engine, items, k=args.k, on_row=progress)
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.table())
    return 0


def _load_frontend(name: str):
    """Front ends register under the `rag.frontends` entry point, so `rag` never imports `ui`."""
    from importlib.metadata import entry_points

    found = entry_points(group="rag.frontends", name=name)
    if not found:
        raise RagError(f"the {name!r} front end is not installed (reinstall this package)")
    return next(iter(found)).load()


def _read_secret(source: str, what: str = "password") -> str:
    """A file (or stdin) keeps a secret out of `ps` output and shell history."""
    try:
        text = sys.stdin.readline() if source == "-" else Path(source).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the {what} file {source}: {exc}") from exc
    secret = text.splitlines()[0] if text else ""
    if not secret:
        raise InputError(f"the {what} file {source} is empty")
    return secret


def _cmd_ui(args: argparse.Namespace) -> int:
    launch = _load_frontend("gradio")
    password = _read_secret(args.password_file) if args.password_file else None
    engine = _engine(args)
    launch(engine, host=args.host, port=args.port, username=args.username, password=password)
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from .server import serve

    key = _read_secret(args.api_key_file, "API key") if args.api_key_file else ""
    engine = _engine(args)

    def announce(url: str) -> None:
        print(f"serving OpenAI-compatible API at {url}", file=sys.stderr, flush=True)

    serve(engine, host=args.host, port=args.port, api_key=key, on_ready=announce)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = {
        "index": _cmd_index,
        "docs": _cmd_docs,
        "remove": _cmd_remove,
        "ask": _cmd_ask,
        "eval": _cmd_eval,
        "ui": _cmd_ui,
        "serve": _cmd_serve,
    }[args.command]
    try:
        return handler(args)
    except RagError as exc:
        print(f"rag: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `rag docs | head`: the reader left; that is not an error
        sys.stderr.close()
        return 0
