"""`ui.launch` is safe to serve: loopback by default, a login off loopback, and Gradio's
file, proxy and cross-origin routes closed. Each test starts the real server on a free
port with the fake engine and attacks it over HTTP."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from rag import InputError, cli
from rag.safety.network import is_loopback
from tests.fakes import make_engine
from tests.makers import fetch
from ui import launch
from ui.app import ui_login

REPO = Path(__file__).resolve().parent.parent
PASSWD_MARK = "root:x:0:0"
USER, PASSWORD = "alice", "correct horse battery"
TEA_ANSWER = "Green tea is brewed at 80 degrees Celsius [1]."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class NetworkAttempts:
    """An audit hook (process-wide, cannot be removed) that records every non-loopback
    connect or name lookup while `armed`: the server runs in this process."""

    EVENTS = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.sendto"}

    def __init__(self) -> None:
        self.armed = False
        self.seen: list[tuple[str, str]] = []
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple) -> None:
        if not self.armed or event not in self.EVENTS:
            return
        target = args[1] if event in ("socket.connect", "socket.sendto") else args[0]
        host = target[0] if isinstance(target, tuple) and target else target
        if isinstance(host, (bytes, bytearray)):
            host = host.decode("ascii", "replace")
        if host is None or (isinstance(host, str) and (host == "" or is_loopback(host))):
            return
        if isinstance(host, int):  # AF_NETLINK and friends: not the network
            return
        self.seen.append((event, str(host)))


ATTEMPTS = NetworkAttempts()


@pytest.fixture
def serve(tmp_path: Path, corpus: Path, request: pytest.FixtureRequest):
    """Start `launch()` on a free port (closed by a finalizer); returns (app, port, engine)."""

    def start(host: str = "127.0.0.1", **overrides):
        engine = make_engine(tmp_path, [TEA_ANSWER], **overrides)
        engine.index([corpus])
        port = free_port()
        app = launch(engine, host=host, port=port, prevent_thread_lock=True, quiet=True)
        request.addfinalizer(app.close)
        return app, port, engine

    return start


@pytest.fixture(autouse=True)
def _no_login_from_env(monkeypatch):
    monkeypatch.delenv("RAG_UI_USERNAME", raising=False)
    monkeypatch.delenv("RAG_UI_PASSWORD", raising=False)


def listening_addresses(port: int) -> set[str]:
    """Local addresses of LISTEN sockets on `port`, from /proc/net/tcp{,6}."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            addr, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                raw = bytes.fromhex(addr)
                if len(raw) == 4:
                    found.add(socket.inet_ntop(socket.AF_INET, raw[::-1]))
                else:
                    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                    found.add(socket.inet_ntop(socket.AF_INET6, words))
    return found


def test_launch_returns_quickly_and_listens_on_loopback_only(serve):
    started = time.perf_counter()
    app, port, _ = serve()
    seconds = time.perf_counter() - started
    assert seconds < 15, f"launch() took {seconds:.1f}s"
    assert app.local_url.startswith(f"http://127.0.0.1:{port}")
    status, _, page = fetch(port, "/")
    assert status == 200 and "<html" in page.lower()
    if Path("/proc/net/tcp").exists():
        assert listening_addresses(port) == {"127.0.0.1"}


