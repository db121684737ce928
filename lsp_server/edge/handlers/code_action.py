"""`textDocument/codeAction`, the run-action command, the redirect request and
`window/workDoneProgress/cancel`: the code actions service (`edge/actions`)."""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from lsp_server.edge.language_server import GhostlsServer


def code_action(ls: GhostlsServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
    return ls.actions.code_actions(params)


async def run_action(ls: GhostlsServer, *args: Any) -> dict[str, Any]:
    return await ls.actions.run(args)


def redirect_action(ls: GhostlsServer, params: Any) -> dict[str, Any]:
    return ls.actions.redirect(params)


def work_done_progress_cancel(
    ls: GhostlsServer, params: types.WorkDoneProgressCancelParams
) -> None:
    ls.actions.progress_cancelled(params.token)
