"""`:checkhealth ghostls`, `:Ghostls status` and code actions in real headless Neovim."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.neovim.conftest import Editor, wait_until
from tests.support.fake_backend import FakeBackend, Reply, Script

EXPLANATION = "This function adds its two arguments and returns the sum of them."

FLOAT_TEXT = """
for _, win in ipairs(vim.api.nvim_list_wins()) do
  local buf = vim.api.nvim_win_get_buf(win)
  if vim.api.nvim_win_get_config(win).relative ~= '' and vim.b[buf].ghostls_action == ... then
    return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\\n')
  end
end
return nil
"""


def test_checkhealth_reports_the_server(make_editor: Callable[..., Editor]) -> None:
    editor = make_editor()
    wait_until(
        lambda: editor.lua(
            "local s = require('ghostls').status[vim.lsp.get_clients({name='ghostls'})[1].id]"
            " return s.state == 'idle'"
        ),
        10,
        "the backend to be ready",
    )
    editor.nvim.command("checkhealth ghostls")
    report = "\n".join(editor.nvim.current.buffer[:])
    assert "ghostls" in report
    assert "server found:" in report and "ghostls 0.1.0" in report
    assert "client 1 (ghostls 0.1.0" in report and "is running" in report
    assert f"backend openai @ {editor.backend.url}" in report and "ready (idle)" in report
    assert "ERROR" not in report

    editor.nvim.command("tabclose")
    status = editor.lua("return require('ghostls').status_lines()")
    assert status[0].startswith("ghostls[1] ") and ": idle" in status[0]


def test_explain_streams_into_a_float(
    make_editor: Callable[..., Editor], backend: FakeBackend
) -> None:
    backend.set_script(Script(replies=[Reply(text=EXPLANATION)], ttft_ms=20, token_interval_ms=50))
    editor = make_editor(text="def add(a, b):\n    return a + b\n")
    offered = editor.lua(
        "return require('ghostls.actions').supported(vim.lsp.get_clients({name='ghostls'})[1])"
    )
    if not offered:
        pytest.skip("this server does not advertise ghostls.runAction yet")
    editor.nvim.command("1,2Ghostls explain")
    partial = wait_until(
        lambda: (t := editor.lua(FLOAT_TEXT, "explain")) and t != EXPLANATION and t,
        10,
        "the first words in the float",
    )
    assert EXPLANATION.startswith(partial.strip()) or partial.strip() in EXPLANATION
    wait_until(
        lambda: (editor.lua(FLOAT_TEXT, "explain") or "").strip() == EXPLANATION,
        10,
        "the whole explanation",
    )
    height = editor.lua(
        "for _, w in ipairs(vim.api.nvim_list_wins()) do"
        " if vim.api.nvim_win_get_config(w).relative ~= '' then"
        " return vim.api.nvim_win_get_height(w) end end"
    )
    assert height >= 1
    editor.nvim.input("q")  # the float has the focus: q closes it, back to the code
    wait_until(lambda: editor.nvim.current.buffer.name == str(editor.file), 5, "the code window")
    assert editor.text() == "def add(a, b):\n    return a + b"  # explain edits nothing