@pytest.mark.parametrize("allowed_by_env", [None, "/"])
def test_file_routes_refuse_files_outside_the_upload_folder(
    serve, tmp_path, monkeypatch, allowed_by_env
):
    """Also when the caller's environment tells Gradio to serve every file."""
    if allowed_by_env:
        monkeypatch.setenv("GRADIO_ALLOWED_PATHS", allowed_by_env)
    app, port, engine = serve()
    db = Path(engine.store.path)
    secrets = {  # path -> text that must not come back
        "/etc/passwd": PASSWD_MARK,
        str(REPO / "pyproject.toml"): 'name = "rag"',
        str(db / "rag-index.json"): (db / "rag-index.json").read_text()[:40],
        str(tmp_path / "docs" / "tea.txt"): "Green tea should be brewed",
    }
    assert all(Path(p).exists() for p in secrets)
    probes = []
    for target, mark in secrets.items():
        probes += [(f"/gradio_api/file={target}", mark), (f"/file={target}", mark)]
        probes += [(f"/gradio_api/file/{target.lstrip('/')}", mark)]
    up = "../" * 12
    probes += [
        (f"/gradio_api/file={up}etc/passwd", PASSWD_MARK),
        (f"/file={up}etc/passwd", PASSWD_MARK),
        ("/gradio_api/file=" + "%2e%2e%2f" * 12 + "etc%2fpasswd", PASSWD_MARK),
        ("/gradio_api/file=" + "..%2f" * 12 + "etc/passwd", PASSWD_MARK),
        ("/gradio_api/file=" + "%252e%252e%252f" * 12 + "etc%252fpasswd", PASSWD_MARK),
        ("/gradio_api/file=%2Fetc%2Fpasswd", PASSWD_MARK),
        ("//gradio_api//file=/etc/passwd", PASSWD_MARK),
        (f"/gradio_api/file={app.server_app.uploaded_file_dir}/{up}etc/passwd", PASSWD_MARK),
        (f"/gradio_api/file=file://{'/etc/passwd'}", PASSWD_MARK),
        (f"/assets/{up}etc/passwd", PASSWD_MARK),
        ("/assets/" + "%2e%2e/" * 12 + "etc/passwd", PASSWD_MARK),
        ("/static/" + "..%2f" * 12 + "etc/passwd", PASSWD_MARK),
        (f"/gradio_api/file={REPO}", "pyproject"),
        (f"/gradio_api/file={db}", "rag-index"),
    ]
    leaks = []
    for path, mark in probes:
        status, _, body = fetch(port, path)
        if status == 200 or mark in body:
            leaks.append((path, status, body[:80]))
    assert not leaks, leaks


def test_proxy_and_url_fetches_are_refused_without_touching_the_network(serve, monkeypatch):
    """Gradio would fetch `/file=<public URL>` itself (resolving the name, even through
    Google's DNS-over-HTTPS); the server runs on uvloop, whose lookups bypass the audit
    hook, so Gradio's resolver is spied on as well."""
    import safehttpx

    resolved: list[str] = []

    async def spy(hostname: str) -> str:
        resolved.append(hostname)
        raise ValueError("no network in tests")

    monkeypatch.setattr(safehttpx, "async_validate_url", spy)
    _, port, _ = serve()
    probes = [
        f"/gradio_api/proxy=http://127.0.0.1:{port}/config",
        "/gradio_api/proxy=http://169.254.169.254/latest/meta-data/",
        "/gradio_api/proxy=https://x.hf.space/config",
        "/proxy=http://169.254.169.254/latest/meta-data/",
        "/gradio_api/file=https://example.com/robots.txt",
        "/gradio_api/file=http://169.254.169.254/latest/meta-data/",
        f"/gradio_api/file=http://127.0.0.1:{port}/config",
        "/gradio_api/file=HTTPS://example.com/robots.txt",
        "/file=https://example.com/robots.txt",
    ]
    ATTEMPTS.seen.clear()
    ATTEMPTS.armed = True
    try:
        answers = [(path, *fetch(port, path)) for path in probes]
    finally:
        ATTEMPTS.armed = False
    assert [(p, s) for p, s, _, _ in answers if s == 200] == []
    assert all('"version"' not in body for *_, body in answers)
    assert resolved == [] and ATTEMPTS.seen == [], (resolved, ATTEMPTS.seen)


