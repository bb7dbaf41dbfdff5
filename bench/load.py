"""Load on the web UI: N simultaneous users, each streaming a different question.

    .venv/bin/python bench/load.py [--clients 20] [--json] [--db DIR] [--model NAME|PATH]
    .venv/bin/python bench/load.py --parallel-server [--json]

Indexes the bundled corpus into a fresh index (or `--db`), starts `ui.launch` on a free
loopback port with the real models, then starts N `gradio_client` users at once, each
asking a different question through the `/ask` endpoint. Per user it records the queue
wait (submit -> first streamed update: the job started), the time to the first model
token, and the total time; then checks that every user got the answer to *its own*
question (the question echoed in its conversation; answers are judged by the dev set's
keywords where it has them). The model serves one answer at a time, so the total grows
roughly linearly with the position in the queue: p95 is about N x one answer.

`tests/test_load.py` runs the same driver (`run_clients`) against a fake model.
"""

from __future__ import annotations

import argparse
import json
import math
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import redirect_stdout
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PLACEHOLDER = "…"  # what the UI shows before the first token


@dataclass
class ClientResult:
    """One simulated user: what it asked, what it got, and when."""

    question: str
    echoed: str = ""  # the question the server put in this user's conversation
    answer: str = ""
    queue_wait: float | None = None  # submit -> first streamed update (job started)
    first_token: float | None = None  # submit -> first update with model text
    total: float | None = None
    updates: int = 0
    error: str = ""
    correct: bool | None = None  # judged by `check`, when it can judge this question
    crossed: bool = False  # got another user's question or answer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def message_text(message: dict[str, Any]) -> str:
    """A chat message's text, whichever shape gradio_client returns it in."""
    content = message.get("content", "")
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content if isinstance(content, str) else str(content)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None when there are no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def _ask(
    client: Any, result: ClientResult, start: threading.Barrier, timeout: float
) -> ClientResult:
    start.wait()
    t0 = time.perf_counter()
    try:
        job = client.submit(result.question, [], api_name="/ask")
        messages: list = []
        for update in job:
            now = time.perf_counter() - t0
            result.updates += 1
            messages = update[1] if isinstance(update, (list, tuple)) else update
            if result.queue_wait is None:
                result.queue_wait = now
            reply = message_text(messages[-1]) if messages else ""
            if result.first_token is None and reply.strip() not in ("", PLACEHOLDER):
                result.first_token = now
        final = job.result(timeout=timeout)
        messages = final[1] if isinstance(final, (list, tuple)) else final
        result.total = time.perf_counter() - t0
        result.echoed = message_text(messages[0]) if messages else ""
        result.answer = message_text(messages[-1]) if messages else ""
        if result.answer.startswith("**Error:**"):
            result.error = result.answer
    except Exception as exc:  # a benchmark counts failures instead of stopping
        result.error = f"{type(exc).__name__}: {exc}"
    return result


