"""Assemble the cursor context from a snapshot of the open documents (synchronous, so a
handler calls it before its first `await`): the document's text around the cursor,
its enclosing scopes and the multi-line decision from the syntax tree when there is
one, and neighbour snippets from the other open documents and recent edits — never
from secret-looking or ignored files (`hygiene`)."""

from __future__ import annotations

from functools import lru_cache
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
from lsp_server.context.sticky import StickySnippets
from lsp_server.context.syntax import SyntaxStore, byte_offset

# Per document: the neighbour snippets kept while the cursor moves (`sticky`).
STICKY = StickySnippets()
# Per workspace root: the `.gitignore` last read and the (mtime, size) it had then.
_IGNORE_CACHE: dict[str, tuple[tuple[int, int], IgnoreRules]] = {}


def load_ignore_rules(root: str | None) -> IgnoreRules:
    """The workspace's `.gitignore` (an empty rule set when there is none). Asked on
    every completion request: read again only when the file's mtime or size changed."""
    if not root:
        return IgnoreRules()
    path = Path(root) / ".gitignore"
    try:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = _IGNORE_CACHE.get(root)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        rules = IgnoreRules.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        _IGNORE_CACHE.pop(root, None)
        return IgnoreRules()
    _IGNORE_CACHE[root] = (stamp, rules)
    return rules


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
        return _allowed(path, ignore, root)

    texts = {uri: other.text for uri, other in documents.items()}
    cursor_line = document.text.count("\n", 0, offset)
    sources = gather_sources(document.uri, texts, recent, _path_of, allowed, cursor_line)
    snippets = rank_neighbour_snippets(context.prefix, context.suffix, sources, budget_chars)
    snippets = STICKY.choose(document.uri, cursor_line, snippets, sources)
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


def assemble_detached(
    document: TextDocument,
    offset: int,
    documents: dict[str, TextDocument] | None = None,
    recent: RecentEdits | None = None,
    ignore: IgnoreRules | None = None,
    root: str = "",
) -> CursorContext:
    """`assemble_context` for a text no editor holds a syntax tree of: the file
    `ghostls complete` reads, the text after an accepted suggestion (the prefetch).
    It is parsed here, so scopes and the multi-line decision are the editor's."""
    syntax = SyntaxStore()
    syntax.open(document.uri, document.text, document.language_id)
    others = {**(documents or {}), document.uri: document}
    return assemble_context(
        document, offset, others, syntax, recent or RecentEdits.empty(), ignore, root
    )
