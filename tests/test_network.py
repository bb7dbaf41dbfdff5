"""The one Host / Origin / secret policy, and both listening faces keeping to it."""

from __future__ import annotations

import pytest

from rag import InputError
from rag.safety.network import HeaderPolicy, require_secret
from rag.server import check_binding
from tests.fakes import make_engine
from ui.app import RequestGuard, ui_login

# (bound host, Host header, Origin header, scheme) -> HTTP status of the refusal, or None
CASES = [
    ("127.0.0.1", "127.0.0.1:7860", None, "http", None),
    ("127.0.0.1", "localhost:7860", "http://localhost:7860", "http", None),
    ("127.0.0.1", "[::1]:7860", None, "http", None),
    ("127.0.0.1", "evil.example:7860", None, "http", 403),  # DNS rebinding
    ("127.0.0.1", "127.0.0.1:7860", "http://evil.example", "http", 403),
    ("127.0.0.1", "127.0.0.1:7860", "http://127.0.0.1:7861", "http", 403),  # another port
    ("127.0.0.1", "127.0.0.1:7860", "http://127.0.0.1:7860/x", "http", 403),
    ("127.0.0.1", "127.0.0.1:7860", "http://user@127.0.0.1:7860", "http", 403),
    ("127.0.0.1", "127.0.0.1:7860", "null", "http", 403),
    ("127.0.0.1", "127.0.0.1:7860", "http://[::1", "http", 403),  # unparsable
    ("127.0.0.1", "a b", None, "http", 400),
    ("127.0.0.1", "user@127.0.0.1", None, "http", 400),
    ("127.0.0.1", "127.0.0.1", "https://127.0.0.1", "wss", None),  # default ports: 443
    ("192.168.1.5", "192.168.1.5:7860", None, "http", None),
    ("192.168.1.5", "other.lan:7860", None, "http", 403),
    ("0.0.0.0", "any.name.lan:7860", "http://any.name.lan:7860", "http", None),
    ("::", "[fe80::1]:7860", None, "http", None),
]


@pytest.mark.parametrize(("bound", "host", "origin", "scheme", "status"), CASES)
def test_header_policy(bound, host, origin, scheme, status):
    refused = HeaderPolicy(bound).refusal(host, origin, scheme)
    assert (refused and refused.status) == status


@pytest.mark.parametrize(("bound", "host", "origin", "scheme", "status"), CASES)
def test_the_ui_and_the_api_refuse_the_same_requests(tmp_path, bound, host, origin, scheme, status):
    from rag.server import _Guard

    headers = [(b"host", host.encode())] + ([(b"origin", origin.encode())] if origin else [])
    scope = {"type": "http", "scheme": scheme, "method": "GET", "path": "/", "headers": headers}
    api = _Guard(None, api_key="", host=bound).refusal(scope)
    ui = RequestGuard(None, tmp_path, bound).refusal(scope)
    assert (api.status_code if api else None) == status
    assert (ui is not None) == (status is not None), ui


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.2", "box.lan", ""])
def test_off_loopback_both_faces_demand_a_secret(tmp_path, host):
    with pytest.raises(InputError, match="without a key: set RAG_API_KEY"):
        check_binding(host, "")
    with pytest.raises(InputError, match="without a login: set RAG_UI_USERNAME"):
        ui_login(make_engine(tmp_path), host)
    check_binding(host, "k")
    assert ui_login(make_engine(tmp_path / "2"), host, "u", "p") == ("u", "p")


def test_loopback_needs_no_secret():
    for host in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.7"):
        require_secret(host, False, "the API", "a key", "RAG_API_KEY")
