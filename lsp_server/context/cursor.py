"""The cursor context: everything the prompt stage may use, as one frozen value."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlparse

from lsp_server.workspace.document import TextDocument


@dataclass(frozen=True)
class Snippet:
    """Text from another file (an open document, a recent edit, a definition)."""

    path: str
    text: str


@dataclass(frozen=True)
class ScopeHeader:
    """The header (signature lines) of a definition around the cursor."""

    start: int  # code-point offset of its first line in the document
    text: str


@dataclass(frozen=True)
class SnippetChoice:
    """The neighbour snippets chosen for a document, and the cursor line they were chosen
    at: what the next request in that document is given back to keep (`sticky`)."""

    line: int
    snippets: tuple[Snippet, ...]


@dataclass(frozen=True)
class CursorContext:
    uri: str
    path: str
    language_id: str
    version: int
    prefix: str  # the whole document before the cursor; the prompt stage windows it
    suffix: str  # the whole document after the cursor
    snippets: tuple[Snippet, ...] = ()
    scopes: tuple[ScopeHeader, ...] = ()  # enclosing definitions, outermost first
    multiline: bool | None = None  # from the syntax tree; None: decide from the text
    # The document was asked for before (its prompt's head is likely in the backend's
    # cache): the prompt may keep a stable head after a jump (`prompt/build.py`).
    seen_before: bool = False
    # The snippets' choice, for the caller to give back with the next request in this
    # document (`context/sticky.py`); None when no choice was made.
    chosen: SnippetChoice | None = None


def display_path(uri: str) -> str:
    """The file name a model sees in file headers: the path of a file URI, or the URI."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return unquote(parsed.path)
    return uri


def build_cursor_context(
    document: TextDocument, offset: int, snippets: tuple[Snippet, ...] = ()
) -> CursorContext:
    return CursorContext(
        uri=document.uri,
        path=display_path(document.uri),
        language_id=document.language_id,
        version=document.version,
        prefix=document.text[:offset],
        suffix=document.text[offset:],
        snippets=snippets,
    )
