"""ghost.lua's typing-through against the shared case table
(tests/data/typing_through_cases.json), in real headless Neovim: the real server
answers each suggestion, the keys are typed, and what is left drawn is compared with
the table (tests/test_typing_through_agreement.py checks the server on the same
table, and the VS Code client its StreamCache)."""

from __future__ import annotations

from collections.abc import Callable

from tests.neovim.conftest import Editor, model_requests, wait_until
from tests.support.fake_backend import FakeBackend, Reply, Script
from tests.test_typing_through_agreement import CASES, expected


def keys(text: str) -> str:
    return text.replace("<", "<lt>").replace("\n", "<CR>")


def test_ghost_lua_agrees_with_the_table(
    make_editor: Callable[..., Editor], backend: FakeBackend
) -> None:
    editor = make_editor(
        text="\n",
        setup={
            "auto_trigger": False,  # only the request made here: nothing to race with
            "settings": {
                "backend": {"kind": "openai", "url": backend.url, "model": "fake"},
                "completion": {"multiline": "always"},
            },
        },
    )
    disagreements = []
    for number, case in enumerate(CASES):
        backend.set_script(Script(replies=[Reply(text=case["suggestion"])]))
        editor.nvim.input("<Esc>")
        wait_until(lambda: editor.mode() == "n", 5, "Normal mode")
        # A line of its own above: a new context, so no earlier generation serves it.
        editor.nvim.current.buffer[:] = [f"# case {number}", ""]
        editor.nvim.command("call cursor(2, 1)")
        editor.nvim.input("i")
        wait_until(lambda: editor.mode() == "i", 5, "Insert mode")
        editor.lua("require('ghostls.ghost').request()")
        shown = editor.wait_ghost(timeout=10)
        assert shown == case["suggestion"], (case["name"], "the server changed the suggestion")
        before = len(model_requests(backend))
        editor.nvim.input(keys(case["typed"]))
        typed_lines = case["typed"].split("\n")
        wait_until(
            lambda lines=typed_lines: editor.nvim.current.buffer[1:] == lines,
            5,
            f"the keys of {case['name']!r}",
        )
        want = expected(case, "ghost.lua")
        got = editor.ghost()
        if got != want:
            disagreements.append((case["name"], want, got))
        assert len(model_requests(backend)) == before  # typing-through asks nothing
    assert disagreements == []
