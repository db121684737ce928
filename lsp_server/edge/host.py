"""What the editor-facing services read from the server, and nothing more.

The server passes itself as the `ServiceHost` (it has all of these) together with its
pygls `LanguageServer` face for editor round trips; a service never imports the server
module, so the import graph goes server → services, never back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from lsp_server.backends.base import Backend
from lsp_server.backends.policy import url_from_user
from lsp_server.settings import Settings, merge_wire, wire_from_environment
from lsp_server.workspace.document import PositionEncoding
from lsp_server.workspace.store import WorkspaceStore


class ServiceHost(Protocol):
    @property
    def store(self) -> WorkspaceStore: ...  # documents, syntax trees, recent edits

    @property
    def encoding(self) -> PositionEncoding: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def backend(self) -> Backend | None: ...

    # The settings layers as the user and the workspace sent them (the endpoint policy
    # asks which layer set a URL).
    @property
    def cli_wire(self) -> dict[str, Any]: ...

    @property
    def init_wire(self) -> dict[str, Any]: ...

    @property
    def config_wire(self) -> dict[str, Any]: ...

    async def backend_ready(self) -> None: ...

    def tell_once(self, message: str, kind: types.MessageType) -> None: ...

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[None]: ...


def profile_url_from_user(host: ServiceHost, *section: str) -> bool:
    """The endpoint policy's question for a backend profile (`actions`, `nextEdit.backend`):
    was the URL in use set by a user-controlled layer (environment, CLI,
    initializationOptions), rather than by a workspace's configuration alone?"""

    def url(wire: Any) -> Any:
        for key in section:
            wire = wire.get(key) if isinstance(wire, dict) else None
        return wire.get("url") if isinstance(wire, dict) else None

    user = url(merge_wire(wire_from_environment(), host.cli_wire, host.init_wire))
    workspace = url(host.config_wire)
    if user is None and workspace is None:  # inherited from `backend`
        return url_from_user(host.cli_wire, host.init_wire, host.config_wire)
    return workspace is None or workspace == user


def forward(server: LanguageServer, method: str, handle: Callable[[Any], object]) -> None:
    """Register `method` (a notification, or a request answered at once) to call
    `handle` with its params. pygls tags what it registers: a bound method cannot be."""

    def handler(params: Any) -> object:
        return handle(params)

    server.feature(method)(handler)
