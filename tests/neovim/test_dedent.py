"""A suggestion less indented than the line auto-indent left (issue #19, item 4), in real
headless Neovim 0.11 with the plugin's own renderer, the real server and the fake
backend. The server's item replaces the line's whitespace (its range starts at the
line's start); virtual text cannot take characters away, so the plugin draws the line
as accepting leaves it over the line (an overlay from where its text will start), and
accepting removes the indentation with the rest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.neovim.conftest import Editor, wait_until
from tests.support.fake_backend import FakeBackend, Reply, Script

LOOP = "def f(xs):\n    n = 0\n    for x in xs:\n        n += x\n        \n"
DEDENTED = "def f(xs):\n    n = 0\n    for x in xs:\n        n += x\n    return n"


def mark(editor: Editor) -> dict[str, Any]:
    """Where the ghost text is drawn and how."""
    return editor.lua(  # type: ignore[no-any-return]
        "local m = vim.api.nvim_buf_get_extmarks(0, require('ghostls.ghost').ns, 0, -1,"
        " { details = true })[1]"
        " return { row = m[2], col = m[3], pos = m[4].virt_text_pos }"
    )


def after_the_loop(make_editor: Callable[..., Editor], backend: FakeBackend, reply: str) -> Editor:
    backend.set_script(Script(replies=[Reply(text=reply)]))
    editor = make_editor(text=LOOP)
    editor.nvim.command("call cursor(5, 9)")
    editor.nvim.input("A")
    return editor


def test_a_dedenting_suggestion_is_drawn_over_the_line_and_accepted(
    make_editor: Callable[..., Editor], backend: FakeBackend
) -> None:
    editor = after_the_loop(make_editor, backend, "    return n\n\nprint(f([1]))\n")
    assert editor.wait_ghost() == "return n"
    assert mark(editor) == {"row": 4, "col": 4, "pos": "overlay"}  # where `return` will be
    editor.nvim.input("<Tab>")
    wait_until(lambda: editor.text() == DEDENTED, 5, "the dedented line")
    assert tuple(editor.nvim.current.window.cursor) == (5, len("    return n"))
    assert editor.mode() == "i"


def test_typing_through_a_dedenting_suggestion(
    make_editor: Callable[..., Editor], backend: FakeBackend
) -> None:
    editor = after_the_loop(make_editor, backend, "    return n\n")
    editor.wait_ghost(lambda g: g == "return n")
    editor.nvim.input("re")
    wait_until(lambda: editor.nvim.current.line == "        re", 5, "the typed `re`")
    # The typed `re` is drawn over too, from the line's new start.
    assert editor.wait_ghost() == "return n"
    assert mark(editor)["col"] == 4
    assert len(backend.completion_requests()) == 1  # typed through: no new request
    editor.nvim.input("<Tab>")
    wait_until(lambda: editor.text() == DEDENTED, 5, "the dedented line")


def test_streamed_updates_of_a_dedenting_suggestion(
    make_editor: Callable[..., Editor], backend: FakeBackend
) -> None:
    """`else:` one level out of the `if` body, and its body, streamed: each update
    carries the item's range and its text from the line's start."""
    reply = "    else:\n        y = -1\n        y = y * 2\n"
    backend.set_script(Script(replies=[Reply(text=reply)], ttft_ms=20, token_interval_ms=60))
    settings = {"backend": {"kind": "openai", "url": backend.url, "model": "fake"}}
    settings["completion"] = {"multiline": "always"}
    source = "def f(x):\n    if x > 0:\n        y = 1\n        \n    return y\n"
    editor = make_editor(text=source, setup={"settings": settings})
    editor.nvim.command("call cursor(4, 9)")
    editor.nvim.input("A")
    first = editor.wait_ghost()
    final = editor.wait_ghost(lambda g: g == "else:\n        y = -1\n        y = y * 2")
    assert first != final  # answered at the first line, then grown by updates
    assert mark(editor) == {"row": 3, "col": 4, "pos": "overlay"}
    editor.nvim.input("<Tab>")
    expected = source.replace(
        "        \n    return", "    else:\n        y = -1\n        y = y * 2\n    return"
    )
    wait_until(lambda: editor.text() == expected.rstrip("\n"), 5, "the accepted block")
