"""Document sync cannot drift (RELIABILITY.md cases 5, 6, 7, 8).

The property test applies thousands of random edits, over text with emoji (surrogate
pairs in UTF-16), CJK, CRLF / CR line breaks, tabs and no final newline, under every
position encoding, and compares the server's document with a reference model: the
editor's text as a plain string, spliced by code-point offsets. Positions are computed
from the reference text by an independent conversion (`wire_position`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lsp_server.workspace.document import Change, Pos, PositionEncoding, TextDocument
from tests.support.strict_client import inline_params, raw_server

ALPHABET = st.sampled_from([*"ab xyz\t\n\r", "\r\n", "😀", "𝄞", "日本", "é", "ß", "é"])
TEXT = st.lists(ALPHABET, max_size=40).map("".join)
EDITS_PER_EXAMPLE = 30
EXAMPLES = 120


def unit_length(text: str, encoding: PositionEncoding) -> int:
    if encoding is PositionEncoding.UTF8:
        return len(text.encode("utf-8"))
    if encoding is PositionEncoding.UTF16:
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def wire_position(text: str, offset: int, encoding: PositionEncoding) -> Pos:
    """The editor's position for a code-point offset (independent of TextDocument)."""
    before = text[:offset]
    breaks = list(re.finditer(r"\r\n|\r|\n", before))
    line_start = breaks[-1].end() if breaks else 0
    return Pos(len(breaks), unit_length(before[line_start:], encoding))


def snap(text: str, offset: int) -> int:
    """Editors never place a position between the \\r and \\n of a CRLF."""
    offset = max(0, min(offset, len(text)))
    if 0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n":
        return offset - 1
    return offset


@dataclass
class Tally:
    edits: int = 0
    divergences: int = 0


TALLY = Tally()


def run_edits(
    initial: str, edits: list[tuple[float, float, str, bool]], encoding: PositionEncoding
) -> int:
    """Apply `edits` to a TextDocument and to the model; the number of divergences."""
    document = TextDocument("file:///p.txt", initial, 1, "plaintext", encoding)
    model = initial
    divergences = 0
    for version, (a, b, inserted, reverse) in enumerate(edits, start=2):
        start = snap(model, int(a * (len(model) + 1)))
        end = snap(model, int(b * (len(model) + 1)))
        start, end = min(start, end), max(start, end)
        first = wire_position(model, start, encoding)
        last = wire_position(model, end, encoding)
        if reverse:  # documented rule: a reversed range means the range between
            first, last = last, first
        document.apply([Change(inserted, first, last)], version)
        model = model[:start] + inserted + model[end:]
        divergences += document.text != model
        TALLY.edits += 1
    TALLY.divergences += divergences
    return divergences


EDIT = st.tuples(st.floats(0, 1), st.floats(0, 1), TEXT.map(lambda text: text[:6]), st.booleans())


@pytest.mark.parametrize("encoding", list(PositionEncoding))
@settings(max_examples=EXAMPLES, deadline=None)
@given(initial=TEXT, edits=st.lists(EDIT, min_size=1, max_size=EDITS_PER_EXAMPLE))
def test_random_edits_never_diverge_from_the_editor(
    encoding: PositionEncoding, initial: str, edits: list[tuple[float, float, str, bool]]
) -> None:
    assert run_edits(initial, edits, encoding) == 0


@pytest.mark.parametrize(
    ("start", "end", "expected", "note"),
    [
        (Pos(0, 3), Pos(0, 1), "aXd\n", "reversed range"),
        (Pos(9, 0), Pos(9, 0), "abcd\nX", "line 9 past the end"),
        (Pos(0, 99), Pos(0, 99), "abcdX\n", "character 99 past the end of line 0"),
    ],
)
def test_out_of_range_edits_are_clamped_and_reported(
    start: Pos, end: Pos, expected: str, note: str
) -> None:
    document = TextDocument("file:///a", "abcd\n", 1)
    outcome = document.apply([Change("X", start, end)], 2)
    assert document.text == expected
    assert document.version == 2
    assert any(note in line for line in outcome.clamped)


def test_a_position_inside_a_surrogate_pair_rounds_down() -> None:
    document = TextDocument("file:///a", "a😀b", 1, encoding=PositionEncoding.UTF16)
    outcome = document.apply([Change("X", Pos(0, 2), Pos(0, 2))], 2)
    assert document.text == "aX😀b"
    assert outcome.clamped


OPEN = {"uri": "file:///w/a.py", "languageId": "python", "version": 1, "text": "abc\n"}


def change(version: int, start: tuple[int, int], end: tuple[int, int], text: str) -> dict:  # type: ignore[type-arg]
    return {
        "textDocument": {"uri": OPEN["uri"], "version": version},
        "contentChanges": [
            {
                "range": {
                    "start": {"line": start[0], "character": start[1]},
                    "end": {"line": end[0], "character": end[1]},
                },
                "text": text,
            }
        ],
    }


async def test_server_text_equals_client_text_after_odd_edits_and_versions(
    tmp_path: Path,
) -> None:
    """Reversed range, line past the end, column past the end, versions going back or
    repeating: the server's text (read back through a completion prompt) equals the
    client's."""
    from tests.support.fake_backend import FakeBackend, Reply, Script

    with FakeBackend(Script([Reply(text="")])) as backend:
        async with raw_server(tmp_path) as server:
            await server.initialize(
                {"backend": {"kind": "openai", "url": backend.url, "model": "m"}}
            )
            server.notify("textDocument/didOpen", {"textDocument": OPEN})
            server.notify("textDocument/didChange", change(2, (0, 3), (0, 1), "X"))  # aXc→aX\n
            server.notify("textDocument/didChange", change(3, (7, 0), (8, 2), "Y"))
            server.notify("textDocument/didChange", change(3, (0, 50), (0, 60), "Z"))
            server.notify("textDocument/didChange", change(2, (0, 0), (0, 0), "W"))
            reply = await server.call(
                "textDocument/inlineCompletion", inline_params(OPEN["uri"], 1, 1)
            )
            assert "result" in reply
            prompt = backend.completion_requests()[0].body["prompt"]
            # abc → aX (reversed) → aX\nY (past the end) → aXZ\nY (column) → WaXZ\nY
            assert prompt.startswith("<|fim_prefix|>WaXZ\nY<|fim_suffix|>")
            await server.finish()


async def test_edits_and_completions_for_unopened_documents_touch_nothing(tmp_path: Path) -> None:
    from tests.support.fake_backend import FakeBackend

    with FakeBackend() as backend:
        async with raw_server(tmp_path) as server:
            await server.initialize(
                {"backend": {"kind": "openai", "url": backend.url, "model": "m"}}
            )
            server.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": "file:///never/opened.py", "version": 2},
                    "contentChanges": [{"text": "x"}],
                },
            )
            reply = await server.call(
                "textDocument/inlineCompletion", inline_params("file:///never/opened.py", 0, 0)
            )
            assert reply["result"] == {"items": []}
            assert backend.completion_requests() == []
            assert not [n for n in server.notifications if n["method"] == "window/showMessage"]
            await server.finish()
