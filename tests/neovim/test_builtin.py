"""The 0.12 nightly's built-in `vim.lsp.inline_completion`, driven by the plugin."""

from __future__ import annotations

from collections.abc import Callable

from tests.neovim.conftest import Editor, wait_until

BUILTIN_GHOST = """
local ns = vim.api.nvim_get_namespaces()['nvim.lsp.inline_completion']
if not ns then return nil end
local marks = vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })
if #marks == 0 then return nil end
return marks[1][4].virt_text[1][1]
"""


def test_builtin_inline_completion_on_012(make_editor: Callable[..., Editor]) -> None:
    editor = make_editor(version="0.12", setup={"builtin": True})
    assert editor.lua("return vim.fn.has('nvim-0.12')") == 1
    assert editor.lua("return require('ghostls.config').init_options().streaming") is False
    editor.nvim.command("call cursor(2, 5)")
    editor.nvim.input("A")
    wait_until(lambda: editor.lua(BUILTIN_GHOST) == "return a + b", 10, "built-in ghost text")
    assert editor.ghost() is None  # the plugin's own renderer stays out of the way
    editor.nvim.input("<Tab>")
    wait_until(lambda: editor.text() == "def add(a, b):\n    return a + b", 5, "the accepted text")
    editor.wait_requests(1)
