"""Endpoint policy: which backend URLs ghostls may send code (and keys) to.

A workspace is not trusted the way the user is: anyone can commit a
`.vscode/settings.json`. So the rules, checked before a backend is created:

- only `http` and `https` URLs; `file://` and every other scheme is refused;
- link-local hosts (169.254.0.0/16, fe80::/10: cloud metadata services) are refused;
- a host that is not loopback (127.0.0.0/8, ::1, `localhost`) is used only when the
  URL comes from a layer the user controls: the environment, the command line or the
  editor's `initializationOptions` (built from user settings). A URL that only
  `workspace/configuration` supplies (it merges workspace files) must be loopback.
- credentials never cross a redirect: the HTTP client follows none
  (`backends/http.py`), and TLS verification has no setting that turns it off.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from lsp_server.errors import GhostlsError
from lsp_server.settings import merge_wire, wire_from_environment

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
HTTP_KINDS = frozenset({"openai", "openai-chat", "ollama", "llamacpp"})


class EndpointRefused(GhostlsError):
    """The backend URL breaks the endpoint policy; the message says how to allow it."""


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def is_loopback(host: str) -> bool:
    address = _address(host)
    if address is not None:
        return address.is_loopback
    return host.lower().rstrip(".") in LOOPBACK_NAMES


def check_backend_url(url: str, user_configured: bool) -> None:
    """Raise `EndpointRefused` unless ghostls may talk to `url`."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise EndpointRefused(
            f"backend.url scheme '{scheme or '(none)'}' is not allowed: use http:// or https://"
        )
    host = parts.hostname or ""
    if not host:
        raise EndpointRefused("backend.url has no host: use e.g. http://127.0.0.1:8080")
    address = _address(host)
    if address is not None and address.is_link_local:
        raise EndpointRefused(
            f"backend.url host {host} is link-local (a cloud metadata address); refused"
        )
    if not is_loopback(host) and not user_configured:
        raise EndpointRefused(
            f"backend.url {scheme}://{host} is not on this machine and comes only from "
            "workspace settings; set it in your user settings or with --url to allow it"
        )


def _url(wire: Mapping[str, Any] | None) -> Any:
    backend = wire.get("backend") if isinstance(wire, Mapping) else None
    return backend.get("url") if isinstance(backend, Mapping) else None


def url_from_user(
    cli_wire: Mapping[str, Any] | None,
    init_wire: Mapping[str, Any] | None,
    config_wire: Mapping[str, Any] | None,
) -> bool:
    """True when the effective backend URL is the one a user-controlled layer set
    (environment, CLI, `initializationOptions`), not one `workspace/configuration`
    alone supplied."""
    user = _url(merge_wire(wire_from_environment(), cli_wire, init_wire))
    workspace = _url(config_wire)
    return workspace is None or workspace == user


def check_backend(kind: str, url: str | Sequence[str], user_configured: bool) -> None:
    """The policy for a backend kind: only HTTP kinds have an endpoint. Every URL of a
    fleet must pass on its own."""
    if kind in HTTP_KINDS:
        for one in (url,) if isinstance(url, str) else url:
            check_backend_url(one, user_configured)
