"""What a new user meets in real headless Neovim 0.11.4 (issue 16): no suggestion lost
to the order of Neovim's events, ghost text that does not look like code without
'termguicolors', word of a loading model, action floats that take the focus and fit
their text, Neovim's own code-action menu (`gra`), `:help ghostls` after `packadd`,
and the reports the plugin sends back to the server."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.neovim.conftest import PLUGIN, Editor, model_requests, nvim_binary, wait_until
from tests.support.fake_backend import FakeBackend, Reply, Script

EXPLANATION = (
    "This function adds its two arguments and returns their sum, which works for numbers "
    "and for anything else that defines addition, such as strings, lists and tuples, so "
    "callers can join sequences with it as well as add quantities together."
)


def requests_seen(editor: Editor) -> int:
    return len(model_requests(editor.backend))


# -- 1. no lost suggestions -----------------------------------------------------------------


def test_a_key_during_a_request_still_ends_in_a_suggestion_10_of_10(
    make_editor: Callable[..., Editor], backend: FakeBackend
) -> None:
    """Each word's keys arrive while the previous key's request is in flight (the
    backend waits 300 ms before its first token): Neovim fires CursorMovedI, then
    TextChangedI, for each key. A suggestion must follow the last key every time."""
    backend.set_script(Script(replies=[Reply(text="value")], ttft_ms=300))
    editor = make_editor(text="x = 1\n")
    editor.nvim.command("call cursor(1, 5)")
    editor.nvim.input("A")
    shown = 0
    for attempt in range(10):
        editor.nvim.input("<CR>")
        for key in "ab":
            before = requests_seen(editor)
            editor.nvim.input(key)
            wait_until(lambda b=before: requests_seen(editor) > b, 10, "a request after a key")
        editor.nvim.input("c")  # arrives while the request for "ab" is in flight
        ghost = editor.wait_ghost(timeout=10)
        assert ghost == "value", attempt
        assert editor.nvim.current.line == "abc"
        shown += 1
        editor.nvim.input("<C-]>")  # dismiss before the next line
        wait_until(lambda: editor.ghost() is None, 5, "the dismissed ghost text to go")
    assert shown == 10


def test_enter_after_an_accept_gets_a_suggestion_on_the_new_line(
    make_editor: Callable[..., Editor], backend: FakeBackend
) -> None:
    """The accept's own text change starts a request; Enter comes while it is in flight."""
    backend.set_script(Script(replies=[Reply(text="value")], ttft_ms=300))
    editor = make_editor(text="x = \n")
    editor.nvim.command("call cursor(1, 4)")
    editor.nvim.input("A")
    editor.wait_ghost(lambda g: g == "value")
    for attempt in range(2):
        before = requests_seen(editor)
        editor.nvim.input("<Tab>")
        wait_until(lambda b=before: requests_seen(editor) > b, 10, "the request after the accept")
        editor.nvim.input("<CR>")
        ghost = editor.wait_ghost(timeout=10)
        assert ghost == "value", attempt
        assert editor.nvim.current.line == ""


# -- 2. visible ghost text ------------------------------------------------------------------


def test_ghost_text_has_its_own_colour_without_termguicolors(
    make_editor: Callable[..., Editor],
) -> None:
    editor = make_editor()
    editor.nvim.command("set notermguicolors")
    colours = editor.lua(
        """
        local ghost = vim.api.nvim_get_hl(0, { name = 'GhostlsSuggestion', link = false })
        local normal = vim.api.nvim_get_hl(0, { name = 'Normal', link = false })
        return { ghost = ghost.ctermfg or vim.NIL, normal = normal.ctermfg or -1 }
        """
    )
    assert colours["ghost"] is not None, "no cterm colour: drawn like code in a terminal"
    assert colours["ghost"] != colours["normal"]
    editor.nvim.command("colorscheme default")  # `:hi clear` first: it must come back
    again = editor.lua(
        "return vim.api.nvim_get_hl(0, { name = 'GhostlsSuggestion', link = false }).ctermfg"
    )
    assert again == colours["ghost"]


