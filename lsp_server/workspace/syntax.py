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


@dataclass(frozen=True)
class SyntaxView:
    """A document's tree as it was when a request came in, and the bytes it parsed:
    a copy that no later edit changes (`DocumentSyntax.update` edits its tree in place)."""

    tree: Tree
    data: bytes


def parsed_view(text: str, language_id: str) -> SyntaxView | None:
    """The view of a text no editor holds a tree of (`ghostls complete`'s file, the
    text after an accepted suggestion), parsed as the store parses an opened one."""
    tree = parse_text(text, language_id)
    return None if tree is None else SyntaxView(tree, encode(text))


@dataclass
class DocumentSyntax:
    """The tree of one open document, and the bytes it was parsed from."""

    language_id: str
    parser: Parser
    data: bytes
    tree: Tree

    def update(self, text: str) -> None:
        new = encode(text)
        edit = diff_bytes(self.data, new)
        if edit is None:
            return
        self.tree.edit(
            start_byte=edit.start,
            old_end_byte=edit.old_end,
            new_end_byte=edit.new_end,
            start_point=point_at(self.data, edit.start),
            old_end_point=point_at(self.data, edit.old_end),
            new_end_point=point_at(new, edit.new_end),
        )
        self.tree = self.parser.parse(new, self.tree)
        self.data = new

    def view(self) -> SyntaxView:
        return SyntaxView(self.tree.copy(), self.data)


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

    def get(self, uri: str) -> DocumentSyntax | None:
        syntax = self.documents.get(uri)
        text = self._pending.pop(uri, None)
        if syntax is not None and text is not None:
            syntax.update(text)
        return syntax
