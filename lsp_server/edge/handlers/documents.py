"""`textDocument/didOpen`, `didChange`, `didClose`: the workspace store follows the
editor's text; the services and the engine hear of each change."""

from __future__ import annotations

import logging

from lsprotocol import types

from lsp_server.edge.language_server import GhostlsServer
from lsp_server.edge.replies import wire_pos
from lsp_server.workspace.document import Change

log = logging.getLogger(__name__)


def did_open(ls: GhostlsServer, params: types.DidOpenTextDocumentParams) -> None:
    item = params.text_document
    ls.store.open(item.uri, item.text, item.version, item.language_id, ls.encoding)
    ls.next_edits.document_opened(item.uri, item.text)


def did_change(ls: GhostlsServer, params: types.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    changes = [
        Change(change.text, wire_pos(change.range.start), wire_pos(change.range.end))
        if isinstance(change, types.TextDocumentContentChangePartial)
        else Change(change.text)
        for change in params.content_changes
    ]
    changed = ls.store.change(uri, changes, params.text_document.version)
    if changed is None:
        log.warning("didChange for a document that is not open: %s", uri)
        return
    text = changed.document.text
    ls.actions.document_changed(uri, changed.before, text)
    ls.next_edits.document_changed(uri, changed.before, text)
    for note in changed.outcome.clamped:
        log.warning("didChange %s clamped: %s", uri, note)
    if ls.engine is not None:
        ls.engine.document_changed(uri, text)


def did_close(ls: GhostlsServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.store.close(params.text_document.uri)
    ls.next_edits.document_closed(params.text_document.uri)
    if ls.engine is not None:
        ls.engine.document_closed(params.text_document.uri)