# -- 3. a loading model says so ---------------------------------------------------------------


def test_loading_is_shown_without_a_statusline(make_editor: Callable[..., Editor]) -> None:
    # after_ms = 0: an HTTP backend is "loading" only for an instant.
    editor = make_editor(setup={"notice": {"after_ms": 0}})

    def messages() -> str:
        return editor.nvim.api.exec2("messages", {"output": True})["output"]  # type: ignore[no-any-return]

    shown = wait_until(lambda: "ready" in (m := messages()) and m, 10, "the ready message")
    assert "ghostls: loading fake…" in shown
    assert "ghostls: fake ready" in shown
    hints = editor.lua(
        "return #vim.api.nvim_buf_get_extmarks(0, require('ghostls.notice').ns, 0, -1, {})"
    )
    assert hints == 0  # the hint at the cursor went with "ready"


def test_the_loading_hint_sits_at_the_cursor_line(make_editor: Callable[..., Editor]) -> None:
    editor = make_editor()
    mark = editor.lua(
        """
        local notice = require('ghostls.notice')
        require('ghostls.config').options.notice.after_ms = 0
        vim.api.nvim_win_set_cursor(0, { 2, 0 })
        notice.on_status(999, { state = 'downloading', model = 'qwen', detail = '42%' })
        local marks = vim.api.nvim_buf_get_extmarks(0, notice.ns, 0, -1, { details = true })
        local mark = marks[1]
        notice.on_status(999, { state = 'idle', model = 'qwen', detail = 'ready' })
        return { row = mark[2], text = mark[4].virt_text[1][1],
                 left = #vim.api.nvim_buf_get_extmarks(0, notice.ns, 0, -1, {}) }
        """
    )
    assert mark["row"] == 1
    assert mark["text"].strip() == "ghostls: downloading qwen (42%)…"
    assert mark["left"] == 0


# -- 4. action floats ------------------------------------------------------------------------

FLOAT = """
for _, win in ipairs(vim.api.nvim_list_wins()) do
  if vim.api.nvim_win_get_config(win).relative ~= '' then
    local buf = vim.api.nvim_win_get_buf(win)
    return { win = win, current = vim.api.nvim_get_current_win() == win,
             height = vim.api.nvim_win_get_height(win), width = vim.api.nvim_win_get_width(win),
             linebreak = vim.wo[win].linebreak, wrap = vim.wo[win].wrap,
             rows = vim.api.nvim_win_text_height(win, {}).all,
             text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\\n') }
  end
end
return vim.NIL
"""


def float_state(editor: Editor) -> dict[str, Any] | None:
    return editor.lua(FLOAT)  # type: ignore[no-any-return]


def test_an_action_float_takes_focus_fits_its_text_and_q_closes_it(
    make_editor: Callable[..., Editor], backend: FakeBackend
) -> None:
    backend.set_script(Script(replies=[Reply(text=EXPLANATION)]))
    editor = make_editor(
        text="def add(a, b):\n    return a + b\n", setup={"float": {"max_width": 60}}
    )
    code_window = editor.nvim.current.window.handle
    editor.nvim.command("1,2Ghostls explain")
    shown = wait_until(
        lambda: (f := float_state(editor)) and f["text"] == EXPLANATION and f,
        10,
        "the whole explanation in a float",
    )
    assert shown["current"], "the float must take the focus (q would record a macro)"
    assert shown["wrap"] and shown["linebreak"], "words wrap whole"
    assert shown["width"] == 60
    assert shown["height"] == shown["rows"] > 1, "every wrapped row fits"
    editor.nvim.input("q")
    wait_until(lambda: float_state(editor) is None, 5, "q to close the float")
    assert editor.nvim.current.window.handle == code_window
    assert editor.nvim.funcs.reg_recording() == ""


# -- 5. Neovim's own code-action menu ---------------------------------------------------------


SCREEN = """
local rows = {}
for r = 1, vim.o.lines do
  local row = {}
  for c = 1, vim.o.columns do row[#row + 1] = vim.fn.screenstring(r, c) end
  rows[#rows + 1] = table.concat(row)
end
return rows
"""


