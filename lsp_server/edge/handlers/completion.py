"""`textDocument/completion`, only for editors without inline completion: the
suggestion as one completion item."""

from __future__ import annotations

from lsprotocol import types

from lsp_server.edge.language_server import GhostlsServer
from lsp_server.edge.replies import completion_item
from lsp_server.edge.snapshot import take_request
from lsp_server.edge.suggest import suggest


async def completion(ls: GhostlsServer, params: types.CompletionParams) -> types.CompletionList:
    request = take_request(ls, params.text_document.uri, params.position, streaming=False)
    suggestion = await suggest(ls, request, params.position, streaming=False)
    if request is None or suggestion is None:
        return types.CompletionList(is_incomplete=True, items=[])
    ls.reports.answered(suggestion.item_id, suggestion.text)
    document, offset = request.snapshot.document, request.snapshot.offset
    return types.CompletionList(
        is_incomplete=True, items=[completion_item(document, offset, params.position, suggestion)]
    )
