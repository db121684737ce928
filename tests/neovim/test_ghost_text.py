"""Ghost text in real headless Neovim 0.11.4, from the real server and the fake backend."""

from __future__ import annotations

from collections.abc import Callable

from tests.neovim.conftest import Editor, first_record, wait_until
from tests.support.fake_backend import FakeBackend, Reply, Script

MULTI = "if a:\n        return a\n    return a + b"
# What the model writes: line 2 holds only indentation, so the server asks at column 0 and
# the model writes the indentation itself (issue #19); the typed part is not shown again.
WRITTEN = "    " + MULTI


def slow(text: str, interval_ms: float = 40) -> Script:
    return Script(replies=[Reply(text=text)], ttft_ms=20, token_interval_ms=interval_ms)


def type_at_line_2(editor: Editor, keys: str = "") -> None:
    """Cursor after the indent of line 2, then Insert mode (which requests)."""
    editor.nvim.command("call cursor(2, 5)")
    editor.nvim.input("A" + keys)


def showing(
    make_editor: Callable[..., Editor],
    backend: FakeBackend,
    script: Script,
    until: Callable[[str], bool] = bool,
) -> tuple[Editor, str]:
    """The default file, Insert mode on line 2, once the ghost text of `script`'s answer
    is shown (and `until` accepts it)."""
    backend.set_script(script)
    editor = make_editor()
    type_at_line_2(editor)
    return editor, editor.wait_ghost(until)


def test_ghost_text_appears_after_typing(make_editor: Callable[..., Editor]) -> None:
    editor = make_editor(text="def add(a, b):\n    re\n")
    type_at_line_2(editor, "t")
    # The fake backend answers "return a + b" whatever the prompt, after the typed "ret":
    # the repeated partial word is trimmed (issue #19), so accepting gives "return a + b".
    ghost = editor.wait_ghost()
    assert ghost == "urn a + b"
    assert editor.mode() == "i"
    assert editor.ghost_anchor() == [1, 7]  # inline at the cursor, after "    ret"


def test_ghost_text_grows_while_the_backend_streams(
    make_editor: Callable[..., Editor], backend: FakeBackend
) -> None:
    editor, first = showing(make_editor, backend, slow(WRITTEN, 60))
    assert first != MULTI and MULTI.startswith(first)  # answered early, then updated
    final = editor.wait_ghost(lambda g: g == MULTI)
    assert final.split("\n")[1:] == ["        return a", "    return a + b"]  # virt_lines
    assert len(backend.completion_requests()) == 1


def test_accept_inserts_exactly_the_suggestion(
    make_editor: Callable[..., Editor], backend: FakeBackend
) -> None:
    editor, _ = showing(
        make_editor, backend, Script(replies=[Reply(text=WRITTEN)]), lambda g: g == MULTI
    )
    editor.nvim.input("<Tab>")
    wait_until(lambda: editor.text() == "def add(a, b):\n    " + MULTI, 5, "the accepted text")
    assert tuple(editor.nvim.current.window.cursor) == (4, len("    return a + b"))
    assert editor.mode() == "i"


def test_accept_word_and_line_insert_their_parts(
    make_editor: Callable[..., Editor], backend: FakeBackend
) -> None:
    editor, _ = showing(
        make_editor, backend, Script(replies=[Reply(text=WRITTEN)]), lambda g: g == MULTI
    )
    editor.nvim.input("<C-l>")  # accept word: "if"
    wait_until(lambda: editor.nvim.current.buffer[1] == "    if", 5, "the first word")
    assert editor.ghost() == MULTI[2:]
    editor.nvim.input("<C-j>")  # accept line: the rest of the first line
    wait_until(lambda: editor.nvim.current.buffer[1] == "    if a:", 5, "the rest of the line")
    assert editor.ghost() == MULTI[len("if a:") :]
    editor.nvim.input("<C-j>")  # accept line: the line break and the next line
    wait_until(lambda: editor.nvim.current.buffer[2] == "        return a", 5, "the next line")
    assert editor.text() == "def add(a, b):\n    if a:\n        return a"
    assert editor.ghost() == "\n    return a + b"
    requests = editor.backend.completion_requests()
    assert len(requests) == 1, [(r.prompt, r.started, r.tokens_sent) for r in requests]