def wait_prompt(editor: Editor, words: str) -> list[str]:
    """Until Neovim shows a prompt (the action menu, vim.ui.input) holding `words`."""

    def shown() -> list[str] | None:
        if editor.mode() != "c":
            return None
        rows: list[str] = editor.lua(SCREEN)
        return rows if any(words in row for row in rows) else None

    return wait_until(shown, 10, f"a prompt showing {words!r}")


def session_done(editor: Editor) -> bool:
    """Whether the action's answer has ended (the float stops growing)."""
    return bool(
        editor.lua("for _, s in pairs(require('ghostls.actions').sessions) do return s.done end")
    )


def menu_entry(editor: Editor, title: str) -> str:
    """The number to type for `title` in the code-action menu."""
    for row in wait_prompt(editor, title):
        if title in row:
            return row.strip().split(":")[0].strip().rstrip(".")
    raise AssertionError(title)


def test_gra_explain_shows_the_streamed_text(
    make_editor: Callable[..., Editor], backend: FakeBackend
) -> None:
    backend.set_script(Script(replies=[Reply(text=EXPLANATION)]))
    editor = make_editor(text="def add(a, b):\n    return a + b\n")
    editor.nvim.command("call cursor(2, 5)")
    editor.nvim.input("gra")
    editor.nvim.input(menu_entry(editor, "ghostls: Explain") + "<CR>")
    shown = wait_until(
        lambda: (f := float_state(editor)) and f["text"] == EXPLANATION and f,
        10,
        "the explanation in a float",
    )
    assert shown["current"]


def test_gra_edit_asks_for_the_instruction_and_applies(
    make_editor: Callable[..., Editor], backend: FakeBackend
) -> None:
    edited = "def add(a, b):\n    # the sum\n    return a + b"
    backend.set_script(
        Script(replies=[Reply(text=f"```python\n{edited}\n```", when="comment the sum")])
    )
    editor = make_editor(text="def add(a, b):\n    return a + b\n")
    editor.nvim.command("call cursor(2, 5)")
    editor.nvim.input("gra")
    editor.nvim.input(menu_entry(editor, "ghostls: Edit with instruction") + "<CR>")
    wait_prompt(editor, "ghostls: edit instruction:")
    editor.nvim.input("comment the sum<CR>")
    preview = wait_until(
        lambda: (f := float_state(editor)) and "+    # the sum" in f["text"] and f,
        10,
        "the diff preview",
    )
    assert preview["current"]
    # `a` is refused while the answer is still being written (the next test); a user
    # presses it once the preview stops growing.
    wait_until(lambda: session_done(editor), 20, "the end of the answer")
    editor.nvim.input("a")  # accept
    wait_until(lambda: editor.text() == edited, 10, "the edit in the buffer")
    chat = [r for r in model_requests(backend) if r.path.endswith("/chat/completions")]
    assert "comment the sum" in chat[-1].prompt


def test_an_edit_still_being_written_is_not_accepted(
    make_editor: Callable[..., Editor], backend: FakeBackend
) -> None:
    """Seen with a real 0.5B model: `a` pressed while the diff was still growing put the
    half-written answer (an open fence, a cut line) over the function."""
    edited = "def add(a, b):\n    # the sum of a and b, for numbers and sequences\n    return a + b"
    backend.set_script(
        Script(replies=[Reply(text=f"```python\n{edited}\n```")], token_interval_ms=100)
    )
    source = "def add(a, b):\n    return a + b\n"
    editor = make_editor(text=source)
    code = editor.nvim.current.buffer

    def code_text() -> str:
        return "\n".join(code[:])

    def done() -> bool:
        return session_done(editor)

    editor.nvim.command("1,2Ghostls edit comment the sum")
    wait_until(lambda: (f := float_state(editor)) and "+def add" in f["text"], 10, "a diff")
    assert not done()
    editor.nvim.input("a")  # while the model still writes
    messages = wait_until(
        lambda: (
            (m := editor.nvim.api.exec2("messages", {"output": True})["output"])
            and "still being written" in m
            and m
        ),
        5,
        "the warning",
    )
    assert messages and code_text() == source.rstrip("\n")
    wait_until(done, 20, "the end of the answer")
    editor.nvim.input("a")
    wait_until(lambda: code_text() == edited, 10, "the finished edit in the buffer")


