"""The server and what answers each message: registration only. The handlers live one
module per LSP method or family in `edge/handlers/`, the services register their own
methods (`register_*`); none of them imports this module.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from lsp_server.actions.catalogue import RUN_ACTION_COMMAND
from lsp_server.edge.action_lsp import CODE_ACTION_OPTIONS
from lsp_server.edge.actions import REDIRECT_ACTION
from lsp_server.edge.debuginfo import register_debug
from lsp_server.edge.handlers import accepted, code_action, documents, inline_completion, lifecycle
from lsp_server.edge.language_server import GhostlsServer
from lsp_server.edge.next_edit import register_next_edit
from lsp_server.edge.replies import ACCEPTED_COMMAND
from lsp_server.edge.reports import register_reports
from lsp_server.settings import load_settings

server = GhostlsServer()

server.feature(types.INITIALIZE)(lifecycle.initialize)  # may add textDocument/completion
server.feature(types.INITIALIZED)(lifecycle.initialized)
server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)(lifecycle.did_change_configuration)
server.feature(types.SHUTDOWN)(lifecycle.shutdown)

server.feature(types.TEXT_DOCUMENT_DID_OPEN)(documents.did_open)
server.feature(types.TEXT_DOCUMENT_DID_CHANGE)(documents.did_change)
server.feature(types.TEXT_DOCUMENT_DID_CLOSE)(documents.did_close)

server.feature(
    types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions(work_done_progress=False)
)(inline_completion.inline_completion)
server.command(ACCEPTED_COMMAND)(accepted.accepted)

server.feature(types.TEXT_DOCUMENT_CODE_ACTION, CODE_ACTION_OPTIONS)(code_action.code_action)
server.command(RUN_ACTION_COMMAND)(code_action.run_action)
server.feature(REDIRECT_ACTION)(code_action.redirect_action)
server.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)(code_action.work_done_progress_cancel)

register_debug(server)  # ghostls/debugInfo, only with GHOSTLS_DEBUG=1
register_next_edit(server, server.next_edits)  # textDocument/copilotInlineEdit
register_reports(server, server.reports)  # textDocument/didShowCompletion, …, ghostls/stats


def create_server(cli_wire: dict[str, Any] | None = None) -> GhostlsServer:
    server.cli_wire = cli_wire or {}
    server.settings, problems = load_settings(server.cli_wire)
    server._problems = problems
    return server
