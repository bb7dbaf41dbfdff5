"""End to end in a real browser: Debian's headless Chromium, driven by Playwright, asks
`rag ui` (real index, real default LLM) a question on localhost and checks the streamed
answer, its citation, the quoted source passage, and that the page never left this
machine. Saves a screenshot of the answer to $RAG_ARTIFACTS (default tests/artifacts/).

Needs `.ci/browser` (Chromium from Debian, the `playwright` package; never
`playwright install`). Missing pieces fail the test: they are not a reason to skip.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.fakes import artifacts

pytestmark = pytest.mark.real

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
# Stop Chromium's own background connections (updates, sync, QUIC probes...): no network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
START_TIMEOUT = float(os.environ.get("RAG_UI_START_TIMEOUT", "300"))  # first run builds the model
ANSWER_TIMEOUT_MS = 120_000
QUESTION = "In which city was Meng Wanzhou arrested?"
BOT = '#rag-chat [data-testid="bot"]'

# Records every distinct text of the last assistant message, so the test sees the stream
# however fast it goes (polling from Python could miss short-lived states).
WATCH_STREAM = """() => {
  window.__ragSeen = [];
  const chat = document.querySelector('#rag-chat');
  const record = () => {
    const bots = chat.querySelectorAll('[data-testid="bot"]');
    if (!bots.length) return;
    const text = bots[bots.length - 1].innerText;
    const seen = window.__ragSeen;
    if (!seen.length || seen[seen.length - 1] !== text) seen.push(text);
  };
  new MutationObserver(record).observe(
    chat, {childList: true, subtree: true, characterData: true});
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, proc: subprocess.Popen, log: Path, url: str) -> None:
        self.proc, self.log, self.url = proc, log, url

    def log_tail(self, chars: int = 6000) -> str:
        text = self.log.read_text("utf-8", errors="replace") if self.log.exists() else ""
        return f"--- rag ui output (exit code {self.proc.poll()}) ---\n{text[-chars:]}"


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("browser")
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    log = tmp / "rag-ui.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    cmd = [sys.executable, "-m", "rag", "ui", "--db", str(tmp / "db"), "--port", str(port)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
    srv = Server(proc, log, url)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"`rag ui` exited before serving\n{srv.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"`rag ui` did not answer on {url} within {START_TIMEOUT:.0f}s\n"
                    f"{srv.log_tail()}"
                )
            time.sleep(1)
        yield srv
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.fail(f"the `playwright` package is missing ({exc}): run `bash .ci/browser`")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} not found: run `bash .ci/browser` (Debian's chromium package)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _local(url: str) -> bool:
    """True for this machine, and for URLs that never touch the network (data:, blob:)."""
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.hostname in LOCAL_HOSTS


def test_question_streams_an_answer_with_its_quoted_source(browser, server):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    requested: list[str] = []
    context.on("request", lambda r: requested.append(r.url))
    page = context.new_page()
    page.on("websocket", lambda ws: requested.append(ws.url))
    shot = artifacts() / "browser-answer.png"
    try:
        page.goto(server.url, wait_until="load", timeout=60_000)
        box = page.locator("#rag-question textarea")
        expect(box).to_be_visible(timeout=60_000)
        expect(page.locator("#rag-status")).to_contain_text("documents", timeout=60_000)
        page.evaluate(WATCH_STREAM)

        box.fill(QUESTION)
        box.press("Enter")

        expect(page.locator('#rag-chat [data-testid="user"]').last).to_contain_text(QUESTION)
        bot = page.locator(BOT).last
        quote = bot.locator("blockquote")
        expect(quote.first).to_contain_text("Vancouver", timeout=ANSWER_TIMEOUT_MS)
        expect(bot.get_by_text("Sources", exact=True)).to_be_visible()

        final = bot.inner_text()
        answer = final.split("Sources")[0]
        assert "Vancouver" in answer, final
        assert re.search(r"\[\d+\]", answer), f"no citation marker in the answer: {final!r}"
        cited = re.search(r"\[(\d+)\]", answer).group(1)
        assert re.search(rf"^\[{cited}\] ", final, re.M), f"source [{cited}] not listed: {final!r}"

        # It came in as checked sentences: every state shown before the sources is a
        # beginning of the final answer (nothing was shown that was later taken back).
        seen = page.evaluate("window.__ragSeen")
        partial = [t.strip().removesuffix("…").strip() for t in seen if "Sources" not in t]
        partial = [t for t in partial if t]
        assert partial, f"no checked sentence was shown before the answer; seen: {seen!r}"
        assert all(answer.strip().startswith(t) for t in partial), (partial, answer)
        source = re.search(r"^(\S+) · ", final, re.M).group(1)  # the cited file

        # Open the cited source: its document, with the supporting span in bold.
        page.locator("#rag-open").get_by_text("Open a source").click()
        page.locator("#rag-open-choice input").click()
        page.get_by_role("option").filter(has_text=f"[{cited}]").first.click()
        document = page.locator("#rag-document")
        expect(document.locator("strong").first).to_be_visible(timeout=30_000)
        assert "Vancouver" in document.inner_text() or "Meng" in document.inner_text()

        page.screenshot(path=str(shot), full_page=True)
        assert shot.exists() and shot.stat().st_size > 20_000, shot

        # The conversation was saved: after a reload it is listed and reopens whole.
        page.reload(wait_until="load")
        expect(page.locator("#rag-question textarea")).to_be_visible(timeout=60_000)
        page.locator("#rag-conversations").get_by_text("Conversations").click()
        page.locator("#rag-conv-list input").click()
        page.get_by_role("option").filter(has_text=QUESTION).first.click()
        page.locator("#rag-conv-open").click()
        expect(page.locator(BOT).last).to_contain_text("Vancouver", timeout=30_000)
        expect(page.locator(BOT).last.get_by_text("Sources", exact=True)).to_be_visible()

        # Ask only another document: the one holding the answer is not searched.
        page.get_by_role("button", name="New conversation").click()
        expect(page.locator(BOT)).to_have_count(0, timeout=30_000)
        page.locator("#rag-scope input").click()
        other = page.get_by_role("option").filter(has_not_text=source).first
        chosen = other.inner_text().strip()
        other.click()
        page.keyboard.press("Escape")
        box.fill(QUESTION)
        box.press("Enter")
        scoped = page.locator(BOT).last
        expect(scoped).to_contain_text(
            re.compile("Sources|chosen documents"), timeout=ANSWER_TIMEOUT_MS
        )
        text = scoped.inner_text()
        assert source not in text, text
        listed = re.findall(r"^(\S+) · ", text, re.M)
        assert listed == [chosen] * len(listed), (chosen, text)

        remote = [u for u in requested if not _local(u)]
        assert not remote, f"the page contacted hosts other than this machine: {remote}"
        assert requested, "no requests were recorded"
    except BaseException:
        with contextlib.suppress(Exception):  # the original failure is the one to report
            page.screenshot(path=str(shot.with_name("browser-failure.png")), full_page=True)
        print(server.log_tail(), file=sys.stderr)
        raise
    finally:
        context.close()