def test_matching_keystroke_keeps_it_without_a_new_request(
    make_editor: Callable[..., Editor], backend: FakeBackend
) -> None:
    editor, _ = showing(make_editor, backend, slow(WRITTEN, 80))
    editor.nvim.input("if")  # what the suggestion says
    assert editor.wait_ghost(lambda g: g.startswith(" a:")) is not None
    assert editor.ghost_anchor() == [1, 6]
    # It keeps growing from the same model stream, which is never cut.
    editor.wait_ghost(lambda g: g == MULTI[2:])
    assert backend.wait_for(lambda b: first_record(b).finished, 10)
    records = backend.completion_requests()
    assert len(records) == 1
    assert not records[0].disconnected


def test_contradicting_keystroke_disconnects_the_backend(
    make_editor: Callable[..., Editor], backend: FakeBackend
) -> None:
    editor, _ = showing(make_editor, backend, slow(WRITTEN + "\n" + "    # more\n" * 20, 80))
    editor.nvim.input("x")  # the suggestion starts with "if"
    wait_until(lambda: editor.ghost() is None or not editor.ghost().startswith("if"), 5, "clear")
    assert backend.wait_for(lambda b: first_record(b).disconnected, 5)
    first = backend.completion_requests()[0]
    assert not first.finished
    assert first.tokens_sent < len(MULTI.split())  # cut long before the scripted end


def test_accept_key_types_a_tab_when_nothing_is_shown(
    make_editor: Callable[..., Editor], backend: FakeBackend
) -> None:
    backend.set_script(Script(replies=[Reply(text="")]))  # the model says nothing
    editor = make_editor()
    type_at_line_2(editor)
    editor.wait_requests(1)
    assert backend.wait_for(lambda b: first_record(b).finished, 5)
    wait_until(lambda: editor.lua("return require('ghostls.ghost').current() == nil"), 5, "no item")
    editor.nvim.input("<Tab>")
    wait_until(lambda: editor.nvim.current.buffer[1] == "    \t", 5, "a typed Tab")
    assert editor.ghost() is None


def test_dismiss_and_leaving_insert_mode_clear_it(
    make_editor: Callable[..., Editor], backend: FakeBackend
) -> None:
    editor = make_editor()
    type_at_line_2(editor)
    editor.wait_ghost()
    editor.nvim.input("<C-]>")
    wait_until(lambda: editor.ghost() is None, 5, "dismissed")
    editor.nvim.input("<Esc>")
    wait_until(lambda: editor.mode() == "n", 5, "Normal mode")
    editor.nvim.input("A")  # InsertEnter asks again
    editor.wait_ghost()
    editor.nvim.input("<Esc>")
    wait_until(lambda: editor.ghost() is None, 5, "cleared on InsertLeave")
    assert editor.text() == "def add(a, b):\n    "


def test_accept_replaces_the_closing_characters_the_suggestion_typed_again(
    make_editor: Callable[..., Editor], backend: FakeBackend
) -> None:
    # The server's item range covers the `")` after the cursor that the model typed again.
    backend.set_script(Script(replies=[Reply(text='", obj)\n')]))
    editor = make_editor(text='def show(obj):\n    print("Obj: ")\n')
    editor.nvim.command("call cursor(2, 17)")  # on the closing quote
    editor.nvim.input("i")
    editor.wait_ghost(lambda g: g == '", obj)')
    editor.nvim.input("<Tab>")
    expected = 'def show(obj):\n    print("Obj: ", obj)'
    wait_until(lambda: editor.text() == expected, 5, f"the replaced text, not {editor.text()!r}")


def test_a_suggestion_that_ends_empty_is_cleared(
    make_editor: Callable[..., Editor], backend: FakeBackend
) -> None:
    """The last update may shrink the suggestion to nothing (here the 8 s timeout a real
    model on 2 loaded cores hit in its first line: `return fib(n-1) + fib(n`). The
    ghost must go, or <Tab> inserts the line cut part-way."""
    long_line = "    return " + " + ".join(f"fib(n-{k})" for k in range(1, 9)) + "\n"
    backend.set_script(slow(long_line, 60))
    settings = {
        "backend": {"kind": "openai", "url": backend.url, "model": "fake"},
        "completion": {"timeoutMs": 900},
    }
    editor = make_editor(setup={"settings": settings})
    type_at_line_2(editor)
    assert editor.wait_ghost(lambda g: g.startswith("return")) is not None
    wait_until(lambda: editor.ghost() is None, 10, "the ghost to go at the timeout")
    editor.nvim.input("<Tab>")
    wait_until(lambda: editor.nvim.current.buffer[1] == "    \t", 5, "a typed Tab")
