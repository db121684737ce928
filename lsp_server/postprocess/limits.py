"""What the cut is asked and what it answers: the mode (statement or block, chosen
before generation by `decide_multiline`), the limits (`CutLimits`) and the answer
(`Cut`)."""

from __future__ import annotations

from dataclasses import dataclass

# Text without statements: a line break does not end anything.
PROSE_LANGUAGES = frozenset({"markdown", "yaml", "plaintext", "json", "jsonc", "toml", "html"})


@dataclass(frozen=True)
class CutLimits:
    multiline: bool
    max_lines: int
    stop: tuple[str, ...] = ()
    language: str = ""
    # Block mode: several statements only where the model went on with the code after
    # the cursor (or left the scope where it ends); else its first (`block_fit.py`).
    rejoin: bool = False
    # The prompt saw the cursor's line without the indentation the editor typed there
    # (`prompt/blank_line.py`): the model's first line carries its own, absolute.
    column_zero_prompt: bool = False


@dataclass(frozen=True)
class Cut:
    text: str
    final: bool
    reason: str = ""  # why `text` is empty, when it is
    # Characters of the suffix (its current line, right after the cursor) that `text`
    # replaces: the model typed the line's closing `)` / `"` again, with more in between.
    replace: int = 0
    # Final, and what the model wrote after `text` is the code after the cursor again:
    # the model's answer for the end of `text` is "nothing more", known already.
    then_suffix: bool = False
    # Characters of the indentation before the cursor (all the editor typed on a blank
    # line) that `text` removes: the model wrote its line shallower (`return x` after
    # a loop the editor indented into). The item replaces them (`indentation.py`).
    dedent: int = 0


def decide_multiline(prefix: str, suffix: str, setting: str, language: str = "") -> bool:
    """`always`/`never` as configured; `auto` without a syntax tree: block mode when the
    cursor's line is blank so far and the line before opens a block (ends with `:`,
    `{`, `(`, `[`, `=>`, `do`, `then`), or the cursor is at column 0 in front of
    existing text (whole lines are inserted there)."""
    if setting in ("always", "never"):
        return setting == "always"
    if language in PROSE_LANGUAGES:
        return True
    line_prefix = prefix.rsplit("\n", 1)[-1]
    rest_of_line = suffix.split("\n", 1)[0]
    if line_prefix.strip():
        return False  # mid-statement: the rest of the statement
    if line_prefix == "" and rest_of_line.strip():
        return True
    return not rest_of_line.strip()