def test_uploads_work_within_max_file_size_and_only_same_origin(serve):
    _, port, _ = serve(max_file_mb=1)

    def upload(data: bytes, headers: dict | None = None) -> tuple[int, str]:
        boundary = "rag-test-boundary"
        part = 'Content-Disposition: form-data; name="files"; filename="n.txt"'
        head_part = f"--{boundary}\r\n{part}\r\nContent-Type: text/plain\r\n\r\n"
        body = head_part.encode() + data + f"\r\n--{boundary}--\r\n".encode()
        head = {"Content-Type": f"multipart/form-data; boundary={boundary}", **(headers or {})}
        status, _, text = fetch(port, "/gradio_api/upload", "POST", head, body)
        return status, text

    status, text = upload(b"my notes")
    assert status == 200
    stored = json.loads(text)[0]
    status, _, body = fetch(port, f"/gradio_api/file={stored}")
    assert (status, body) == (200, "my notes")  # the guard lets Gradio's own files through
    status, text = upload(b"x" * (1024 * 1024 + 1))
    assert status == 413 and "maximum allowed size of 1048576" in text
    status, _ = upload(b"csrf", {"Origin": "http://evil.example"})
    assert status == 403


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:1"])
def test_foreign_origins_get_no_cors_grant_and_are_refused(serve, origin):
    _, port, _ = serve()
    status, headers, _ = fetch(port, "/config", headers={"Origin": origin})
    assert status == 403 and "access-control-allow-origin" not in headers
    status, headers, _ = fetch(
        port,
        "/gradio_api/queue/join",
        "OPTIONS",
        {"Origin": origin, "Access-Control-Request-Method": "POST"},
    )
    assert headers.get("access-control-allow-origin") != origin
    status, headers, _ = fetch(
        port,
        "/gradio_api/queue/join",
        "POST",
        {"Origin": origin, "Content-Type": "text/plain"},
        b"{}",
    )
    assert status == 403 and "access-control-allow-origin" not in headers
    # The page itself (same origin, as a browser sends it) still works.
    same = f"http://127.0.0.1:{port}"
    status, headers, _ = fetch(port, "/config", headers={"Origin": same})
    assert status == 200 and headers.get("access-control-allow-origin", same) == same


def test_foreign_host_header_is_refused_on_loopback(serve):
    """DNS rebinding: evil.example resolving to 127.0.0.1 must not reach the app."""
    _, port, _ = serve()
    for host in (f"evil.example:{port}", f"192.168.1.20:{port}", "[::1", ""):
        status, _, body = fetch(port, "/config", headers={"Host": host})
        assert status == 403 and "version" not in body
    assert fetch(port, "/config", headers={"Host": f"localhost:{port}"})[0] == 200


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("192.168.1.5", False),
        ("myhost.example", False),
    ],
)
def test_is_loopback(host, expected):
    assert is_loopback(host) is expected


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "myhost.example"])
def test_non_loopback_without_login_fails_before_anything_starts(tmp_path, host):
    engine = make_engine(tmp_path)
    port = free_port()
    with pytest.raises(InputError, match="RAG_UI_USERNAME and RAG_UI_PASSWORD"):
        launch(engine, host=host, port=port, prevent_thread_lock=True, quiet=True)
    assert engine.store.count() == 0  # the demo corpus was not even indexed
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0  # nothing listens


def test_login_needs_both_parts_and_arguments_override_settings(tmp_path):
    engine = make_engine(tmp_path, ui_username="bob", ui_password="from-env")
    assert ui_login(engine, "0.0.0.0") == ("bob", "from-env")
    assert ui_login(engine, "0.0.0.0", "carol", "pw") == ("carol", "pw")
    assert ui_login(make_engine(tmp_path), "127.0.0.1") is None
    for user, password in (("carol", ""), ("", "pw")):
        with pytest.raises(InputError, match="both a username and a password"):
            ui_login(make_engine(tmp_path), "127.0.0.1", user, password)


