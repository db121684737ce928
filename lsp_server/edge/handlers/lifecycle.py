"""`initialize`, `initialized`, `workspace/didChangeConfiguration` (and the
`workspace/configuration` pull), `shutdown`: settings and the backend's start and stop."""

from __future__ import annotations

import logging

from lsprotocol import types

from lsp_server.edge.debuginfo import log_allocations
from lsp_server.edge.handlers.completion import completion
from lsp_server.edge.language_server import GhostlsServer
from lsp_server.settings import load_settings
from lsp_server.workspace.document import PositionEncoding

log = logging.getLogger(__name__)


def negotiated_encoding(chosen: types.PositionEncodingKind | str | None) -> PositionEncoding:
    """pygls picks the client's first supported encoding; mirror it in our documents."""
    value = chosen.value if isinstance(chosen, types.PositionEncodingKind) else chosen
    return PositionEncoding(value or "utf-16")


def initialize(ls: GhostlsServer, params: types.InitializeParams) -> None:
    options = params.initialization_options
    ls.init_wire = options if isinstance(options, dict) else {}
    ls.encoding = negotiated_encoding(ls.workspace.position_encoding)
    ls.settings, ls._problems = load_settings(ls.cli_wire, ls.init_wire)
    text_document = params.capabilities.text_document
    if text_document is None or text_document.inline_completion is None:
        # Only editors without inline completion get the suggestion as a completion
        # item; the others would show it twice (ghost text and the suggest widget).
        ls.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions())(completion)


async def initialized(ls: GhostlsServer, params: types.InitializedParams) -> None:
    ls.tell_problems(ls._problems)
    changed = await pull_configuration(ls)
    # A `didChangeConfiguration` the editor sent meanwhile (Neovim sends one at start)
    # may have started the backend with these very settings: no second start, which
    # would flip the status back to "loading" after it said "ready".
    if changed or ls.backend is None:
        await ls.start_backend()


async def pull_configuration(ls: GhostlsServer) -> bool:
    """Ask the client for section `ghostls` when it can answer; True if the backend changed."""
    workspace = ls.client_capabilities.workspace
    if workspace is None or not workspace.configuration:
        return False
    try:
        items = [types.ConfigurationItem(section="ghostls")]
        result = await ls.workspace_configuration_async(types.ConfigurationParams(items=items))
    except Exception as error:
        log.warning("workspace/configuration failed: %s", error)
        return False
    first = result[0] if result else None
    ls.config_wire = first if isinstance(first, dict) else {}
    return ls.reload_settings()


async def did_change_configuration(
    ls: GhostlsServer, params: types.DidChangeConfigurationParams
) -> None:
    pushed = params.settings.get("ghostls") if isinstance(params.settings, dict) else None
    if isinstance(pushed, dict):
        ls.config_wire = pushed
        changed = ls.reload_settings()
    else:
        changed = await pull_configuration(ls)
    if changed or ls.backend is None:
        await ls.start_backend()


async def shutdown(ls: GhostlsServer, params: None) -> None:
    await ls.actions.aclose()
    await ls.next_edits.aclose()
    await ls.stop_backend()
    ls.reports.flush()
    log_allocations(ls)
