"""The one network policy of every face that listens: the web UI and the HTTP API.

- Off loopback a face needs a secret (an API key, a login): otherwise the documents and
  the model are open to every machine that can reach the port.
- A `Host` header must name where the server is bound (or loopback): DNS rebinding lets a
  web page reach 127.0.0.1 under a name its attacker controls. Bound to every interface,
  any name may reach the server, and the secret guards it.
- An `Origin` header must be the server itself: a page elsewhere may not drive it.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..errors import InputError

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})
_HOST = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9._-]*)(?::([0-9]{1,5}))?", re.I)
_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def is_loopback(host: str) -> bool:
    """True only for names that cannot be reached from another machine."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # any other name may resolve to a public interface


def require_secret(host: str, has_secret: bool, face: str, secret: str, how: str) -> None:
    """Refuse to listen off loopback without a secret, before anything starts: the
    `InputError` names the `face` exposed, the `secret` missing and `how` to set it."""
    if not has_secret and not is_loopback(host):
        raise InputError(
            f"binding {host!r} would expose {face} to other machines without {secret}: "
            f"set {how}, or bind 127.0.0.1"
        )


def authority(host: str, scheme: str) -> tuple[str, int] | None:
    """(name, port) of a Host header; None for anything but a plain name or address (no
    userinfo, paths or spaces, which URL parsers would read in surprising ways)."""
    match = _HOST.fullmatch(host.strip())
    if match is None:
        return None
    port = int(match.group(2)) if match.group(2) else _PORTS.get(scheme, 80)
    return match.group(1).strip("[]").lower(), port


def same_origin(origin: str, server: tuple[str, int]) -> bool:
    """An `Origin` header naming exactly the server (a web page's origin is http(s))."""
    try:
        parts = urlsplit(origin)
    except ValueError:  # e.g. an unbalanced "[" in an IPv6 literal
        return False
    if parts.scheme not in ("http", "https") or parts.username is not None or parts.path:
        return False
    return authority(parts.netloc, parts.scheme) == server


@dataclass(frozen=True)
class Refusal:
    """Why a request's headers are refused, with the HTTP status that says so."""

    status: int
    reason: str


class HeaderPolicy:
    """The Host and Origin rules for a server bound to `bound_host`."""

    def __init__(self, bound_host: str) -> None:
        bound = bound_host.strip().strip("[]").lower()
        self.hosts = None if bound in WILDCARD_HOSTS else {bound}

    def refusal(self, host: str, origin: str | None, scheme: str) -> Refusal | None:
        """The refusal for a request with these headers, or None to let it through."""
        server = authority(host, scheme)
        if server is None:
            return Refusal(400, f"bad Host header {host!r}")
        if self.hosts is not None and not (is_loopback(server[0]) or server[0] in self.hosts):
            return Refusal(403, f"unknown host {host!r}")
        if origin is not None and not same_origin(origin, server):
            return Refusal(403, "cross-origin requests are not allowed")
        return None