# -- 6. :help after packadd --------------------------------------------------------------------


def test_help_works_after_a_plain_packadd(tmp_path: Path) -> None:
    binary = nvim_binary("0.11")
    if binary is None:
        import pytest

        pytest.skip("Neovim 0.11 is not installed: run scripts/setup-neovim.sh")
    pack = tmp_path / "site" / "pack" / "plugins" / "opt"
    pack.mkdir(parents=True)
    shutil.copytree(PLUGIN, pack / "ghostls")  # as a user's plugin manager installs it
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "c")}
    script = (
        f"set packpath^={tmp_path / 'site'} | packadd ghostls | silent! help ghostls"
        " | call writefile([expand('%:t')], 'out.txt') | qa!"
    )
    subprocess.run(
        [str(binary), "--headless", "-u", "NONE", "-i", "NONE", "-n", "-c", script],
        cwd=tmp_path,
        env=env,
        check=False,
        timeout=30,
        capture_output=True,
    )
    assert (tmp_path / "out.txt").read_text().strip() == "ghostls.txt"


def test_the_shipped_help_tags_are_current(tmp_path: Path) -> None:
    binary = nvim_binary("0.11")
    if binary is None:
        import pytest

        pytest.skip("Neovim 0.11 is not installed: run scripts/setup-neovim.sh")
    doc = tmp_path / "doc"
    shutil.copytree(PLUGIN / "doc", doc)
    (doc / "tags").unlink(missing_ok=True)
    argv = [str(binary), "--headless", "-u", "NONE", "-i", "NONE", "-n"]
    subprocess.run(
        [*argv, "-c", f"helptags {doc}", "-c", "qa!"],
        check=True,
        timeout=30,
        capture_output=True,
    )
    shipped = (PLUGIN / "doc" / "tags").read_text(encoding="utf-8")
    assert shipped == (doc / "tags").read_text(encoding="utf-8"), "run :helptags clients/neovim/doc"


# -- reports ----------------------------------------------------------------------------------


def test_the_plugin_reports_shows_and_accepts_and_shows_the_stats(
    make_editor: Callable[..., Editor], backend: FakeBackend
) -> None:
    text = "if a:\n        return a\n    return a + b"
    # Asked at column 0 on a line holding only indentation, the model writes it itself.
    backend.set_script(Script(replies=[Reply(text="    " + text)]))
    editor = make_editor()
    editor.nvim.command("call cursor(2, 5)")
    editor.nvim.input("A")
    editor.wait_ghost(lambda g: g == text)
    editor.nvim.input("<C-l>")  # accept a word: "if"
    wait_until(lambda: editor.nvim.current.buffer[1] == "    if", 5, "the first word")
    editor.nvim.input("<Tab>")  # and the rest
    wait_until(lambda: editor.text().endswith("return a + b"), 5, "the whole suggestion")
    stats = wait_until(
        lambda: (
            (
                s := editor.lua(
                    "local c = vim.lsp.get_clients({ name = 'ghostls' })[1]"
                    " return c:request_sync('ghostls/stats', vim.empty_dict(), 2000).result"
                )
            )
            and s["accepted"] >= 1
            and s
        ),
        10,
        "the server to count the accept",
    )
    assert stats["shown"] == 1
    assert stats["partiallyAccepted"] == 1
    assert stats["charsAccepted"] == len(text)
    lines = editor.lua("return require('ghostls').status_lines()")
    kept = f"suggestions: 1 shown, 1 accepted, 1 partly accepted, {len(text)} characters kept"
    assert kept in lines
    assert any(backend.url in line and "requests" in line for line in lines)
