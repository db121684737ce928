"""The end of the statement (the cut's statement mode): where the rest of the cursor's
statement ends in the model's lines, and whether that is decided yet (a line break
with the brackets balanced, a header that opens a block, an Allman `{` still to come)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lsp_server.postprocess.limits import CutLimits
from lsp_server.postprocess.open_scopes import member_level, open_parens, outer_level
from lsp_server.postprocess.rest_of_line import WHOLE_REST, rest_in_line
from lsp_server.postprocess.scan import (
    CLOSER_LINE,
    CLOSERS,
    NO_BRACE_BLOCKS,
    Scan,
    indent_width,
    next_nonblank_line,
    same_line,
)
from lsp_server.postprocess.scope import DEFINITION, body_exists, new_block_end


def _could_open_allman(code: str, language: str) -> bool:
    """A line after which a lone `{` may still come (a header in Allman style)."""
    if language in NO_BRACE_BLOCKS or not code.strip():
        return False
    return not code.endswith((";", "}", ",", "{", "(", "[", "=", "+", "-", "*", "/", "."))


_END_BLOCKS = frozenset({"ruby", "lua"})
_END_LINE = re.compile(r"\s*end\b")
_GOES_ON = (",", "..", "+", "&&", "||", "(")


_STATEMENT_LINES = 30  # how far back an open call of the cursor's statement is looked for


_HEADER_LINES = 5  # lines read for the header whose body the suffix already has


def statement_end(
    lines: list[str], complete: int, prefix: str, suffix: str, limits: CutLimits
) -> tuple[int, bool]:
    """Lines that make up the rest of the statement; True when that is decided."""
    written = _rest_written(lines, complete, prefix, suffix)
    if written is not None:
        return written, True
    if not _body_below(prefix, suffix):
        return _plain_statement_end(lines, complete, prefix, suffix, limits)
    # The suffix goes on with a body, indented deeper than the cursor's line: the
    # completion is the header that opens it (an attribute or decorator, then the
    # signature, up to its `{` / `:`), when the model writes one within a few lines.
    line_prefix = prefix.rsplit("\n", 1)[-1]
    opener = ("{", ":") if limits.language == "python" else ("{",)
    keep, decided = _plain_statement_end(lines, complete, prefix, suffix, limits)
    if decided and keep > 0:
        last = (line_prefix + lines[0] if keep == 1 else lines[keep - 1]).split("//", 1)[0]
        if last.rstrip().endswith((";", "}")):
            return keep, True  # a whole statement: what follows is another one
    for index in range(min(complete, _HEADER_LINES)):
        code = (line_prefix + lines[index] if index == 0 else lines[index]).split("//", 1)[0]
        if code.rstrip().endswith(opener):
            return index + 1, True
        if decided and index >= keep and not _header_like(lines[index]):
            return keep, True  # a statement, not a header: the plain end stands
    if decided and keep <= complete < min(len(lines), _HEADER_LINES):
        previous = line_prefix + lines[0] if complete == 1 else lines[complete - 1]
        if _starts_statement(lines[complete], previous):
            return keep, True  # decided from the line's first word, not its end
    return keep, decided and complete >= _HEADER_LINES


_FIRST_TOKEN = re.compile(r"\s*([^\s\w]|\w+)(?=\W)")


_HEADER_WORDS = frozenset(
    [
        "public",
        "private",
        "protected",
        "internal",
        "static",
        "async",
        "def",
        "class",
        "fn",
        "func",
        "function",
        "override",
        "virtual",
        "abstract",
        "sealed",
        "export",
        "pub",
        "void",
        "final",
        "partial",
        "readonly",
        "unsafe",
        "extern",
    ]
)


def _starts_statement(line: str, previous: str) -> bool:
    """The line being written starts a statement, not the rest of a header: its first
    word is no modifier or definition keyword, no attribute, brace or parameter."""
    match = _FIRST_TOKEN.match(line)
    code = previous.split("//", 1)[0].rstrip()
    if match is None or code.endswith(("(", ",")) or _modifiers(code):
        return False
    return match.group(1) not in _HEADER_WORDS and match.group(1) not in ("@", "[", "{", ")")


def _header_like(line: str) -> bool:
    """A line that may be part of a header still opening its block: an attribute or
    decorator, a signature line that goes on (`(`, `,`, `)`), a definition, the
    modifiers and type of a signature whose name is on the next line (C#'s `public
    void` ⏎ `ShouldThrow…(`)."""
    code = line.split("//", 1)[0].strip()
    return bool(code) and (
        code.endswith(("(", ",", ")", "]", ">"))
        or code.startswith(("@", "["))
        or bool(DEFINITION.match(code))
        or _modifiers(code)
    )


def _modifiers(code: str) -> bool:
    """Code that starts with a modifier or definition keyword and ends nothing yet: the
    start of a signature (`public void` ⏎ `ShouldThrow…(`)."""
    first = _FIRST_TOKEN.match(code.strip() + " ")
    return first is not None and first.group(1) in _HEADER_WORDS and not set(code) & set(";={}")


def _rest_written(lines: list[str], complete: int, prefix: str, suffix: str) -> int | None:
    """The lines to keep when the model's first line has the rest of the cursor's line
    in it, whole, after some code of its own: the model reached the code after the
    cursor there (`_drop_rest_of_line_overlap` drops it and what follows). None when
    it has not (yet), or the line is not complete (`v[1]` before `[1]` is the middle's
    own until the line ends: `v[1].split('p=')[1]`)."""
    rest = suffix.partition("\n")[0].strip()
    if len(rest) < WHOLE_REST or not prefix.rpartition("\n")[2].strip():
        return None
    index = 0 if lines[0].strip() or complete == 0 else 1  # after the cursor, or below it
    if index >= complete:
        return None  # the line goes on: the rest may yet be in it again, at its end
    at = rest_in_line(lines[index], rest)
    return index + 1 if at > 0 and lines[index][:at].strip() else None


def _body_below(prefix: str, suffix: str) -> bool:
    """The rest of the cursor's line is empty, the line has code that opens nothing yet,
    and the suffix's next line is indented deeper and is no closing line."""
    rest, _, after = suffix.partition("\n")
    line_prefix = prefix.rsplit("\n", 1)[-1]
    code = line_prefix.rstrip()
    if rest.strip() or not code.strip() or code.endswith(tuple("{:,=\\")):
        return False
    anchor = next_nonblank_line(after)
    return (
        bool(anchor.strip())
        and not CLOSER_LINE.match(anchor)
        and indent_width(anchor) > indent_width(line_prefix)
    )


@dataclass
class _Statement:
    """What `_plain_statement_end` reads around the cursor, and the bracket state of the
    completion's lines read so far (`scan`)."""

    line_prefix: str
    anchor: str  # the suffix's next non-blank line
    must_close: int  # `(`/`[` the prefix opened for the statement, the suffix leaves open
    must_brackets: int  # brackets of an object literal the prefix opened, left open
    statement_indent: int  # the statement's lines stay at least this deep in that literal
    call_indent: int  # a call's lines are indented deeper than the line that opened it
    outer: int | None  # `outer_level`: the scopes the suffix leaves open are closed first
    members: int | None  # `member_level`: the next members of a type
    scan: Scan
    language: str

    def before(self, lines: list[str], index: int) -> str:
        """The line before `lines[index]` (index ≥ 1), the cursor's line whole."""
        return self.line_prefix + lines[0] if index == 1 else lines[index - 1]

    def left_open(self, line: str, previous: str = "") -> bool:
        """A line after the first that starts outside what the statement left open:
        back at the level of the call (or list) the model has not closed, not closing
        it (the model went on with the next statement), or less indented than an
        object literal the prefix opened (another scope). Known from its first
        character, so the line being written decides too."""
        if not line.strip() or self.scan.quote:
            return False
        if self.must_brackets and indent_width(line) < self.statement_indent:
            return True
        if line.strip() == "{":
            return False  # Allman style: a lambda's body, an initializer (`new[]` ⏎ `{`)
        if previous.split("//", 1)[0].rstrip().endswith(_GOES_ON):
            return False  # the line before ends with `,` or an operator: it goes on
        return (
            self.scan.depth <= 0
            and self.scan.parens > -self.must_close
            and indent_width(line) <= self.call_indent
            and line.lstrip()[0] not in CLOSERS
            # Ruby's and Lua's `end` closes a block the statement opened (`map do |a|`
            # ⏎ … ⏎ `end.compact)`): inside the call, it is no new statement.
            and not (self.language in _END_BLOCKS and _END_LINE.match(line))
        )


def _statement_at(prefix: str, suffix: str, language: str) -> _Statement:
    """The statement the cursor is in: what it opened before the cursor."""
    tail_start = len(prefix)
    for _ in range(_STATEMENT_LINES):
        tail_start = prefix.rfind("\n", 0, tail_start)
        if tail_start < 0:
            break
    suffix_head = "\n".join(suffix.split("\n", 10)[:10])
    line_prefix = prefix.rsplit("\n", 1)[-1]
    must_close, parens_indent, must_brackets, statement_indent = open_parens(
        prefix[tail_start + 1 :], line_prefix + suffix_head, language
    )
    scan = Scan(language)
    scan.line(line_prefix)  # a string or call opened before the cursor
    if not must_close and scan.parens_lowest < 0:
        # The cursor's line closed a call of earlier lines and opened another
        # (`invokeAsync(` ⏎ … ⏎ `)(`): the statement is in the new one.
        scan.parens -= scan.parens_lowest
        scan.parens_lowest = 0
    # The lines of a call or list the statement opened are indented deeper than the
    # line that opened it (or start by closing it).
    call_indent = (
        parens_indent if must_close else indent_width(line_prefix) if scan.parens > 0 else -1
    )
    scan.depth = scan.lowest = 0
    scan.stack = ""
    scan.quote = scan.dangling  # the completion goes on inside the string
    return _Statement(
        line_prefix=line_prefix,
        anchor=next_nonblank_line(suffix),
        must_close=must_close,
        must_brackets=must_brackets,
        statement_indent=statement_indent,
        call_indent=call_indent,
        outer=outer_level(prefix, suffix, language),
        members=member_level(prefix, suffix, language),
        scan=scan,
        language=language,
    )


def _plain_statement_end(
    lines: list[str], complete: int, prefix: str, suffix: str, limits: CutLimits
) -> tuple[int, bool]:
    at = _statement_at(prefix, suffix, limits.language)
    if at.line_prefix.rstrip().endswith("{") and complete and not lines[0].strip():
        # The cursor's line opened a block and the model starts its body.
        header = indent_width(at.line_prefix)
        if not body_exists(suffix, header):
            return new_block_end(lines, 1, complete, header)
    for index in range(complete):
        line = lines[index]
        if index > 0 and _runs_into_anchor(line, at.anchor):
            return index, True  # the statement ran on into the code after the cursor
        if at.outer is not None or at.members is not None:
            decision = _closes_scopes(at, line, index)
        elif index > 0 and at.left_open(line, at.before(lines, index)):
            decision = index, True
        else:
            decision = _after_line(at, lines, index, complete, suffix, limits.language)
        if decision is not None:
            return decision
    if (
        at.outer is None
        and at.members is None
        and 0 < complete < len(lines)
        and at.left_open(lines[complete], at.before(lines, complete))
        and not (at.language in _END_BLOCKS and "end".startswith(lines[complete].strip()))
    ):
        return complete, True
    return complete, False


def _runs_into_anchor(line: str, anchor: str) -> bool:
    """The line repeats the suffix's next line (a closing line indented deeper closes
    the completion's own call)."""
    return (
        bool(anchor.strip())
        and same_line(line, anchor)
        and (not CLOSER_LINE.match(anchor) or indent_width(line) <= indent_width(anchor))
    )


def _closes_scopes(at: _Statement, line: str, index: int) -> tuple[int, bool] | None:
    """Where the suffix leaves scopes open (or a type's members), the completion closes
    them first: it ends at the line back at their level."""
    if index == 0 or not line.strip():
        return None
    if at.outer is not None:
        if indent_width(line) <= at.outer:
            return (index + 1 if CLOSER_LINE.match(line) else index), True
        return None
    if at.members is not None and indent_width(line) < at.members:
        return index, True  # the type's closing line: the suffix has it
    return None  # the next member of the type


def _after_line(
    at: _Statement, lines: list[str], index: int, complete: int, suffix: str, language: str
) -> tuple[int, bool] | None:
    """Read line `index`: does the statement end with it (or the block it opens)?"""
    line, scan = lines[index], at.scan
    literal = at.must_brackets > 0 and scan.depth > -at.must_brackets
    scan.line(line)
    if scan.quote or line.rstrip().endswith("\\"):
        return None  # inside a multi-line string, or an explicit continuation
    if literal and scan.depth > -at.must_brackets and line.strip():
        return None  # inside a literal the prefix opened: it goes on until closed
    previous = at.line_prefix if index == 0 else at.line_prefix + lines[0] if index == 1 else ""
    previous = previous or lines[index - 1]
    in_call = scan.parens > -at.must_close  # inside a call the statement opened
    if (
        scan.last_line_opened_brace
        and scan.depth <= 1
        and not _literal_brace(line, previous)
        # Among a call's arguments a `{` opens a lambda's body (`static (_, s) =>` ⏎
        # `{` … `},` ⏎ `context`): the statement ends where the call does.
        and not in_call
    ):
        header = indent_width(at.line_prefix) if index == 0 else indent_width(line)
        if body_exists(suffix, header):
            return index + 1, True  # a header that opens a block: the body is next
        return new_block_end(lines, index + 1, complete, header)
    if scan.depth <= 0 and in_call and line.strip():
        return None  # an argument of a call the prefix opened: the call goes on
    if scan.depth <= 0 and (line.strip() or index > 0):
        return _line_ends_statement(at, lines, index, complete, suffix, language)
    return None


def _line_ends_statement(
    at: _Statement, lines: list[str], index: int, complete: int, suffix: str, language: str
) -> tuple[int, bool]:
    """The brackets are balanced after line `index`: the statement ends there, unless a
    lone `{` follows (an Allman-style header keeps its brace, and its body when the
    suffix does not have it)."""
    line = lines[index]
    if index + 1 < complete or (index + 1 < len(lines) and lines[index + 1].strip()):
        following = lines[index + 1].strip()
        allman = following == "{" and not line.rstrip().endswith((";", "}", ",", "{"))
        if allman and not same_line(following, at.anchor):
            header = indent_width(lines[index + 1])
            if not body_exists(suffix, header):
                return new_block_end(lines, index + 2, complete, header)
            return index + 2, True  # Allman-style header: keep its brace
        return index + 1, True
    code = (at.line_prefix + line if index == 0 else line).split("//", 1)[0].rstrip()
    if not _could_open_allman(code, language):
        return index + 1, True  # no `{` can follow on its own line: decided
    return index + 1, False  # wait for the next line to rule out Allman `{`


def _literal_brace(line: str, previous: str) -> bool:
    """The line is a lone `{` after `(`, `[`, `,` or `=` ending the line before: an
    object literal among a call's arguments, not a block (`foo(` ⏎ `{` ⏎ `a: 1,`)."""
    if line.strip() != "{":
        return False
    return previous.split("//", 1)[0].rstrip().endswith(("(", "[", ",", "="))