def run_clients(
    url: str,
    questions: Sequence[str],
    check: Callable[[str, str], bool | None] | None = None,
    owner: Callable[[str], str | None] | None = None,
    auth: tuple[str, str] | None = None,
    timeout: float = 900.0,
) -> list[ClientResult]:
    """One gradio_client per question, all submitted at the same instant.

    `check(question, answer_text)` judges an answer (None: cannot tell). A user is
    `crossed` when its conversation echoes another question, or when `owner(answer_text)`
    names another user's question as the one this answer belongs to.
    """
    from gradio_client import Client

    clients: list[Any] = [None] * len(questions)

    def connect(i: int) -> None:
        clients[i] = Client(url, auth=auth, verbose=False)

    threads = [threading.Thread(target=connect, args=(i,)) for i in range(len(questions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results = [ClientResult(q) for q in questions]
    start = threading.Barrier(len(questions))
    threads = [
        threading.Thread(target=_ask, args=(c, r, start, timeout))
        for c, r in zip(clients, results, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        if r.error:
            continue
        belongs_to = owner(r.answer) if owner is not None else r.question
        r.crossed = r.echoed != r.question or belongs_to not in (None, r.question)
        r.correct = check(r.question, r.answer) if check is not None else None
    return results


def summarize(results: Sequence[ClientResult]) -> dict[str, Any]:
    """Latency percentiles (seconds) and failure counts over all users."""
    done = [r for r in results if not r.error]

    def pct(name: str) -> dict[str, float | None]:
        values = [getattr(r, name) for r in done if getattr(r, name) is not None]
        top = max(values, default=None)
        return {"p50": percentile(values, 50), "p95": percentile(values, 95), "max": top}

    judged = [r for r in done if r.correct is not None]
    return {
        "clients": len(results),
        "errors": sum(1 for r in results if r.error),
        "crossed": sum(1 for r in done if r.crossed),
        "correct": sum(1 for r in judged if r.correct),
        "judged": len(judged),
        "total": pct("total"),
        "queue_wait": pct("queue_wait"),
        "first_token": pct("first_token"),
    }


def report(summary: dict[str, Any]) -> str:
    def fmt(part: dict) -> str:
        return " / ".join("-" if v is None else f"{v:.2f}" for v in part.values())

    return (
        f"{summary['clients']} clients: {summary['errors']} errors, {summary['crossed']} crossed"
        + (f", {summary['correct']}/{summary['judged']} correct" if summary["judged"] else "")
        + f"\n  total seconds       p50 / p95 / max: {fmt(summary['total'])}"
        + f"\n  queue wait          p50 / p95 / max: {fmt(summary['queue_wait'])}"
        + f"\n  first model token   p50 / p95 / max: {fmt(summary['first_token'])}"
    )


def corpus_questions(n: int) -> tuple[list[str], dict[str, dict]]:
    """`n` different questions about the bundled corpus: the dev set, then the standalone
    first turns of the follow-up set; items with keywords are returned for judging."""
    from rag.evaluation import load_questions

    items = load_questions(REPO / "tests" / "data" / "dev.jsonl")
    questions = [i["question"] for i in items]
    for item in load_questions(REPO / "tests" / "data" / "followups.jsonl"):
        questions += [turn[0] for turn in item.get("history", [])]
    questions = list(dict.fromkeys(questions))
    if n > len(questions):
        raise SystemExit(f"only {len(questions)} different questions available")
    return questions[:n], {i["question"]: i for i in items}


class ParallelLLMServer:
    """An OpenAI-compatible chat server on loopback that serves requests in parallel (a
    thread each), like vLLM or llama.cpp's server with several slots: it streams the first
    sentence of passage [1] with a citation, one word every `delay` seconds."""

    def __init__(self, delay: float = 0.04) -> None:
        import re
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.active = self.peak = 0  # requests being answered now, and at most
        lock = threading.Lock()
        counts = self

        passage = re.compile(
            r"<<<PASSAGE 1 \w+>>>\n\[1\][^\n]*\n(.*?)(?:(?<=[.!?])\s|\n<<<END)", re.S
        )

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _json(self, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._json({"object": "list", "data": [{"id": "parallel", "object": "model"}]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path.endswith("/tokenize"):  # llama_cpp.server's: words as tokens
                    self._json({"tokens": body.get("input", "").split()})
                    return
                prompt = body["messages"][-1]["content"]
                found = passage.search(prompt)
                quote = found.group(1).strip().rstrip(".!?") if found else ""
                reply = f"{quote} [1]." if quote else "I cannot answer that."
                with lock:
                    counts.active += 1
                    counts.peak = max(counts.peak, counts.active)
                try:
                    self._stream(reply)
                finally:
                    with lock:
                        counts.active -= 1

            def _stream(self, reply: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for word in reply.split(" "):
                    time.sleep(delay)
                    chunk = {"choices": [{"delta": {"content": word + " "}, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                done = {"choices": [{"delta": {}, "finish_reason": "stop"}]}
                self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def parallel_main(as_json: bool) -> int:
    """Throughput and latency at 1, 4 and 8 users against a parallel LLM server, with the
    UI answering one question at a time (before RAG_CONCURRENCY) and as many as it allows."""
    from rag import RAG
    from ui import launch

    questions, _ = corpus_questions(8)
    server = ParallelLLMServer()
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="rag-load-") as tmp, redirect_stdout(sys.stderr):
            RAG.open(db=Path(tmp) / "index").index()
            for slots in (1, 4, 8):
                engine = RAG.open(db=Path(tmp) / "index", llm_url=server.url, concurrency=slots)
                app = launch(engine, port=free_port(), prevent_thread_lock=True, quiet=True)
                try:
                    for users in (1, 4, 8):
                        wall = time.perf_counter()
                        results = run_clients(app.local_url, questions[:users], timeout=300)
                        wall = time.perf_counter() - wall
                        summary = summarize(results)
                        rows.append(
                            {"answers_at_once": engine.settings.answer_slots, "users": users,
                             "answers_per_s": users / wall, "p50_s": summary["total"]["p50"],
                             "p95_s": summary["total"]["p95"], "errors": summary["errors"],
                             "crossed": summary["crossed"]}
                        )  # fmt: skip
                finally:
                    app.close()
    finally:
        server.close()
    if as_json:
        print(json.dumps(rows, indent=2))
    else:
        print("answers at once  users  answers/s  p50 s  p95 s  errors  crossed")
        for r in rows:
            print(
                f"{r['answers_at_once']:15d} {r['users']:6d} {r['answers_per_s']:10.2f} "
                f"{r['p50_s']:6.2f} {r['p95_s']:6.2f} {r['errors']:7d} {r['crossed']:8d}"
            )
    return 1 if any(r["errors"] or r["crossed"] for r in rows) else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20, help="simultaneous users (default 20)")
    parser.add_argument("--json", action="store_true", help="print the summary and rows as JSON")
    parser.add_argument("--db", help="index directory (default: a fresh temporary one)")
    parser.add_argument("--model", help="model preset or .gguf path (default: $RAG_MODEL)")
    parser.add_argument(
        "--parallel-server",
        action="store_true",
        help="instead: 1, 4 and 8 users against a scripted OpenAI-compatible server that "
        "answers in parallel, with RAG_CONCURRENCY 1, 4 and 8 (throughput and p95)",
    )
    args = parser.parse_args(argv)
    if args.parallel_server:
        return parallel_main(args.json)

    from rag import RAG
    from rag.evaluation import keyword_hit
    from ui import launch

    questions, items = corpus_questions(args.clients)

    def check(question: str, answer: str) -> bool | None:
        item = items.get(question)
        if item is None or item["type"] == "unanswerable" or not item["answer_all"]:
            return None
        text = answer.split("\n\n---")[0]
        return all(any(keyword_hit(a, text) for a in group) for group in item["answer_all"])

    # Libraries print progress and "Closing server..." to stdout: keep it for the results.
    with tempfile.TemporaryDirectory(prefix="rag-load-") as tmp, redirect_stdout(sys.stderr):
        engine = RAG.open(db=args.db or Path(tmp) / "index", model=args.model)
        indexed = engine.index()
        started = time.perf_counter()
        app = launch(engine, port=free_port(), prevent_thread_lock=True, quiet=True)
        ready = time.perf_counter() - started
        try:
            print(
                f"indexed {indexed.counts()}; UI ready in {ready:.1f}s at {app.local_url}; "
                f"{len(questions)} users asking at once..."
            )
            wall = time.perf_counter()
            results = run_clients(app.local_url, questions, check)
            wall = time.perf_counter() - wall
            model = engine.info()["model"]
        finally:
            app.close()
    summary = {**summarize(results), "wall_seconds": wall, "ui_ready_seconds": ready}
    summary["model"] = model
    if args.json:
        rows = [asdict(r) for r in results]
        print(json.dumps({"summary": summary, "rows": rows}, indent=2, ensure_ascii=False))
    else:
        for r in sorted(results, key=lambda r: r.total or 0):
            status = "ERROR " + r.error if r.error else ("crossed" if r.crossed else "ok")
            wait = f"{r.queue_wait:6.1f}" if r.queue_wait is not None else "     -"
            total = f"{r.total:6.1f}" if r.total is not None else "     -"
            print(f"{wait}s wait {total}s total  {status:8} {r.question[:60]}")
        print(report(summary) + f"\n  wall {wall:.1f}s, model {summary['model']}")
    return 1 if summary["errors"] or summary["crossed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
