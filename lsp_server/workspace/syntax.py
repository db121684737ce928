"""Syntax trees for open documents (tree-sitter), updated incrementally per edit.

One grammar wheel per language (`tree-sitter-python`, `-javascript`, …) on
`tree-sitter` 0.26: `tree-sitter-languages` is broken with every tree-sitter since 0.22
and `tree-sitter-language-pack` 1.x downloads grammars at run time (see FACTS.md).

Each `didChange` becomes one `Tree.edit` (the smallest byte range that differs between
the text before and after the change, so clamped or batched LSP changes need no replay)
and a reparse with the old tree. tree-sitter counts UTF-8 bytes and rows split at
`\\n` only; Python strings count code points, so every offset is converted here. A
language without a grammar has no tree, and completion stays plain text.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from tree_sitter import Language, Parser, Point, Tree

from lsp_server.workspace.document import common_prefix_length

log = logging.getLogger(__name__)

# language id (LSP) → (module, function returning the grammar's capsule)
_GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "javascriptreact": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "typescriptreact": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
    "csharp": ("tree_sitter_c_sharp", "language"),
    "ruby": ("tree_sitter_ruby", "language"),
    "php": ("tree_sitter_php", "language_php"),
    "shellscript": ("tree_sitter_bash", "language"),
    "bash": ("tree_sitter_bash", "language"),
    "sh": ("tree_sitter_bash", "language"),
    "lua": ("tree_sitter_lua", "language"),
}


def supported_languages() -> frozenset[str]:
    return frozenset(_GRAMMARS)


@cache
def grammar_for(language_id: str) -> Language | None:
    """The grammar for an LSP language id, or None (plain-text completion)."""
    entry = _GRAMMARS.get(language_id)
    if entry is None:
        return None
    try:
        module = importlib.import_module(entry[0])
        loader: Callable[[], object] = getattr(module, entry[1])
        return Language(loader())
    except (ImportError, AttributeError, ValueError) as error:
        log.warning("no tree-sitter grammar for %s: %s", language_id, error)
        return None


def parse_text(text: str, language_id: str) -> Tree | None:
    grammar = grammar_for(language_id)
    if grammar is None:
        return None
    return Parser(grammar).parse(encode(text))


def encode(text: str) -> bytes:
    # Lone surrogates cannot come from a well-formed client; keep them byte-for-byte.
    return text.encode("utf-8", "surrogatepass")


def byte_offset(text: str, offset: int) -> int:
    """UTF-8 byte offset of a code-point offset."""
    return len(encode(text[:offset]))


def point_at(data: bytes, byte: int) -> Point:
    """tree-sitter's (row, byte column) of a byte offset: rows split at `\\n` only."""
    row = data.count(b"\n", 0, byte)
    return Point(row, byte - (data.rfind(b"\n", 0, byte) + 1))


def _boundary(data: bytes, index: int) -> int:
    """Round a byte index down to the start of a UTF-8 sequence."""
    while 0 < index < len(data) and data[index] & 0xC0 == 0x80:
        index -= 1
    return index


@dataclass(frozen=True)
class ByteEdit:
    start: int
    old_end: int
    new_end: int


def diff_bytes(old: bytes, new: bytes) -> ByteEdit | None:
    """The smallest single range edit turning `old` into `new` (None when equal)."""
    if old == new:
        return None
    start = _boundary(old, common_prefix_length(old, new))
    limit = min(len(old), len(new)) - start  # the common suffix may not overlap it
    tail = common_prefix_length(old[::-1][:limit], new[::-1][:limit])
    old_end, new_end = len(old) - tail, len(new) - tail
    while old_end < len(old) and old[old_end] & 0xC0 == 0x80:  # a sequence is whole
        old_end += 1
        new_end += 1
    return ByteEdit(start, old_end, new_end)


