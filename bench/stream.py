"""Time to the first checked sentence against the time to the whole answer, UI and API.

    .venv/bin/python bench/stream.py [--questions tests/data/dev.jsonl ...] [--json]
        [--db DIR] [--model NAME|PATH]

Indexes the bundled corpus (or uses `--db`), then asks each question once through the web
UI (`ui.launch`, a `gradio_client` user: the first update that shows answer text) and
once through `rag serve` (`create_app` on uvicorn, a streaming chat completion: the first
non-empty content delta), one question at a time, the real default model. Every run asks
all questions through the UI first, then all through the API, so no answer finds its
own prompt in llama.cpp's KV cache. Per face it reports p50/p95 of the first sentence
and of the complete answer, and the p50 of each answer's ratio first/complete (the
target: <= 0.45); refusals are one sentence by design, so answered questions are also
reported alone. Medians: the machine is small and noisy.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import REPO, free_port, percentile, run_clients  # noqa: E402

TARGET = 0.45  # issue 13: the first sentence within 45% of the complete answer's time


def ask_api(base: str, question: str) -> dict[str, Any]:
    """One streaming chat completion: seconds to the first text delta and to [DONE]."""
    import httpx

    body = {"model": "rag", "stream": True, "messages": [{"role": "user", "content": question}]}
    started = time.perf_counter()
    first = None
    refused = False
    with httpx.stream("POST", f"{base}/v1/chat/completions", json=body, timeout=900) as resp:
        resp.raise_for_status()
        for line in resp.iter_lines():
            if not line.startswith("data: {"):
                continue
            chunk = json.loads(line.removeprefix("data: "))
            if "error" in chunk:
                raise RuntimeError(chunk["error"]["message"])
            if first is None and (chunk["choices"][0]["delta"].get("content") or "").strip():
                first = time.perf_counter() - started
            refused = chunk.get("refused", refused)
    return {"first": first, "total": time.perf_counter() - started, "refused": refused}


def ask_ui(url: str, question: str) -> dict[str, Any]:
    (result,) = run_clients(url, [question])
    if result.error:
        raise RuntimeError(result.error)
    refused = result.answer.startswith("I cannot answer")
    return {"first": result.first_token, "total": result.total, "refused": refused}


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    def part(chosen: Sequence[dict[str, Any]]) -> dict[str, Any]:
        firsts = [r["first"] for r in chosen if r["first"] is not None]
        totals = [r["total"] for r in chosen]
        ratios = [r["first"] / r["total"] for r in chosen if r["first"] is not None]
        return {
            "n": len(chosen),
            "first_p50": percentile(firsts, 50),
            "first_p95": percentile(firsts, 95),
            "complete_p50": percentile(totals, 50),
            "complete_p95": percentile(totals, 95),
            "ratio_p50": round(statistics.median(ratios), 3) if ratios else None,
        }

    return {"all": part(rows), "answered": part([r for r in rows if not r["refused"]])}


def serve_api(engine: Any) -> tuple[str, Any]:
    import uvicorn

    from rag.server import create_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(create_app(engine), log_level="warning", lifespan="off", ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--questions", action="append", help="JSONL question sets (default: tests/data/dev.jsonl)"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--db", help="index directory (default: a fresh temporary one)")
    parser.add_argument("--model", help="model preset or .gguf path (default: $RAG_MODEL)")
    args = parser.parse_args(argv)

    from rag import RAG
    from rag.evaluation import load_questions
    from ui import launch

    paths = args.questions or [str(REPO / "tests" / "data" / "dev.jsonl")]
    questions = [
        i["question"] for p in paths for i in load_questions(Path(p)) if not i.get("history")
    ]
    rows: dict[str, list[dict[str, Any]]] = {"ui": [], "api": []}
    with tempfile.TemporaryDirectory(prefix="rag-stream-") as tmp, redirect_stdout(sys.stderr):
        engine = RAG.open(db=args.db or Path(tmp) / "index", model=args.model)
        engine.index()
        engine.warm_up()
        app = launch(engine, port=free_port(), prevent_thread_lock=True, quiet=True)
        try:
            for q in questions:
                rows["ui"].append({"question": q, **ask_ui(app.local_url, q)})
                print(f"ui  {rows['ui'][-1]['first']:.2f}/{rows['ui'][-1]['total']:.2f}s  {q}")
        finally:
            app.close()
        base, server = serve_api(engine)
        try:
            for q in questions:
                rows["api"].append({"question": q, **ask_api(base, q)})
                print(f"api {rows['api'][-1]['first']:.2f}/{rows['api'][-1]['total']:.2f}s  {q}")
        finally:
            server.should_exit = True
        model = engine.info()["model"]
    summary = {face: summarize(r) for face, r in rows.items()}
    if args.json:
        print(json.dumps({"model": model, "summary": summary, "rows": rows}, indent=2))
        return 0
    print(f"model {model}, {len(questions)} questions, target ratio <= {TARGET}")
    print("| face | answers | first sentence p50 / p95 s | complete p50 / p95 s | ratio p50 |")
    print("|---|---|---|---|---|")
    for face, parts in summary.items():
        for name, s in parts.items():
            print(
                f"| {face} | {name} ({s['n']}) | {s['first_p50']:.2f} / {s['first_p95']:.2f} "
                f"| {s['complete_p50']:.2f} / {s['complete_p95']:.2f} | {s['ratio_p50']} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
