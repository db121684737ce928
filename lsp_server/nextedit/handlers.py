"""The next-edit methods on the wire (docs/protocol.md, "Next edits")."""

from __future__ import annotations

from typing import Any

from pygls.lsp.server import LanguageServer

from lsp_server.nextedit.service import (
    ACCEPTED_COMMAND,
    DID_SHOW_INLINE_EDIT,
    INLINE_EDIT,
    REJECTED_NOTIFICATION,
)


def register_next_edit(server: LanguageServer) -> None:
    @server.feature(INLINE_EDIT)
    async def copilot_inline_edit(ls: Any, params: Any) -> dict[str, Any]:
        result: dict[str, Any] = await ls.next_edits.inline_edit(params)
        return result

    @server.feature(DID_SHOW_INLINE_EDIT)
    def did_show_inline_edit(ls: Any, params: Any) -> None:
        ls.next_edits.shown(params)

    @server.feature(REJECTED_NOTIFICATION)
    def next_edit_rejected(ls: Any, params: Any) -> None:
        ls.next_edits.rejected(params)

    @server.command(ACCEPTED_COMMAND)
    def next_edit_accepted(ls: Any, *args: Any) -> dict[str, int]:
        counts: dict[str, int] = ls.next_edits.accepted(args)
        return counts
