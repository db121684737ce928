"""Syntax trees: incremental updates match a full reparse (emoji, CJK, CRLF, tabs)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tree_sitter import Node

from lsp_server.settings import Settings
from lsp_server.workspace.document import Change, Pos, PositionEncoding, TextDocument
from lsp_server.workspace.store import WorkspaceStore
from lsp_server.workspace.syntax import (
    SyntaxStore,
    diff_bytes,
    encode,
    grammar_for,
    parse_text,
    point_at,
    supported_languages,
)

PYTHON = 'def greet(name):\r\n\treturn "😀 " + name  # 挨拶\r\n\r\nclass A:\r\n    x = "中文"\r\n'


def _shape(node: Node) -> list[tuple[str, int, int, tuple[int, int], tuple[int, int]]]:
    """Every node with its byte range and points: a tree's full identity."""
    out = [
        (node.type, node.start_byte, node.end_byte, tuple(node.start_point), tuple(node.end_point))
    ]
    for child in node.children:
        out.extend(_shape(child))
    return out


def _assert_matches_full_parse(store: SyntaxStore, uri: str, text: str, language: str) -> None:
    syntax = store.get(uri)
    assert syntax is not None
    assert syntax.data == encode(text)
    full = parse_text(text, language)
    assert full is not None
    assert _shape(syntax.tree.root_node) == _shape(full.root_node)


@pytest.mark.parametrize("language", sorted(supported_languages()))
def test_every_shipped_grammar_loads(language: str) -> None:
    assert grammar_for(language) is not None


def test_language_without_grammar_has_no_tree() -> None:
    store = SyntaxStore()
    store.open("file:///a.txt", "hello", "plaintext")
    store.change("file:///a.txt", "hello world")
    assert store.get("file:///a.txt") is None
    assert parse_text("x", "markdown") is None


@pytest.mark.parametrize("encoding", list(PositionEncoding))
@pytest.mark.parametrize(
    ("start", "end", "insert"),
    [
        (Pos(1, 13), Pos(1, 13), "🎉"),  # after the emoji (a surrogate pair in UTF-16)
        (Pos(1, 0), Pos(1, 1), "    "),  # a tab becomes spaces
        (Pos(0, 16), Pos(1, 0), "\n    y = 1  # 日本\r\n"),  # across a CRLF
        (Pos(4, 9), Pos(4, 11), "español"),  # replace CJK
        (Pos(2, 0), Pos(3, 0), ""),  # delete a blank CRLF line
    ],
)
def test_incremental_edit_from_wire_positions_matches_full_parse(
    encoding: PositionEncoding, start: Pos, end: Pos, insert: str
) -> None:
    document = TextDocument("file:///a.py", PYTHON, 1, "python", encoding)
    # Wire positions are given in UTF-16 units above; convert to the negotiated encoding.
    utf16 = TextDocument("file:///a.py", PYTHON, 1, "python", PositionEncoding.UTF16)
    start = document.position_at(utf16.offset_at(start))
    end = document.position_at(utf16.offset_at(end))
    store = SyntaxStore()
    store.open(document.uri, document.text, "python")
    document.apply([Change(insert, start, end)], 2)
    store.change(document.uri, document.text)
    _assert_matches_full_parse(store, document.uri, document.text, "python")


def test_diff_bytes_never_splits_a_code_point() -> None:
    old, new = encode("a😀b"), encode("a😁b")  # the emoji differ in their last byte only
    edit = diff_bytes(old, new)
    assert edit is not None
    assert (edit.start, edit.old_end, edit.new_end) == (1, 5, 5)
    assert point_at(encode("é\nxé"), 4) == (1, 1)


_PIECES = st.sampled_from(
    ["x", " ", "\t", "\n", "\r\n", "😀", "中", "(", ")", "{", "}", ":", "def f", "if a", '"', "ß"]
)


@settings(max_examples=60, deadline=None)
@given(
    language=st.sampled_from(["python", "javascript", "rust", "go"]),
    edits=st.lists(
        st.tuples(st.floats(0, 1), st.floats(0, 1), st.lists(_PIECES, max_size=4)),
        min_size=1,
        max_size=6,
    ),
)
def test_random_edit_sequences_match_full_parse(
    language: str, edits: list[tuple[float, float, list[str]]]
) -> None:
    text = 'fn main() {\n    let s = "😀中";\r\n}\n' if language == "rust" else PYTHON
    store = SyntaxStore()
    store.open("u", text, language)
    for a, b, pieces in edits:
        start, end = sorted((int(a * len(text)), int(b * len(text))))
        text = text[:start] + "".join(pieces) + text[end:]
        store.change("u", text)
        _assert_matches_full_parse(store, "u", text, language)


def test_close_forgets_the_tree() -> None:
    store = SyntaxStore()
    store.open("u", "x = 1\n", "python")
    store.close("u")
    assert store.get("u") is None


def test_a_snapshot_keeps_the_tree_of_its_text_while_the_document_changes() -> None:
    """The store edits its trees in place; a snapshot's tree is the tree of the text it
    was taken at, whatever edits and parses came since. With edits not parsed yet, it
    is parsed when a prompt is built, and the store's next parse starts from it."""
    uri = "file:///w/snap.py"
    store = WorkspaceStore()
    document = store.open(uri, PYTHON, 1, "python")

    def full_shape(text: str) -> list[tuple[str, int, int, tuple[int, int], tuple[int, int]]]:
        tree = parse_text(text, "python")
        assert tree is not None
        return _shape(tree.root_node)

    parsed = store.snapshot(document, 10, "", Settings(), False)  # the store is parsed
    store.change(uri, [Change("import os\n", Pos(0, 0), Pos(0, 0))], 2)
    assert store.syntax.get(uri) is not None  # the store parses (edits its tree)
    assert parsed.syntax is not None
    assert _shape(parsed.syntax.view().tree.root_node) == full_shape(PYTHON)

    store.change(uri, [Change("    y = 2\r\n", Pos(6, 0), Pos(6, 0))], 3)
    pending = store.snapshot(document, 10, "", Settings(), False)  # an edit not parsed
    taken = pending.document.text
    store.change(uri, [Change("z = 3\r\n", Pos(0, 0), Pos(0, 0))], 4)
    assert pending.syntax is not None
    view = pending.syntax.view()
    assert view.data == encode(taken)
    assert _shape(view.tree.root_node) == full_shape(taken)
    _assert_matches_full_parse(store.syntax, uri, document.text, "python")
    assert _shape(view.tree.root_node) == full_shape(taken)  # untouched by that parse
