"""Next-edit suggestions in real headless Neovim 0.11: after a rename the other uses
are shown (old text struck through, the new text beside it), a key jumps to the next
one, another applies them, and the server hears of both."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.neovim.conftest import Editor, wait_until
from tests.support.fake_backend import FakeBackend, Reply, Script
from tests.test_next_edit import RENAMED_WINDOW, SOURCE, window_answer

SETUP = {
    "next_edit": {"enabled": True, "debounce_ms": 20},
    "keymaps": {"next_edit_jump": "]e", "next_edit_apply": "]a", "next_edit_dismiss": "]d"},
}

MARKS = """
local ns = require('ghostls.nextedit').ns
local out = {}
for _, m in ipairs(vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })) do
  local d = m[4]
  if d.hl_group == 'GhostlsNextEditDelete' then
    out[#out + 1] = { 'strike', m[2], m[3], d.end_row, d.end_col }
  elseif d.virt_text then
    out[#out + 1] = { 'new', m[2], m[3], d.virt_text[1][1], d.virt_text_pos }
  end
end
return out
"""


def counts(editor: Editor) -> Any:
    return editor.lua(
        "local c = vim.lsp.get_clients({ name = 'ghostls' })[1]"
        " local r = c:request_sync('workspace/executeCommand',"
        " { command = 'ghostls.nextEditAccepted', arguments = { 'probe' } }, 5000, 0)"
        " return r and r.result"
    )


def rename_x(make_editor: Callable[..., Editor], backend: FakeBackend) -> tuple[Editor, list[Any]]:
    """Rename the parameter `x` of SOURCE to `value` in Normal mode, with a model that
    answers the renamed window; the editor once it shows the six marks, and the marks."""
    answer = window_answer(RENAMED_WINDOW)
    backend.set_script(Script([Reply(text=answer, when="<|file_sep|>updated/"), Reply(text="")]))
    editor = make_editor(text=SOURCE, setup=SETUP)
    editor.nvim.command("call cursor(3, 11)")
    editor.nvim.input("ciwvalue<Esc>")
    marks = wait_until(lambda: len(editor.lua(MARKS)) == 6 and editor.lua(MARKS), 15, "the edits")
    return editor, marks


def test_a_rename_shows_the_other_uses_jumps_and_applies(
    make_editor: Callable[..., Editor], backend: FakeBackend
) -> None:
    editor, marks = rename_x(make_editor, backend)
    assert sorted(marks) == sorted(
        [
            ["strike", 3, 8, 3, 9],
            ["new", 3, 9, "value", "inline"],
            ["strike", 4, 10, 4, 11],
            ["new", 4, 11, "value", "inline"],
            ["strike", 5, 15, 5, 16],
            ["new", 5, 16, "value", "inline"],
        ]
    )
    assert editor.text() == SOURCE.replace("scale(x", "scale(value").rstrip("\n")

    editor.nvim.input("]e")
    wait_until(lambda: tuple(editor.nvim.current.window.cursor) == (4, 8), 5, "the jump to line 4")
    editor.nvim.input("]e")
    wait_until(lambda: tuple(editor.nvim.current.window.cursor) == (5, 10), 5, "the jump to line 5")

    editor.nvim.input("]a")
    wait_until(lambda: editor.text() == RENAMED_WINDOW.rstrip("\n"), 5, "the edits applied")
    assert editor.lua(MARKS) == []
    reported = counts(editor)  # the probe itself counts one acceptance
    assert (reported["shown"], reported["accepted"]) == (1, 2)


def test_dismiss_clears_and_reports(
    make_editor: Callable[..., Editor], backend: FakeBackend
) -> None:
    editor, _ = rename_x(make_editor, backend)
    editor.nvim.input("]d")
    wait_until(lambda: editor.lua(MARKS) == [], 5, "the edits cleared")
    reported = counts(editor)
    assert (reported["rejected"], reported["accepted"]) == (1, 1)
    assert editor.text() == SOURCE.replace("scale(x", "scale(value").rstrip("\n")
