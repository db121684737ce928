"""Documents: wire positions in every encoding, edits applied in order, the clamp rule."""

from __future__ import annotations

import random

import pytest

from lsp_server.workspace.document import (
    Change,
    Pos,
    PositionEncoding,
    TextDocument,
    line_starts,
    units_in,
)

TEXT = "a😀b\r\n日本語\tx\nlast"  # emoji (surrogate pair), CRLF, CJK, tab, no final newline


@pytest.mark.parametrize(
    ("encoding", "character", "offset"),
    [
        (PositionEncoding.UTF16, 3, 2),  # 'a' + 2 units of 😀
        (PositionEncoding.UTF8, 5, 2),  # 'a' + 4 bytes of 😀
        (PositionEncoding.UTF32, 2, 2),
    ],
)
def test_positions_after_an_emoji_in_each_encoding(
    encoding: PositionEncoding, character: int, offset: int
) -> None:
    document = TextDocument("u", TEXT, 1, encoding=encoding)
    assert document.offset_at(Pos(0, character)) == offset
    assert document.position_at(offset) == Pos(0, character)


def test_lines_break_at_crlf_lf_and_cr() -> None:
    assert line_starts("a\r\nb\nc\rd") == [0, 3, 5, 7]
    document = TextDocument("u", TEXT, 1)
    assert document.offset_at(Pos(1, 0)) == TEXT.index("日")
    assert document.offset_at(Pos(1, 3)) == TEXT.index("\t")


def test_clamp_rule_never_drops_an_edit() -> None:
    notes: list[str] = []
    document = TextDocument("u", TEXT, 1)
    assert document.offset_at(Pos(0, 99), notes) == TEXT.index("\r")  # end of line
    assert document.offset_at(Pos(9, 0), notes) == len(TEXT)  # end of document
    assert document.offset_at(Pos(0, 2), notes) == 1  # inside the surrogate pair
    assert len(notes) == 3


def test_edits_apply_in_order_and_reversed_ranges_are_normalised() -> None:
    document = TextDocument("u", "hello world", 1)
    outcome = document.apply(
        [
            Change("HELLO", Pos(0, 0), Pos(0, 5)),
            Change("", Pos(0, 11), Pos(0, 5)),  # reversed: deletes " world"
            Change("!", Pos(0, 5), Pos(0, 5)),
        ],
        2,
    )
    assert document.text == "HELLO!"
    assert document.version == 2
    assert any("reversed" in note for note in outcome.clamped)


def test_a_full_text_change_replaces_everything() -> None:
    document = TextDocument("u", "old", 1)
    document.apply([Change("new\ntext")], 5)
    assert (document.text, document.version) == ("new\ntext", 5)
    assert document.offset_at(Pos(1, 2)) == 6


def test_units_in_counts_wire_units() -> None:
    assert units_in("a😀日", PositionEncoding.UTF16) == 4
    assert units_in("a😀日", PositionEncoding.UTF8) == 8
    assert units_in("a😀日", PositionEncoding.UTF32) == 3


def test_line_starts_follow_edits_without_a_rescan_of_the_document() -> None:
    """Edits update the line starts around them only; they must equal a full rescan,
    whatever the line breaks (a `\\r` before an inserted `\\n` becomes one break)."""
    draw = random.Random(1)
    pieces = ["a", "b", "\n", "\r", "\r\n", " ", "é"]
    for _ in range(3000):
        text = "".join(draw.choice(pieces) for _ in range(draw.randint(0, 40)))
        document = TextDocument("file:///x", text, 1, encoding=PositionEncoding.UTF32)
        for version in range(2, 7):
            start = draw.randint(0, len(document.text))
            end = draw.randint(start, len(document.text))
            inserted = "".join(draw.choice(pieces) for _ in range(draw.randint(0, 4)))
            change = Change(inserted, document.position_at(start), document.position_at(end))
            document.apply([change], version)
            assert document._starts == line_starts(document.text), repr(document.text)
