"""Offline guarantee: indexing, an answer and the UI's start make zero outbound attempts.

Each step runs the real CLI (real embedder, real default model) in a subprocess with a
*clean* environment: no HF_*, TRANSFORMERS_*, GRADIO_*, ANONYMIZED_TELEMETRY..., so only
the product's own offline switches are being tested. Up to three layers watch it:

- a network namespace with only loopback (`unshare -rn`), where this kernel allows it:
  anything that needed the network fails the step;
- `strace` of connect/sendto/sendmsg when installed: every socket the process or its
  children open, including from C and Rust code (uvloop, Chroma's core, llama.cpp);
- always, an audit hook in a small launcher (`sys.addaudithook`) that logs every Python
  `socket.connect`, name lookup and `urllib` request to a non-loopback address.

The test asserts every step succeeded and all the logs it has are empty.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.real

# Variables passed through to the product; everything else is dropped.
KEEP_ENV = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TMPDIR", "RAG_CACHE_DIR")
KEEP_ENV += ("XDG_CACHE_HOME", "XDG_DATA_HOME")  # where the assembled model is cached
SWITCHES = {  # variable -> must be on (True) or off (False) in the product's process
    "HF_HUB_OFFLINE": True,
    "TRANSFORMERS_OFFLINE": True,
    "HF_HUB_DISABLE_TELEMETRY": True,
    "ANONYMIZED_TELEMETRY": False,
    "GRADIO_ANALYTICS_ENABLED": False,
    "ORT_DISABLE_TELEMETRY": True,
}
QUESTION = "In which city was Meng Wanzhou arrested?"

LAUNCHER = r'''
"""Run `rag.cli.main` with an audit hook that logs non-loopback network attempts.

argv: LOG RESULT MODE [rag arguments...]; MODE is "cli", or "ui:PORT" to poll the UI
on loopback until it answers and then stop it with SIGINT (what Ctrl-C does).
"""
import ipaddress, json, os, signal, socket, sys, threading, time, traceback
from urllib.parse import urlsplit

LOG, RESULT, MODE, ARGS = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
_fd = os.open(LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
_LOCAL_FAMILIES = {socket.AF_UNIX, getattr(socket, "AF_NETLINK", -1)}


def _local(host):
    if host is None or isinstance(host, int):
        return True
    if isinstance(host, (bytes, bytearray)):
        host = host.decode("ascii", "replace")
    name = str(host).strip().strip("[]").split("%")[0].lower()
    if name in ("", "localhost", "ip6-localhost", "0.0.0.0", "::"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _hook(event, args):
    try:
        if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
            sock, address = args[0], args[1] if len(args) > 1 else None
            if getattr(sock, "family", None) in _LOCAL_FAMILIES or address is None:
                return
            host = address[0] if isinstance(address, tuple) and address else address
        elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex",
                       "socket.gethostbyaddr"):
            host = args[0]
        elif event == "socket.getnameinfo":
            host = args[0][0] if args and isinstance(args[0], tuple) else args[0]
        elif event == "urllib.Request":
            host = urlsplit(str(args[0])).hostname
        elif event == "http.client.connect":
            host = args[1]
        else:
            return
        if _local(host):
            return
        stack = [f"{f.filename}:{f.lineno}" for f in traceback.extract_stack()[-12:-1]]
        line = json.dumps({"event": event, "host": str(host), "stack": stack}) + "\n"
        os.write(_fd, line.encode())
    except Exception as exc:  # never break the program under test
        os.write(_fd, (json.dumps({"event": "hook-error", "host": repr(exc)}) + "\n").encode())


sys.addaudithook(_hook)
result = {"mode": MODE}


def _poll_ui(port):
    import urllib.request

    started = time.monotonic()
    while time.monotonic() - started < 900:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
                page = resp.read().decode("utf-8", "replace")
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=5) as resp:
                config = json.loads(resp.read())
            result.update(ready_seconds=time.monotonic() - started, page_bytes=len(page),
                          gradio=config.get("version"))
            break
        except OSError:
            time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGINT)


if MODE.startswith("ui:"):
    threading.Thread(target=_poll_ui, args=(int(MODE[3:]),), daemon=True).start()

from rag.cli import main  # noqa: E402  (after the hook: imports are watched too)

code = main(ARGS)
result.update(exit_code=code, switches={k: os.environ.get(k) for k in __SWITCHES__})
with open(RESULT, "w") as fh:
    json.dump(result, fh)
sys.stdout.flush()
os._exit(code)
'''.replace("__SWITCHES__", repr(sorted(SWITCHES)))


def clean_env() -> dict[str, str]:
    env = {k: os.environ[k] for k in KEEP_ENV if k in os.environ}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _works(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_ADDRESS = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"')


def outbound_in_trace(text: str) -> list[str]:
    """strace lines whose socket address is an IPv4/IPv6 address other than loopback."""
    found = []
    for line in text.splitlines():
        for v4, v6 in _ADDRESS.findall(line):
            address = v4 or v6
            if address not in ("0.0.0.0", "::") and not (
                address.startswith("127.") or address in ("::1", "::ffff:127.0.0.1")
            ):
                found.append(line.strip())
    return found


@dataclass
class StepResult:
    name: str
    returncode: int
    seconds: float
    stdout: str
    stderr: str
    result: dict = field(default_factory=dict)
    audit: list[dict] = field(default_factory=list)
    traced: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return (
            f"{self.name}: exit {self.returncode} in {self.seconds:.1f}s\n"
            f"stdout: {self.stdout[-1500:]}\nstderr: {self.stderr[-3000:]}\n"
            f"audit: {self.audit[:5]}\nstrace: {self.traced[:5]}"
        )


class Offline:
    """Runs CLI steps under every guard this machine offers."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.launcher = workdir / "launcher.py"
        self.launcher.write_text(LAUNCHER, "utf-8")
        self.netns = _works(["unshare", "-rn", "true"])
        self.strace = shutil.which("strace") is not None and _works(
            [
                "strace",
                "-f",
                "-qq",
                "--seccomp-bpf",
                "-e",
                "trace=connect",
                "-o",
                "/dev/null",
                "true",
            ]
        )
        self.mode = ", ".join(
            [
                "network namespace (unshare -rn)" if self.netns else "host network (no unshare)",
                "strace" if self.strace else "no strace",
                "audit hook",
            ]
        )

    def run(self, name: str, args: list[str], ui_port: int | None = None, timeout: float = 900):
        log, result, trace = (self.workdir / f"{name}.{ext}" for ext in ("log", "json", "strace"))
        mode = f"ui:{ui_port}" if ui_port else "cli"
        cmd = [sys.executable, str(self.launcher), str(log), str(result), mode, *args]
        if self.strace:
            cmd = ["strace", "-f", "-qq", "--seccomp-bpf", "-e", "signal=none"]
            cmd += ["-e", "trace=connect,sendto,sendmsg,sendmmsg", "-o", str(trace)]
            cmd += [sys.executable, str(self.launcher), str(log), str(result), mode, *args]
        if self.netns:  # only loopback exists in there; bring it up for the UI's server
            up = 'ip link set lo up 2>/dev/null || true; exec "$@"'
            cmd = ["unshare", "-rn", "sh", "-c", up, "sh", *cmd]
        env = clean_env()
        assert not [k for k in env if k.startswith(("HF_", "GRADIO_", "TRANSFORMERS_"))]
        started = time.perf_counter()
        proc = subprocess.run(
            cmd, env=env, cwd=self.workdir, capture_output=True, text=True, timeout=timeout
        )
        seconds = time.perf_counter() - started
        audit = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        traced = outbound_in_trace(trace.read_text()) if trace.exists() else []
        data = json.loads(result.read_text()) if result.exists() else {}
        return StepResult(
            name, proc.returncode, seconds, proc.stdout, proc.stderr, data, audit, traced
        )


