"""Assemble the cursor context from a snapshot of the open documents (synchronous, so a
handler calls it before its first `await`): the document's text around the cursor,
its enclosing scopes and the multi-line decision from the syntax tree when there is
one, and neighbour snippets from the other open documents and recent edits — never
from secret-looking or ignored files (`hygiene`)."""

from __future__ import annotations

from pathlib import Path

from lsp_server.context.cursor import (
    CursorContext,
    ScopeHeader,
    build_cursor_context,
    display_path,
)
from lsp_server.context.document import TextDocument
from lsp_server.context.hygiene import IgnoreRules, clean_snippets, is_sensitive_path
from lsp_server.context.neighbours import RecentEdits, gather_sources, rank_neighbour_snippets
from lsp_server.context.scope import multiline_from_syntax, scope_headers
from lsp_server.context.syntax import SyntaxStore, byte_offset


def load_ignore_rules(root: str | None) -> IgnoreRules:
    """The workspace's `.gitignore` (an empty rule set when there is none)."""
    if not root:
        return IgnoreRules()
    try:
        return IgnoreRules.parse((Path(root) / ".gitignore").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return IgnoreRules()


def assemble_context(
    document: TextDocument,
    offset: int,
    documents: dict[str, TextDocument],
    syntax: SyntaxStore,
    recent: RecentEdits,
    ignore: IgnoreRules | None = None,
    root: str = "",
    budget_chars: int = 2048,
) -> CursorContext:
    context = build_cursor_context(document, offset)
    root = root.rstrip("/") + "/" if root else ""

    def allowed(path: str) -> bool:
        if is_sensitive_path(path):
            return False
        inside = bool(root) and path.startswith(root)
        return not (ignore is not None and inside and ignore.ignores(path[len(root) :]))

    texts = {uri: other.text for uri, other in documents.items()}
    sources = gather_sources(document.uri, texts, recent, display_path, allowed)
    snippets = rank_neighbour_snippets(context.prefix, context.suffix, sources, budget_chars)
    tree = syntax.get(document.uri)
    scopes: tuple[ScopeHeader, ...] = ()
    multiline: bool | None = None
    if tree is not None:
        byte = byte_offset(document.text, offset)
        scopes = scope_headers(tree.tree, tree.data, byte)
        multiline = multiline_from_syntax(tree.tree, tree.data, byte)
    return CursorContext(
        uri=context.uri,
        path=context.path,
        language_id=context.language_id,
        version=context.version,
        prefix=context.prefix,
        suffix=context.suffix,
        snippets=clean_snippets(snippets, ignore, root),
        scopes=scopes,
        multiline=multiline,
    )
