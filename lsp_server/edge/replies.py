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


def placed(
    document: TextDocument, offset: int, position: types.Position, suggestion: Suggestion
) -> tuple[types.Range, str]:
    """The range an item replaces and its text: from the cursor (to the closing
    characters the suggestion replaces, `replaced_end`), the suggestion. One that
    removes some of the line's indentation (`Suggestion.dedent`: `return x` one level
    out of the body the editor indented into) replaces the line from its start, its
    text the line so far less that indentation, then the suggestion — the shape of
    Copilot's items: VS Code draws the text after the indentation as ghost text and
    applies the whole edit on accept (`computeGhostText`), Neovim's plugin overlays
    the line (docs/protocol.md)."""
    end = replaced_end(document, offset, suggestion)
    if not suggestion.dedent:
        return types.Range(position, end), suggestion.text
    head = document.text[document.text.rfind("\n", 0, offset) + 1 : offset]
    if not head.startswith(" " * suggestion.dedent):
        raise ValueError(f"dedent {suggestion.dedent} past the line's indentation {head!r}")
    start = types.Position(position.line, 0)
    return types.Range(start, end), head[suggestion.dedent :] + suggestion.text


def inline_completion_list(
    document: TextDocument, offset: int, position: types.Position, suggestion: Suggestion
) -> types.InlineCompletionList:
    """One item, over the range `placed` says."""
    span, text = placed(document, offset, position, suggestion)
    item = types.InlineCompletionItem(
        insert_text=text, range=span, command=accepted_command(suggestion)
    )
    return types.InlineCompletionList(items=[item])


def completion_item(
    document: TextDocument, offset: int, position: types.Position, suggestion: Suggestion
) -> types.CompletionItem:
    """The fallback item: replaces the word being typed with word + suggestion, so the
    editor's filtering (which matches on the word) keeps it visible; one that dedents
    replaces the line from its start (`placed`), filtered on its text after the
    indentation (VS Code skips the leading whitespace of what it filters)."""
    if suggestion.dedent:
        span, text = placed(document, offset, position, suggestion)
        start, end = span.start, span.end
    else:
        line_start = document.text.rfind("\n", 0, offset) + 1
        match = _WORD_TAIL.search(document.text[line_start:offset])
        word = match.group(0) if match else ""
        units = units_in(word, document.encoding)
        start = types.Position(position.line, position.character - units)
        text = word + suggestion.text
        end = replaced_end(document, offset, suggestion)
    first_line = text.split("\n", 1)[0]
    if suggestion.dedent:
        first_line = first_line.lstrip(" ")
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
    placement: tuple[types.Range, str] | None = None,
) -> dict[str, Any]:
    """`placement`: the item's range and text (`placed`); None: an insertion of the
    update's text at `position`."""
    span, text = placement or (types.Range(position, position), update.text)
    return {
        "uri": uri,
        "version": version,
        "position": {"line": position.line, "character": position.character},
        "itemId": update.item_id,
        "text": text,
        "done": update.done,
        # As the item's: from the request's position (the line's start when the
        # suggestion dedents) to the end of what `text` replaces (the position when it
        # only inserts; only a `done` update may replace after the cursor).
        "range": {
            "start": {"line": span.start.line, "character": span.start.character},
            "end": {"line": span.end.line, "character": span.end.character},
        },
    }
