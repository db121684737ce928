"""The editor's word-suggest widget is open: answer as if its selected item were typed.

VS Code asks for inline completions with `context.selectedCompletionInfo` (LSP 3.18)
while its suggest widget shows, and draws ghost text then only for an item that
replaces the same range and starts with the selected item's text. So the suggestion
is computed for the document with that item applied (the cursor after it), and the
answer replaces the item's range with the item's text plus the suggestion, as Copilot
does. Pure: positions in, positions out.
"""

from __future__ import annotations

from dataclasses import replace

from lsprotocol import types

from lsp_server.completion.generation import Suggestion
from lsp_server.workspace.document import Pos, TextDocument


def with_selected(
    document: TextDocument, selected: types.SelectedCompletionInfo
) -> tuple[TextDocument, int, int]:
    """(the document with the selected item applied, the cursor offset in it after the
    item, the offset in `document` where the item's range ends)."""
    start = document.offset_at(Pos(selected.range.start.line, selected.range.start.character))
    end = document.offset_at(Pos(selected.range.end.line, selected.range.end.character))
    end = max(start, end)
    text = document.text[:start] + selected.text + document.text[end:]
    return replace(document, text=text), start + len(selected.text), end


def selected_item_list(
    document: TextDocument,
    selected: types.SelectedCompletionInfo,
    end: int,
    suggestion: Suggestion,
    command: types.Command,
) -> types.InlineCompletionList:
    """The item VS Code can show beside the widget: from the selected item's start to
    its end (plus the closing characters the suggestion replaces), the item's text
    followed by the suggestion."""
    stop = document.position_at(min(len(document.text), end + suggestion.replace))
    item = types.InlineCompletionItem(
        insert_text=selected.text + suggestion.text,
        range=types.Range(selected.range.start, types.Position(stop.line, stop.character)),
        command=command,
    )
    return types.InlineCompletionList(items=[item])
