"""Indentation of a suggestion on a line that is blank so far (issue #19, item 4).

A FIM model at column 0 of an empty line writes the indentation itself, and now and
then gets it wrong: `return a + b` at column 0 right under `def add(a, b):`. On a line
the editor already indented, it sometimes writes the indentation again (`    return x`
after four typed spaces: an IndentationError in Python).

`indent_shift` decides, once the model's first line has its first character, how to
fix that, from the levels the syntax allows there (`valid_levels`: right under a
block header only its body's level; elsewhere the levels of the blocks still open,
no shallower than the code after the cursor, which would otherwise be an unexpected
indent). `apply_shift` applies it to the text so far: the same function of a growing
text grows with it, so the streamed cut can apply it on every re-cut.

Python (where indentation is syntax) gets both fixes; other languages only the
doubled indentation of an already indented line. Tabs, a cursor inside brackets or a
multi-line string: no fix (the rules below would guess).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from lsp_server.prompt.blank_line import typed_indentation

_INDENT_SYNTAX = frozenset({"python"})
_LOOKBACK_LINES = 200
_CONTINUATION_LINES = 10  # lines read back for the start of a statement over lines
_OPENERS = {"(": ")", "[": "]", "{": "}"}
_STRING_OR_COMMENT = re.compile(r"'''|\"\"\"|'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\"|#.*")
_DEFINITION = re.compile(r"\s*(async\s+def|def|class|if\s+__name__)\b")


@dataclass(frozen=True)
class Shift:
    """What to do to the model's text: drop `strip_first` characters of its first
    line's indentation, then add (`delta` > 0) or remove (< 0) that many spaces at the
    start of every line (the first one included). `drop`: show nothing. `dedent`:
    the suggestion also removes that many characters of the indentation the editor
    typed before the cursor (the item's range starts there: `Cut.dedent`)."""

    strip_first: int = 0
    delta: int = 0
    drop: bool = False
    first: int = -1  # then the first line's indentation is this many spaces (-1: as is)
    dedent: int = 0

    @property
    def identity(self) -> bool:
        return not (self.strip_first or self.delta or self.drop) and self.first < 0


KEEP = Shift()


def _width(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _code(line: str) -> str:
    """The line without strings and `#` comments (roughly: enough for its last char)."""
    return _STRING_OR_COMMENT.sub(lambda m: "" if m.group().startswith("#") else "s", line)


@dataclass(frozen=True)
class Levels:
    open: frozenset[int]  # the levels of the blocks still open at the cursor
    opens_block: bool  # the line before opens a block: its body is the only level
    floor: int  # the code after the cursor's level (-1: none, or not Python)
    header: int = -1  # with `opens_block`: the header's level
    step: int = 4  # with `opens_block`: the file's indentation step

    def valid(self, width: int, header: bool) -> bool:
        """A statement may start at `width`: right under a header, any level deeper than
        it; elsewhere an open level, not shallower than the code after it (which would
        be an unexpected indent) unless it opens a block."""
        if self.opens_block:
            return width > self.header
        return self.expected(width, header)

    def expected(self, width: int, header: bool) -> bool:
        """`valid`, and under a header only its body's usual level."""
        return width in self.open and (header or width >= self.floor)


@lru_cache(maxsize=64)
def valid_levels(prefix: str, suffix: str, language: str) -> Levels | None:
    """The levels a statement on the cursor's (blank so far) line may start at, or None
    when they cannot be told (tabs, inside brackets or a multi-line string)."""
    head = prefix[: len(prefix) - len(prefix.rsplit("\n", 1)[-1])]
    lines = head.split("\n")[:-1][-_LOOKBACK_LINES:]
    if "\t" in "".join(lines[-40:]) or head.count('"""') % 2 or head.count("'''") % 2:
        return None
    depth = 0
    brackets = "([{" if language in _INDENT_SYNTAX else "(["  # braces are blocks elsewhere
    for line in lines[-30:]:
        code = _code(line)
        depth += sum(code.count(c) for c in brackets)
        depth -= sum(code.count(_OPENERS[c]) for c in brackets)
    if depth > 0:
        return None  # inside a call or literal: any indentation may be right
    code_lines = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    if not code_lines:
        return None
    last = code_lines[-1]
    level = _width(_statement_start(code_lines, brackets))
    after = next((ln for ln in suffix.split("\n")[1:] if ln.strip()), "")
    opener = ":" if language in _INDENT_SYNTAX else "{"
    if _code(last).rstrip().endswith(opener):
        below = _width(after) if after.strip() else -1
        body = below if below > level else level + _unit(code_lines)
        return Levels(frozenset({body}), True, -1, level, _unit(code_lines))
    levels = {level}
    for line in reversed(code_lines):
        width = _width(line)
        if width < level:
            levels.add(width)
            level = width
        if level == 0:
            break
    python = language in _INDENT_SYNTAX
    floor = _width(after) if python and after.strip() and not after.lstrip().startswith("#") else -1
    return Levels(frozenset(levels), False, floor)


def _statement_start(code_lines: list[str], brackets: str) -> str:
    """The line that starts the statement the last code line ends: a line inside
    brackets an earlier line opened (`def f(a,` ⏎ `      b):`) is a continuation, whose
    indentation is no level."""
    balance = 0
    for line in reversed(code_lines[-_CONTINUATION_LINES:]):
        code = _code(line)
        balance += sum(code.count(_OPENERS[c]) for c in brackets)
        balance -= sum(code.count(c) for c in brackets)
        if balance <= 0:
            return line
    return code_lines[-1]


def _unit(code_lines: list[str]) -> int:
    steps = [
        _width(b) - _width(a)
        for a, b in zip(code_lines[-60:], code_lines[-59:], strict=False)
        if _width(b) > _width(a)
    ]
    return min(steps) if steps else 4


def indent_shift(
    prefix: str, suffix: str, language: str, text: str, final: bool, column_zero: bool = False
) -> Shift | None:
    """How to fix the indentation of `text` (the model's output so far) at the cursor;
    None while its first line has no character yet (unless `final`). `column_zero`: the
    prompt saw the cursor's line without the indentation the editor typed
    (`prompt/blank_line.py`), so the model's indentation is absolute."""
    typed_python = typed_indentation(prefix, suffix, language) if column_zero else 0
    if typed_python:
        return _after_typed(prefix[:-typed_python], suffix, language, text, final, typed_python)
    line_prefix = prefix.rsplit("\n", 1)[-1]
    if line_prefix.strip(" ") or suffix.split("\n", 1)[0].strip():
        return KEEP  # code on the cursor's line: no indentation to choose
    first = text.split("\n", 1)[0]
    if not first.strip():
        if "\n" in text or final:
            return KEEP  # the model starts with a line break: its own layout
        return None  # the first character has not come yet
    if "\t" in first[: _width(first) + 1]:
        return KEEP
    levels = valid_levels(prefix, suffix, language)
    if levels is None:
        return KEEP
    typed, lead = len(line_prefix), _width(first)
    whole = "\n" in text or final
    if not whole and not levels.opens_block and not levels.expected(typed + lead, False):
        return None  # shallower than the code after it: fine only for a header (`else:`)
    header = _code(first).rstrip().endswith(":")
    outermost_body = min((width for width in levels.open if width > 0), default=0)
    if not typed and lead < min(levels.floor, outermost_body) and _DEFINITION.match(first):
        # A new top-level definition where the code after the cursor still belongs to
        # the function the cursor is in: the model thinks the scope has ended.
        # Shifted, it would be a nested definition nobody asked for. (A nested helper
        # at the body's level, with its body after the cursor, is fine.)
        return Shift(drop=True)
    if typed:  # the editor indented the line already
        if levels.expected(typed + lead, header):
            return KEEP
        if lead and lead >= typed and levels.expected(lead, header):
            return Shift(strip_first=typed)  # the model wrote the whole indentation again
        if lead and levels.expected(typed, header) and language in _INDENT_SYNTAX:
            return Shift(strip_first=lead)
        return KEEP
    if levels.valid(lead, header):
        return KEEP
    if language not in _INDENT_SYNTAX or first.lstrip()[0] in ")]}":
        return KEEP
    if levels.opens_block:
        (body,) = levels.open
        if header and body > levels.header + levels.step:
            # A header right under a header, above code two levels deeper: that code
            # is its body (HumanEval/98: `if s[i] in 'AEIOU':` between a `for` and
            # `count += 1`), so it takes the level in between.
            body = levels.header + levels.step
        return Shift(delta=body - lead)  # the header's body, which the model forgot
    targets = [width for width in levels.open if levels.valid(width, header)]
    if not targets:
        return KEEP
    target = min(targets, key=lambda width: (abs(width - lead), -width))
    return Shift(delta=target - lead)


def _after_typed(
    column_zero: str, suffix: str, language: str, text: str, final: bool, typed: int
) -> Shift | None:
    """A Python line holding only the `typed` indentation was prompted as empty
    (`prompt/blank_line.py`): the model's indentation is absolute. Fixed as at column
    0, then the typed part removed from the first line; shallower than what is typed
    (`else:` or `return x` after a body the editor indented into), the suggestion
    removes the difference from the typed indentation (`dedent`: the item replaces
    the line's whitespace, as Copilot's do)."""
    shift = indent_shift(column_zero, suffix, language, text, final)
    if shift is None or shift.drop:
        return shift
    first = text.split("\n", 1)[0]
    if not first.strip() or "\t" in first[: _width(first) + 1]:
        return shift  # a line break first (its own layout), or tabs: as at column 0
    width = _width(first) + shift.delta
    levels = valid_levels(column_zero, suffix, language)
    if width < typed and levels is not None and levels.opens_block and typed > levels.header:
        # Both in the header's body (`      return` under `if x:` at 4, the editor typed
        # 8): the body's level is the editor's.
        return Shift(delta=shift.delta + typed - width, first=0)
    if width < typed and levels is None and not shift.delta:
        # Inside brackets or a string (no levels to go by): any indentation is valid,
        # the editor's stands.
        return Shift(strip_first=_width(first))
    if width < typed:
        return Shift(delta=shift.delta, first=0, dedent=typed - width)
    if not shift.delta:
        return Shift(strip_first=typed)
    return Shift(delta=shift.delta, first=width - typed)


def apply_shift(text: str, shift: Shift) -> str:
    if shift.identity:
        return text
    if shift.drop:
        return ""
    if shift.strip_first:
        first, newline, rest = text.partition("\n")
        take = min(shift.strip_first, _width(first))
        text = first[take:] + newline + rest
    if shift.delta > 0:
        pad = " " * shift.delta
        text = pad + text.replace("\n", "\n" + pad)
    elif shift.delta < 0:
        text = re.sub(rf"(?m)^ {{1,{-shift.delta}}}", "", text)
    if shift.first >= 0:
        text = " " * shift.first + text[_width(text) :]
    return text