def reparse(tree: Tree, data: bytes, new: bytes) -> Tree:
    """The tree of `new`, parsed incrementally from `tree` (the tree of `data`), which
    is edited in place on the way."""
    edit = diff_bytes(data, new)
    if edit is None:
        return tree
    tree.edit(
        start_byte=edit.start,
        old_end_byte=edit.old_end,
        new_end_byte=edit.new_end,
        start_point=point_at(data, edit.start),
        old_end_point=point_at(data, edit.old_end),
        new_end_point=point_at(new, edit.new_end),
    )
    return Parser(tree.language).parse(new, tree)


@dataclass(frozen=True)
class SyntaxView:
    """A document's tree and the bytes it parsed, as a request sees them."""

    tree: Tree
    data: bytes


class SyntaxSource:
    """A document's syntax as a request found it: a copy of the tree of its last parse
    (later edits cannot change it) and the text it had then. Parsed on first use
    (`view`): a request that a live generation serves, or that a newer one replaces
    during its debounce, builds no prompt and parses nothing, as before snapshots.

    The parse is offered back to the document's `DocumentSyntax`, so the store's next
    parse starts from it; a cache only: what a request sees never depends on it."""

    def __init__(
        self,
        tree: Tree,
        data: bytes,
        text: str | None = None,
        owner: DocumentSyntax | None = None,
    ) -> None:
        self._tree, self._data, self._text, self._owner = tree, data, text, owner
        self._view: SyntaxView | None = None

    def view(self) -> SyntaxView:
        if self._view is None:
            if self._text is None:
                self._view = SyntaxView(self._tree, self._data)
            else:
                new = encode(self._text)
                tree = reparse(self._tree, self._data, new)
                self._view = SyntaxView(tree, new)
                owner = self._owner
                if owner is not None and owner.data is self._data:  # not parsed since
                    owner.tree, owner.data = tree.copy(), new
        return self._view


def parsed_source(text: str, language_id: str) -> SyntaxSource | None:
    """The syntax of a text no editor holds a tree of (`ghostls complete`'s file, the
    text after an accepted suggestion), parsed now as the store parses an opened one."""
    tree = parse_text(text, language_id)
    return None if tree is None else SyntaxSource(tree, encode(text))


@dataclass
class DocumentSyntax:
    """The tree of one open document, and the bytes it was parsed from."""

    language_id: str
    parser: Parser
    data: bytes
    tree: Tree

    def update(self, text: str) -> None:
        new = encode(text)
        if new != self.data:
            self.tree = reparse(self.tree, self.data, new)
            self.data = new


@dataclass
class SyntaxStore:
    """One `DocumentSyntax` per open document that has a grammar."""

    documents: dict[str, DocumentSyntax] = field(default_factory=dict)
    # The newest text of a document not reparsed yet: a keystroke costs no parse; the
    # tree catches up (one incremental parse over every edit since) when it is asked
    # for, which is once per prompt built, not once per keystroke.
    _pending: dict[str, str] = field(default_factory=dict)

    def open(self, uri: str, text: str, language_id: str) -> None:
        self._pending.pop(uri, None)
        grammar = grammar_for(language_id)
        if grammar is None:
            self.documents.pop(uri, None)
            return
        parser = Parser(grammar)
        data = encode(text)
        self.documents[uri] = DocumentSyntax(language_id, parser, data, parser.parse(data))

    def change(self, uri: str, text: str) -> None:
        if uri in self.documents:
            self._pending[uri] = text

    def close(self, uri: str) -> None:
        self.documents.pop(uri, None)
        self._pending.pop(uri, None)

    def source(self, uri: str) -> SyntaxSource | None:
        """The document's syntax for a snapshot, with no parse now (`SyntaxSource`)."""
        syntax = self.documents.get(uri)
        if syntax is None:
            return None
        return SyntaxSource(syntax.tree.copy(), syntax.data, self._pending.get(uri), syntax)

    def get(self, uri: str) -> DocumentSyntax | None:
        syntax = self.documents.get(uri)
        text = self._pending.pop(uri, None)
        if syntax is not None and text is not None:
            syntax.update(text)
        return syntax
