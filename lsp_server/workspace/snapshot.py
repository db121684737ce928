"""A frozen view of the workspace for one completion, taken before a handler's first
`await`: everything the context, the prompt and the cut read later. Nothing after it
reads the live store, so an edit that arrives while a request waits (the debounce, the
backend's start) cannot change what that request builds; the edge compares versions at
the end and answers `ContentModified` instead."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lsp_server.settings import Settings
from lsp_server.workspace.document import TextDocument
from lsp_server.workspace.ignore import IgnoreRules
from lsp_server.workspace.syntax import SyntaxSource


@dataclass(frozen=True)
class Snapshot:
    # The text the suggestion is for (a copy: with the editor's selected suggest-widget
    # item applied, or the text after an accepted suggestion), and the cursor in it.
    document: TextDocument
    offset: int
    texts: Mapping[str, str]  # every open document's text by URI (neighbours, edits)
    syntax: SyntaxSource | None  # the document's tree, when its language has a grammar
    recent: tuple[tuple[str, int, int], ...]  # edited places (uri, lines), newest last
    ignore: IgnoreRules
    root: str  # the workspace root, "" when there is none
    settings: Settings
    streaming: bool  # the client takes updates (ghostls/inlineCompletionUpdate)

    @property
    def prefix(self) -> str:
        return self.document.text[: self.offset]

    @property
    def suffix(self) -> str:
        return self.document.text[self.offset :]
