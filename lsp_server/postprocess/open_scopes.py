"""What the document around the cursor leaves open for the statement to finish: a call
or literal the prefix opened and the suffix does not close, scopes nothing after the
cursor closes, the remaining members of a type."""

from __future__ import annotations

import re
from functools import lru_cache

from lsp_server.postprocess.limits import PROSE_LANGUAGES
from lsp_server.postprocess.scan import (
    CLOSER_LINE,
    NO_BRACE_BLOCKS,
    Scan,
    indent_width,
    next_nonblank_line,
    unclosed,
)


@lru_cache(maxsize=64)
def open_parens(prefix_tail: str, suffix_head: str, language: str) -> tuple[int, int, int, int]:
    """What the cursor's statement opened on earlier lines and the suffix does not
    close, which the completion has to close before its statement can end: `(`/`[`
    after the last `{`, with the indentation of the outermost one's line; and all
    brackets after the last block `{` when an object literal is among them (`return
    [ok, {` ⏎ `player`), with the indentation of the outermost one's line (the
    statement's lines stay at least that deep). A suffix line indented less than the
    line that opened a bracket closes an outer scope, not that bracket (`}` of the
    `case` after `return [ok, {`)."""
    scan = Scan(language, opened=[])
    for line in prefix_tail.split("\n")[:-1]:
        scan.line(line)
    if scan.quote:
        return 0, 0, 0, 0
    opened = scan.stack.rsplit("{", 1)[-1] if language not in NO_BRACE_BLOCKS else scan.stack
    kinds = scan.opened or []
    parens = parens_indent = 0
    if opened:
        after = Scan(language)
        for line in suffix_head.split("\n"):
            after.line(line)
        parens = max(len(opened) + after.parens_lowest, 0)
        parens_indent = kinds[len(kinds) - len(opened)][1]
    block = max((k for k, (expression, _) in enumerate(kinds) if not expression), default=-1)
    statement = kinds[block + 1 :]
    if language in NO_BRACE_BLOCKS or "{" not in scan.stack[block + 1 :]:
        return parens, parens_indent, 0, 0
    after = Scan(language)
    for index, line in enumerate(suffix_head.split("\n")):
        closed = -after.lowest
        if closed >= len(statement):
            return parens, parens_indent, 0, 0
        if index > 0 and line.strip() and indent_width(line) < statement[-1 - closed][1]:
            break
        after.line(line)
    return parens, parens_indent, max(len(statement) + after.lowest, 0), statement[0][1]


@lru_cache(maxsize=64)
def outer_level(prefix: str, suffix: str, language: str) -> int | None:
    """The indentation the code after the cursor goes on at, when it is outside the
    scopes the cursor is in and nothing closes them (the suffix starts with the next
    function, the document's brackets do not balance): the completion finishes those
    scopes, up to their closing line at that level. None otherwise."""
    rest, _, after = suffix.partition("\n")
    anchor = next_nonblank_line(after)
    if language in NO_BRACE_BLOCKS or language in PROSE_LANGUAGES or rest.strip():
        return None
    if not anchor.strip() or CLOSER_LINE.match(anchor):
        return None
    if indent_width(anchor) >= indent_width(prefix.rsplit("\n", 1)[-1]):
        return None
    return indent_width(anchor) if unclosed(prefix + suffix, language) else None


_TYPE_HEADER = re.compile(r"\b(struct|interface|enum)\b[^;(]*\{\s*$")


@lru_cache(maxsize=64)
def member_level(prefix: str, suffix: str, language: str) -> int | None:
    """The indentation of a type's members (struct, interface, enum) when the cursor is
    on the last one written so far and the suffix closes the type next: the completion
    may go on with the remaining members, up to the closing line. None otherwise."""
    rest, _, after = suffix.partition("\n")
    anchor = next_nonblank_line(after)
    line_prefix = prefix.rsplit("\n", 1)[-1]
    level = indent_width(line_prefix)
    if language in NO_BRACE_BLOCKS or rest.strip() or not line_prefix.strip():
        return None
    if not CLOSER_LINE.match(anchor) or not anchor.strip() or indent_width(anchor) >= level:
        return None
    for line in reversed(prefix.split("\n")[:-1]):
        if line.strip() and indent_width(line) < level:
            return level if _TYPE_HEADER.search(line) else None
    return None
