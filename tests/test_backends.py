"""Scale-out on real engines: a real `chroma run` server and a real `llama_cpp.server`.

Each server is a subprocess on a free loopback port, started once per session and
stopped at teardown, whatever happened. Nothing can outlive the test run: each runs in
its own process group, and asks the kernel to kill it when its parent dies
(PR_SET_PDEATHSIG), which also covers a pytest that is itself killed.

Telemetry: `chroma run` (the Rust server in chromadb 1.5.9) has no product telemetry
(PostHog lives only in the Python client, which the store opens with
`anonymized_telemetry=False`); it exports OpenTelemetry only when a config file has an
`open_telemetry:` section, and `--path/--host/--port` use the built-in config, which has
none; it checks for updates only on `chroma update`. So nothing is needed to silence it,
and where strace works the last test proves it: neither server opened a connection to
anything but loopback.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest

from index import SentenceTransformerEmbedder, bundled_corpus
from index.store import SERVER_FORMAT
from rag import RAG, Answer, IndexDirError, Sentence, Settings
from rag.llm import resolve_model
from tests.fakes import DATA
from tests.test_offline import free_port, outbound_in_trace

pytestmark = pytest.mark.real

QUESTION = "In which city was Meng Wanzhou arrested?"
# Launcher: ask the kernel to SIGKILL us when our parent dies (PR_SET_PDEATHSIG = 1, kept
# across exec; SIGKILL because a SIGTERM can be lost when a dying strace detaches), note our
# pid in argv[1] ("-": no note), then become the command.
LAUNCH = (
    "import ctypes, os, signal, sys; ctypes.CDLL(None).prctl(1, int(signal.SIGKILL)); "
    "sys.argv[1] == '-' or open(sys.argv[1], 'w').write(str(os.getpid())); "
    "os.execvp(sys.argv[2], sys.argv[2:])"
)


def _strace_works() -> bool:
    cmd = ["strace", "-f", "-qq", "--seccomp-bpf", "-e", "trace=connect", "-o", "/dev/null"]
    try:
        return subprocess.run([*cmd, "true"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


STRACE = shutil.which("strace") is not None and _strace_works()


class Server:
    """One server subprocess: its logs, its connection trace, and a sure way to stop it."""

    def __init__(self, name: str, cmd: list[str], workdir: Path) -> None:
        self.name = name
        self.log = workdir / f"{name}.log"
        self.trace = workdir / f"{name}.strace"
        self.pidfile = workdir / f"{name}.pid"
        argv = [sys.executable, "-c", LAUNCH, str(self.pidfile), *cmd]
        if STRACE:  # strace is the server's parent: they die one after the other
            watch = ["strace", "-f", "-qq", "--seccomp-bpf", "-e", "signal=none"]
            watch += ["-e", "trace=connect,sendto,sendmsg,sendmmsg", "-o", str(self.trace)]
            argv = [sys.executable, "-c", LAUNCH, "-", *watch, *argv]
        # Belt and braces: only the Python client reads these; the servers need none.
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1"}
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=workdir,
                start_new_session=True,  # its own process group, killed as one if need be
            )

    def output(self, tail: int = 3000) -> str:
        return self.log.read_text("utf-8", "replace")[-tail:] if self.log.exists() else ""

    def wait_ready(self, url: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=5, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    pytest.fail(f"{self.name} exited with {self.proc.returncode}:\n{self.output()}")
                try:
                    if client.get(url).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.5)
        pytest.fail(f"{self.name} not ready at {url} after {timeout:.0f}s:\n{self.output()}")

    def stop(self) -> None:
        """SIGTERM to the server alone (a signal sent to strace and its tracee at once can
        be lost), then SIGKILL to the whole group if it has not exited in time."""
        try:
            pid = int(self.pidfile.read_text())
        except (OSError, ValueError):
            pid = self.proc.pid
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            self.proc.wait(20)  # strace exits once its tracee has
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # anything left of the group
        with suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)

    def outbound(self) -> list[str]:
        return outbound_in_trace(self.trace.read_text()) if self.trace.exists() else []


@contextmanager
def running(
    name: str, cmd: list[str], workdir: Path, ready: str, timeout: float
) -> Iterator[Server]:
    server = Server(name, cmd, workdir)
    try:
        server.wait_ready(ready, timeout)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory) -> Iterator[tuple[str, Server]]:
    workdir = tmp_path_factory.mktemp("chroma-server")
    chroma = Path(sys.executable).with_name("chroma")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [str(chroma), "run", "--path", str(workdir / "data")]
    cmd += ["--host", "127.0.0.1", "--port", str(port)]
    with running("chroma", cmd, workdir, f"{url}/api/v2/heartbeat", 120) as server:
        yield url, server


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory) -> Iterator[tuple[str, Server]]:
    workdir = tmp_path_factory.mktemp("llm-server")
    settings = Settings.from_env()
    model = resolve_model("default", settings.cache_dir)
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    threads = str(settings.threads)
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model)]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096"]
    cmd += ["--n_threads", threads, "--n_threads_batch", threads, "--n_batch", "512"]
    # Queue concurrent requests instead of cutting a streaming answer short.
    cmd += ["--interrupt_requests", "False", "--verbose", "False"]
    with running("llama", cmd, workdir, f"{url}/models", 300) as server:
        yield url, server


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()  # one model in memory for both indexes


@pytest.fixture(scope="module")
def embedded(tmp_path_factory, embedder) -> RAG:
    engine = RAG.open(db=tmp_path_factory.mktemp("embedded") / "db", embedder=embedder)
    engine.index()
    return engine


@pytest.fixture(scope="module")
def served(tmp_path_factory, embedder, chroma_server, llm_server) -> RAG:
    engine = RAG.open(
        db=tmp_path_factory.mktemp("served") / "db",
        embedder=embedder,
        chroma_url=chroma_server[0],
        llm_url=llm_server[0],
    )
    assert engine.index().counts()["added"] == 5
    return engine


def dev_questions(n: int = 4) -> list[str]:
    rows = [json.loads(line) for line in (DATA / "dev.jsonl").read_text("utf-8").splitlines()]
    return [r["question"] for r in rows if r["type"] != "unanswerable"][:n]


def spans(engine: RAG, question: str) -> list[tuple[str, int, int]]:
    return [(p.source, p.start, p.end) for p in engine.retrieve(question)]


def test_a_server_index_retrieves_exactly_what_an_embedded_one_does(embedded, served):
    for question in [*dev_questions(), QUESTION]:
        assert spans(served, question) == spans(embedded, question), question
    marker = json.loads((served.store.path / "rag-index.json").read_text("utf-8"))
    assert marker["collection"].startswith("chunks-") and marker["format"] == SERVER_FORMAT
    assert not any(served.store.path.glob("*.sqlite3"))  # the vectors are on the server


def test_reindexing_a_server_index_changes_nothing(served, embedder, chroma_server):
    stored = served.store._collection.count()
    assert not served.index().changed
    assert served.store._collection.count() == stored == served.store.count()
    again = RAG.open(db=served.store.path, embedder=embedder, chroma_url=chroma_server[0])
    assert again.documents() == served.documents()  # another process sees the same index
    with pytest.raises(IndexDirError, match="vectors on a Chroma server"):
        RAG.open(db=served.store.path, embedder=embedder)  # not silently empty


def ask(engine: RAG, question: str, history: list | None = None) -> tuple[Answer, str]:
    """The answer, and the sentences streamed before it (they join into its text)."""
    events = list(engine.stream(question, history))
    answer = events[-1]
    assert isinstance(answer, Answer)
    streamed = "".join(e.text for e in events[:-1] if isinstance(e, Sentence))
    assert streamed == answer.text
    return answer, streamed


def test_an_answer_through_both_servers_cites_real_spans(served):
    answer, raw = ask(served, QUESTION)
    assert not answer.refused and "vancouver" in answer.text.lower(), (raw, answer)
    assert answer.citations and answer.model.endswith(".gguf")  # the server's model id
    for c in answer.citations:
        assert (bundled_corpus() / c.source).is_file()
        original = (bundled_corpus() / c.source).read_text("utf-8")
        assert original[c.start : c.end] == c.text


def test_a_follow_up_is_rewritten_through_the_server_too(served, llm_server):
    server = llm_server[1]
    before = server.output(10**7).count("POST /v1/chat/completions")
    history = [("Who is Meng Wanzhou?", "Meng Wanzhou is a Huawei executive who was arrested.")]
    answer, raw = ask(served, "In which city was she arrested?", history)
    calls = server.output(10**7).count("POST /v1/chat/completions") - before
    assert answer.timings.rewrite is not None and calls >= 2, (answer.timings, server.output())
    # The rewritten question found the passage; the 1.5B model may still (rarely) refuse,
    # as it does in-process (see test_real_models), but it must not answer wrongly.
    assert any("Vancouver" in p.text for p in answer.passages)
    assert answer.refused or "vancouver" in answer.text.lower(), (raw, answer)


def test_removing_a_document_from_a_server_index(served, embedded, chroma_server):
    gone = served.documents()[0].source
    assert served.remove([gone]) == [gone]
    assert gone not in {d.source for d in served.documents()}
    assert served.store._collection.count() == served.store.count()  # its vectors deleted
    for question in dev_questions():
        assert gone not in {p.source for p in served.retrieve(question)}
    assert served.index().added == [gone]  # and back, as it was
    assert spans(served, QUESTION) == spans(embedded, QUESTION)


@pytest.mark.skipif(not STRACE, reason="strace cannot trace here")
def test_neither_server_connected_anywhere_but_loopback(chroma_server, llm_server):
    for _, server in (chroma_server, llm_server):
        assert server.outbound() == [], server.name
        assert server.trace.exists()
