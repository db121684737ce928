"""Next edits without a server: the Sweep and Zeta prompts (golden), the history of
changes, and the answer turned into the smallest edits."""

from __future__ import annotations

from lsp_server.nextedit.answer import (
    TextEdit,
    keep_edit,
    parse_answer,
    typing_spans,
    window_edits,
)
from lsp_server.nextedit.formats import SWEEP, ZETA, NextEditFormat, choose_format
from lsp_server.nextedit.history import EditHistory, LineChange
from lsp_server.nextedit.prompt import NextEditPrompt, Related, build_next_edit_prompt

SHAPES, OTHER = "file:///p/shapes.py", "file:///p/other.py"
PATHS = {SHAPES: "shapes.py", OTHER: "other.py"}


def _scenario() -> tuple[str, int, EditHistory]:
    """30 lines; `w` renamed to `width` on line 14, then a change in another file."""
    lines = [f"line {i}" for i in range(30)]
    lines[14:16] = ["def area(w, h):", "    return w * h"]
    before = "\n".join(lines) + "\n"
    history = EditHistory()
    history.opened(SHAPES, before)
    after = before.replace("def area(w, h):", "def area(width, h):")
    history.record(SHAPES, before, after)
    history.record(OTHER, "a = 1\n", "a = 2\n")
    return after, after.index("width") + len("width"), history


def _scenario_prompt(form: NextEditFormat, related: Related) -> tuple[str, NextEditPrompt]:
    """The scenario's text, and its prompt in `form` with one related file."""
    text, cursor, history = _scenario()
    changes = list(history.changes)
    baseline = history.baselines[SHAPES]
    prompt = build_next_edit_prompt(
        form, "shapes.py", text, cursor, changes, PATHS, baseline, [related]
    )
    return text, prompt


def _window(first: int, last: int, replace: dict[int, str]) -> str:
    return "".join(f"{replace.get(i, f'line {i}')}\n" for i in range(first, last + 1))


def test_sweep_prompt_golden() -> None:
    text, prompt = _scenario_prompt(SWEEP, Related("util.py", "def helper():\n    return 1\n"))
    old = {14: "def area(w, h):", 15: "    return w * h"}
    new = {14: "def area(width, h):", 15: "    return w * h"}
    assert prompt.text == (
        "<|file_sep|>util.py\ndef helper():\n    return 1\n"
        "<|file_sep|>shapes.py.diff\noriginal:\ndef area(w, h):\nupdated:\ndef area(width, h):\n"
        "<|file_sep|>other.py.diff\noriginal:\na = 1\nupdated:\na = 2\n"
        f"<|file_sep|>original/shapes.py\n{_window(4, 24, old)}"
        f"<|file_sep|>current/shapes.py\n{_window(4, 24, new)}"
        "<|file_sep|>updated/shapes.py\n"
    )
    assert prompt.window == _window(4, 24, new).rstrip("\n")  # 10 lines above, 10 below
    assert text[prompt.window_start :].startswith("line 4\n")


def test_zeta_prompt_golden() -> None:
    # Zeta's prompt has no related files.
    _, prompt = _scenario_prompt(ZETA, Related("util.py", "unused"))
    region = _window(
        9, 19, {14: "def area(width<|user_cursor_is_here|>, h):", 15: "    return w * h"}
    )
    assert prompt.text == (
        "### Instruction:\nYou are a code completion assistant and your task is to analyze "
        "user edits and then rewrite an excerpt that the user provides, suggesting the "
        "appropriate edits within the excerpt, taking into account the cursor location.\n\n"
        "### User Edits:\n\n"
        'User edited "shapes.py":\n```diff\n@@ -15,1 +15,1 @@\n-def area(w, h):\n'
        "+def area(width, h):\n```\n\n"
        'User edited "other.py":\n```diff\n@@ -1,1 +1,1 @@\n-a = 1\n+a = 2\n```\n\n'
        "### User Excerpt:\n\n```shapes.py\n<|start_of_file|>\n"
        f"{_window(0, 8, {})}<|editable_region_start|>\n{region}<|editable_region_end|>\n"
        f"{_window(20, 29, {})}```\n\n### Response:\n"
    )


