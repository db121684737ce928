"""ghostls's additions to LSP, and the builders for the standard replies.

Documented for client authors in docs/protocol.md. Everything here is additive: an
editor that knows none of it still gets standard inline completions.
"""

from __future__ import annotations

import re
from typing import Any

from lsprotocol import types

from lsp_server.completion.generation import StatusEvent, Suggestion
from lsp_server.workspace.document import Pos, TextDocument, units_in

STATUS_NOTIFICATION = "ghostls/status"
INLINE_COMPLETION_UPDATE = "ghostls/inlineCompletionUpdate"
ACCEPTED_COMMAND = "ghostls.accepted"

_WORD_TAIL = re.compile(r"[\w$]+$")


def wire_pos(position: types.Position) -> Pos:
    """A position as the wire gave it, in the workspace's own type."""
    return Pos(position.line, position.character)


def accepted_command(suggestion: Suggestion) -> types.Command:
    return types.Command(
        title="ghostls: accepted", command=ACCEPTED_COMMAND, arguments=[suggestion.item_id]
    )


def replaced_end(document: TextDocument, offset: int, suggestion: Suggestion) -> types.Position:
    """Where the text a suggestion replaces ends (the cursor when it only inserts), in
    the document's negotiated position encoding."""
    end = document.position_at(offset + suggestion.replace)
    return types.Position(end.line, end.character)


def inline_completion_list(
    suggestion: Suggestion, position: types.Position, end: types.Position | None = None
) -> types.InlineCompletionList:
    """One item; its range runs from the request's position to `end` when the
    suggestion replaces the closing characters after the cursor."""
    item = types.InlineCompletionItem(
        insert_text=suggestion.text,
        range=types.Range(position, end or position),
        command=accepted_command(suggestion),
    )
    return types.InlineCompletionList(items=[item])


def completion_item(
    document: TextDocument, offset: int, position: types.Position, suggestion: Suggestion
) -> types.CompletionItem:
    """The fallback item: replaces the word being typed with word + suggestion, so the
    editor's filtering (which matches on the word) keeps it visible."""
    line_start = document.text.rfind("\n", 0, offset) + 1
    match = _WORD_TAIL.search(document.text[line_start:offset])
    word = match.group(0) if match else ""
    start = types.Position(position.line, position.character - units_in(word, document.encoding))
    text = word + suggestion.text
    end = replaced_end(document, offset, suggestion)
    first_line = text.split("\n", 1)[0]
    return types.CompletionItem(
        label=first_line.strip()[:80] or text.strip()[:80],
        kind=types.CompletionItemKind.Text,
        detail="ghostls",
        filter_text=first_line,
        sort_text="0",
        insert_text_format=types.InsertTextFormat.PlainText,
        text_edit=types.TextEdit(range=types.Range(start, end), new_text=text),
        command=accepted_command(suggestion),
    )


def status_params(event: StatusEvent, backend: str, model: str) -> dict[str, Any]:
    return {
        "state": event.state,
        "backend": backend,
        "model": model,
        "detail": event.detail,
        "latencyMs": None if event.latency_ms is None else round(event.latency_ms, 1),
    }


def update_params(
    uri: str,
    version: int,
    position: types.Position,
    update: Suggestion,
    end: types.Position | None = None,
) -> dict[str, Any]:
    end = end or position
    return {
        "uri": uri,
        "version": version,
        "position": {"line": position.line, "character": position.character},
        "itemId": update.item_id,
        "text": update.text,
        "done": update.done,
        # From the request's position to the end of what `text` replaces (the same
        # position when it only inserts; only a `done` update may replace).
        "range": {
            "start": {"line": position.line, "character": position.character},
            "end": {"line": end.line, "character": end.character},
        },
    }
