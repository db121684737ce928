"""`textDocument/inlineCompletion`: ghost text, streamed on with
`ghostls/inlineCompletionUpdate` to clients that take it."""

from __future__ import annotations

from lsprotocol import types

from lsp_server.edge.language_server import GhostlsServer
from lsp_server.edge.replies import accepted_command, inline_completion_list
from lsp_server.edge.selected import selected_item_list
from lsp_server.edge.snapshot import take_request
from lsp_server.edge.suggest import suggest


async def inline_completion(
    ls: GhostlsServer, params: types.InlineCompletionParams
) -> types.InlineCompletionList | None:
    streaming = ls.settings.streaming
    selected = params.context.selected_completion_info if params.context else None
    request = take_request(ls, params.text_document.uri, params.position, streaming, selected)
    suggestion = await suggest(ls, request, params.position, streaming, selected is not None)
    if request is None or suggestion is None:
        return types.InlineCompletionList(items=[])
    ls.reports.answered(suggestion.item_id, suggestion.text)
    if selected is not None:
        if suggestion.dedent:
            # VS Code previews an item beside its suggest widget only when it extends
            # the selected item's edit; one that also removes indentation does not.
            return types.InlineCompletionList(items=[])
        command = accepted_command(suggestion)
        return selected_item_list(request.live, selected, request.item_end, suggestion, command)
    snapshot = request.snapshot
    return inline_completion_list(snapshot.document, snapshot.offset, params.position, suggestion)