def test_unsafe_launch_options_are_rejected(tmp_path):
    engine = make_engine(tmp_path)
    for option in ({"share": True}, {"allowed_paths": ["/"]}, {"strict_cors": False}):
        with pytest.raises(InputError, match="does not take"):
            launch(engine, port=free_port(), prevent_thread_lock=True, **option)


def test_off_loopback_the_api_requires_the_login(serve):
    from gradio_client import Client

    _, port, _ = serve("0.0.0.0", ui_username=USER, ui_password=PASSWORD)
    base = f"http://127.0.0.1:{port}"
    for path in ("/config", "/gradio_api/info", "/gradio_api/queue/status"):
        assert fetch(port, path)[0] == 401, path
    status, _, _ = fetch(port, "/gradio_api/queue/join", "POST", {}, b"{}")
    assert status == 401
    with pytest.raises(Exception, match="(?i)credentials|login|auth"):
        Client(base, verbose=False)
    with pytest.raises(Exception, match="(?i)credentials|login|auth"):
        Client(base, auth=(USER, "wrong"), verbose=False)
    client = Client(base, auth=(USER, PASSWORD), verbose=False)
    _, messages = client.predict("How hot should green tea be?", [], api_name="/ask")
    final = messages[-1]["content"]
    text = final[0]["text"] if isinstance(final, list) else final
    assert "80 degrees Celsius [1]" in text
    # Requests that name the machine's address, from another site, are still refused.
    lan = {"Host": f"192.168.7.7:{port}", "Origin": "http://evil.example"}
    status, headers, _ = fetch(port, "/config", headers=lan)
    assert status == 403 and "access-control-allow-origin" not in headers


def test_login_also_applies_on_loopback_when_given(serve):
    _, port, _ = serve(ui_username=USER, ui_password=PASSWORD)
    assert fetch(port, "/gradio_api/info")[0] == 401


def test_cli_ui_refuses_non_loopback_without_login(tmp_path, capsys):
    code = cli.main(["ui", "--db", str(tmp_path / "db"), "--host", "0.0.0.0", "--port", "1"])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("rag: error: binding '0.0.0.0'") and "RAG_UI_PASSWORD" in err


def test_cli_ui_reads_the_password_from_a_file_or_stdin(tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(cli, "_load_frontend", lambda name: lambda *a, **kw: calls.append(kw))
    monkeypatch.setattr(cli, "_engine", lambda args, **extra: make_engine(tmp_path))
    secret = tmp_path / "pw"
    secret.write_text("s3cret with spaces\nignored\n")
    argv = ["ui", "--host", "0.0.0.0", "--username", "u", "--password-file"]
    assert cli.main([*argv, str(secret)]) == 0
    assert calls[-1] == {
        "host": "0.0.0.0",
        "port": 7860,
        "username": "u",
        "password": "s3cret with spaces",
    }
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO("from-stdin\n"))
    assert cli.main([*argv, "-"]) == 0 and calls[-1]["password"] == "from-stdin"
    for bad, message in ((tmp_path / "missing", "cannot read"), (tmp_path / "empty", "is empty")):
        if bad.name == "empty":
            bad.write_text("")
        assert cli.main([*argv, str(bad)]) == 1
        assert message in capsys.readouterr().err


def test_concurrent_attacks_do_not_disturb_a_streaming_answer(serve):
    """The guard is stateless: hostile requests in parallel with a chat leave it intact."""
    from gradio_client import Client

    _, port, _ = serve()
    client = Client(f"http://127.0.0.1:{port}", verbose=False)
    job = client.submit("How hot should green tea be?", [], api_name="/ask")
    hostile = [
        threading.Thread(target=fetch, args=(port, "/gradio_api/file=/etc/passwd"))
        for _ in range(10)
    ]
    for t in hostile:
        t.start()
    for t in hostile:
        t.join()
    _, messages = job.result(timeout=30)
    final = messages[-1]["content"]
    assert "80 degrees Celsius" in (final[0]["text"] if isinstance(final, list) else final)
