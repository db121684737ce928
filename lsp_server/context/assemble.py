"""Assemble the cursor context from a snapshot (pure: no I/O, no live store): the
document's text around the cursor, its enclosing scopes and the multi-line decision
from the syntax tree when there is one, and neighbour snippets from the other open
documents and recent edits — never from secret-looking or ignored files (`hygiene`)."""

from __future__ import annotations

from functools import lru_cache

from lsp_server.context.cursor import (
    CursorContext,
    ScopeHeader,
    SnippetChoice,
    build_cursor_context,
    display_path,
)
from lsp_server.context.hygiene import clean_snippets, is_sensitive_path
from lsp_server.context.neighbours import gather_sources, rank_neighbour_snippets
from lsp_server.context.scope import multiline_from_syntax, scope_headers
from lsp_server.context.sticky import choose_snippets
from lsp_server.workspace.ignore import IgnoreRules
from lsp_server.workspace.snapshot import Snapshot
from lsp_server.workspace.syntax import byte_offset


@lru_cache(maxsize=4096)
def _path_of(uri: str) -> str:
    """`display_path`, once per URI (asked for every open document on every request)."""
    return display_path(uri)


@lru_cache(maxsize=4096)
def _allowed(path: str, ignore: IgnoreRules | None, root: str) -> bool:
    """Whether a neighbour may enter a prompt: not secret-looking, not ignored."""
    if is_sensitive_path(path):
        return False
    inside = bool(root) and path.startswith(root)
    return not (ignore is not None and inside and ignore.ignores(path[len(root) :]))


def assemble_context(
    snapshot: Snapshot, kept: SnippetChoice | None = None, budget_chars: int = 2048
) -> CursorContext:
    """`kept`: the snippets chosen by the previous request in this document (its
    context's `chosen`), kept while the cursor stays near (`sticky`)."""
    document, offset, ignore = snapshot.document, snapshot.offset, snapshot.ignore
    context = build_cursor_context(document, offset)
    root = snapshot.root.rstrip("/") + "/" if snapshot.root else ""

    def allowed(path: str) -> bool:
        return _allowed(path, ignore, root)

    cursor_line = document.text.count("\n", 0, offset)
    sources = gather_sources(
        document.uri, snapshot.texts, snapshot.recent, _path_of, allowed, cursor_line
    )
    snippets = rank_neighbour_snippets(context.prefix, context.suffix, sources, budget_chars)
    chosen = choose_snippets(kept, cursor_line, snippets, sources)
    tree = snapshot.syntax.view() if snapshot.syntax is not None else None
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
        snippets=clean_snippets(chosen.snippets, ignore, root),
        scopes=scopes,
        multiline=multiline,
        seen_before=kept is not None,
        chosen=chosen,
    )