def test_the_format_follows_the_setting_then_the_model_name() -> None:
    assert choose_format("zeta", "sweep-next-edit-1.5b") is ZETA
    assert choose_format("auto", "zed-industries/zeta-q4") is ZETA
    assert choose_format("auto", "sweep-next-edit-1.5B.q8_0.gguf") is SWEEP
    assert choose_format("auto", "qwen2.5-coder-0.5b") is SWEEP


def test_keystrokes_at_one_place_are_one_change_and_an_undo_is_none() -> None:
    history = EditHistory()
    text = "def f(a):\n    return a\n"
    history.opened("u", text)
    for typed in ("def f(al", "def f(alp", "def f(alph", "def f(alpha"):
        new = typed + text[text.index("):") :]
        history.record("u", text, new)
        text = new
    assert list(history.changes) == [LineChange("u", 0, ("def f(a):",), ("def f(alpha):",))]
    assert text[slice(*history.typed["u"])] == "lpha"
    renamed = text.replace("return a", "return alpha")
    history.record("u", text, renamed)  # the next line: the same place, one change
    assert list(history.changes) == [
        LineChange("u", 0, ("def f(a):", "    return a"), ("def f(alpha):", "    return alpha"))
    ]
    history.record("u", renamed, "def f(a):\n    return a\n")  # all undone: no change
    assert list(history.changes) == []
    history.record("u", "x = 1\n", "x = 2\n")
    assert history.baselines["u"] == "x = 1\n"  # the text before its oldest change


def test_answers_become_the_smallest_edits() -> None:
    old = "a = f(x) + g(x)\nkeep\nb = x"
    new = "a = f(value) + g(value)\nkeep\nb = value\nadded"
    edits = window_edits(100, old, new)
    assert edits == [
        TextEdit(106, 107, "value"),
        TextEdit(113, 114, "value"),
        TextEdit(125, 126, "value\nadded"),  # a line replaced by two: one edit
    ]
    assert window_edits(0, old, old) == []
    assert window_edits(0, old + "\n", old) == []  # a dropped final blank line is no edit
    assert window_edits(0, "x" * 50, "something else entirely, nothing like it") == []


def test_parse_answer_per_format() -> None:
    assert parse_answer(SWEEP, "a\nb\n<|file_sep|>junk", False) == "a\nb"
    assert parse_answer(SWEEP, "a\nb\n", True) is None  # cut short by the token limit
    # Copied on past the window into the document's next lines: cut where they begin.
    overrun = "a\nB\nnext one\nnext two\nmore"
    assert parse_answer(SWEEP, overrun, True, ["next one", "next two"], 2) == "a\nB"
    assert parse_answer(SWEEP, "a\nB\n\nnext two", True, ["", "next two"], 2) == "a\nB"
    assert parse_answer(SWEEP, overrun, True, ["", ""], 2) is None  # nothing to mark the end
    assert parse_answer(SWEEP, "a\n}\nb\n}", True, ["}"], 2) is None  # too short to tell
    assert parse_answer(SWEEP, "a\nB\nmore", True, ["next one"], 2) is None  # never reached
    zeta = "```x.py\n<|editable_region_start|>\na<|user_cursor_is_here|>b\n<|editable_region_end|>"
    assert parse_answer(ZETA, zeta, False) == "ab"


def test_what_the_user_types_is_never_touched() -> None:
    text = "name = valu\nother = 1\n"
    cursor = text.index("valu") + 4
    spans = typing_spans(text, cursor, (7, 11))
    assert not keep_edit(TextEdit(7, 11, "x"), cursor, spans)  # rewrites the word
    assert keep_edit(TextEdit(cursor, cursor, "e"), cursor, spans)  # completes it
    assert keep_edit(TextEdit(20, 21, "2"), cursor, spans)  # elsewhere
    assert not keep_edit(TextEdit(0, 8, ""), cursor, spans)  # overlaps it