@pytest.fixture(scope="module")
def offline(tmp_path_factory) -> Offline:
    runner = Offline(tmp_path_factory.mktemp("offline"))
    print(f"\n[offline] mode: {runner.mode}")
    return runner


@pytest.fixture(scope="module")
def indexed(offline: Offline) -> tuple[Path, StepResult]:
    db = offline.workdir / "db"
    return db, offline.run("index", ["index", "--db", str(db), "--json"])


def assert_offline(step: StepResult) -> None:
    assert step.returncode == 0, step.describe()
    assert step.audit == [], step.describe()
    assert step.traced == [], step.describe()
    # The switches were set by the product: the environment it was given had none.
    found = step.result.get("switches") or {}
    flags = {k: v.lower() in ("1", "true", "yes", "on") for k, v in found.items() if v}
    assert flags == SWITCHES, found


def test_indexing_makes_no_network_attempt(indexed, offline, capsys):
    _, step = indexed
    assert_offline(step)
    report = json.loads(step.stdout)
    assert report["added"] == 5 and report["failed"] in (0, {}, [])
    with capsys.disabled():
        print(f"\n[offline] {offline.mode}: index {step.seconds:.1f}s")


def test_an_answer_makes_no_network_attempt(indexed, offline, capsys):
    db, _ = indexed
    step = offline.run("ask", ["ask", QUESTION, "--db", str(db), "--json"])
    assert_offline(step)
    answer = json.loads(step.stdout)
    assert answer["answer"].strip() and answer["passages"], answer
    with capsys.disabled():
        print(f"\n[offline] ask {step.seconds:.1f}s: {answer['answer'][:80]!r}")


def test_the_ui_starts_without_network_attempts(indexed, offline, capsys):
    db, _ = indexed
    port = free_port()
    step = offline.run("ui", ["ui", "--db", str(db), "--port", str(port)], ui_port=port)
    assert_offline(step)
    assert step.result.get("ready_seconds") is not None, step.describe()
    assert step.result["page_bytes"] > 1000 and step.result["gradio"], step.result
    with capsys.disabled():
        print(
            f"\n[offline] ui ready after {step.result['ready_seconds']:.1f}s "
            f"(step {step.seconds:.1f}s)"
        )
