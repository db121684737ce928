"""The one mutable store: the open documents, their syntax trees, the places edited
lately, and the ignore rules read from the workspace root. The edge changes it on
`didOpen` / `didChange` / `didClose`; a request reads it once, through `snapshot`."""

from __future__ import annotations

from dataclasses import dataclass, field

from lsp_server.settings import Settings
from lsp_server.workspace.document import Change, EditOutcome, PositionEncoding, TextDocument
from lsp_server.workspace.ignore import load_ignore_rules
from lsp_server.workspace.recent_edits import RecentEdits
from lsp_server.workspace.snapshot import Snapshot
from lsp_server.workspace.syntax import SyntaxStore, parsed_source


@dataclass(frozen=True)
class Changed:
    """A `didChange` applied: the document now, its text before, what was clamped."""

    document: TextDocument
    before: str
    outcome: EditOutcome


@dataclass
class WorkspaceStore:
    documents: dict[str, TextDocument] = field(default_factory=dict)
    syntax: SyntaxStore = field(default_factory=SyntaxStore)  # trees of open documents
    recent_edits: RecentEdits = field(default_factory=RecentEdits.empty)

    def open(
        self,
        uri: str,
        text: str,
        version: int,
        language_id: str,
        encoding: PositionEncoding = PositionEncoding.UTF16,
    ) -> TextDocument:
        document = TextDocument(uri, text, version, language_id, encoding)
        self.documents[uri] = document
        self.syntax.open(uri, text, language_id)
        return document

    def change(self, uri: str, changes: list[Change], version: int) -> Changed | None:
        """Apply a `didChange`; None for a document that is not open."""
        document = self.documents.get(uri)
        if document is None:
            return None
        before = document.text
        outcome = document.apply(changes, version)
        self.syntax.change(uri, document.text)
        self.recent_edits.record(uri, before, document.text)
        return Changed(document, before, outcome)

    def close(self, uri: str) -> None:
        self.documents.pop(uri, None)
        self.syntax.close(uri)
        self.recent_edits.forget(uri)

    def snapshot(
        self,
        document: TextDocument,
        offset: int,
        root: str,
        settings: Settings,
        streaming: bool,
        detached: bool = False,
    ) -> Snapshot:
        """What a completion at `offset` in `document` needs, copied now. `document`
        is an open one (or a variant of it: a selected item applied, whose tree is the
        open document's); `detached` for a text no editor holds (the text after an
        accepted suggestion, a file read from disk): it replaces the open document of
        its URI among the texts, and is parsed here."""
        texts = {uri: other.text for uri, other in self.documents.items()}
        if detached:
            texts[document.uri] = document.text
            syntax = parsed_source(document.text, document.language_id)
        else:
            syntax = self.syntax.source(document.uri)
        return Snapshot(
            document=document.copy(),
            offset=offset,
            texts=texts,
            syntax=syntax,
            recent=tuple(self.recent_edits.places),
            ignore=load_ignore_rules(root),
            root=root,
            settings=settings,
            streaming=streaming,
        )
