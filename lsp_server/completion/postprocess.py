"""Post-processing: raw model text (so far) + context → the suggestion to show.

`cut_completion` is pure and is called again as the raw text grows, so it can run while
tokens stream. It answers the text to show now and whether that text is *final* — no
later token can change it — which is when the lifecycle closes the model stream, so no
token is generated past the cut. No call parses the document; `StreamCut`, the same cut
for one generation's growing text, reads only the text that is new on each call, so
re-running it per chunk stays cheap at any length.

Two modes, chosen before generation (`decide_multiline`, from syntax when a grammar is
available):

- **statement** (`multiline=False`): the rest of the statement. It ends at the first
  line break where the completion's brackets are balanced (a multi-line call goes on
  while its parenthesis is open), or right after a line that opens a block with `{`
  (a header), or the `{` line that follows a header in Allman style.
- **block** (`multiline=True`): several lines, which end before the first line that
  leaves the enclosing block (indented less than both the cursor's line and the code
  after the cursor), before a line that repeats the suffix's next non-blank line (the
  model ran on into code that exists), or when lines start repeating themselves.

Then, in both modes: stop sequences end the suggestion (a partial one at the end is
held back); at most `max_lines` lines; the tail that the rest of the cursor's line
already has (closing brackets, quotes) is dropped when the completion closed them
itself; a completion inserted at column 0 in front of existing text ends with a line
break. An empty or whitespace-only result is "no suggestion", with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from lsp_server.completion.block_fit import early_rejoin, fit_block
from lsp_server.completion.block_wait import left_block
from lsp_server.completion.overlap import kept_before, ran_into_suffix, suffix_overlap
from lsp_server.completion.rawview import RawView
from lsp_server.completion.syntax_check import syntax_trim

OPENERS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = {")": "(", "]": "[", "}": "{"}
_HASH_COMMENT = frozenset(
    {"python", "ruby", "shellscript", "bash", "sh", "perl", "r", "yaml", "toml", "makefile"}
)
_NO_SINGLE_QUOTE_STRINGS = frozenset({"rust", "markdown", "plaintext", ""})
_NO_BRACE_BLOCKS = frozenset({"python", "ruby", "lua", "shellscript", "bash", "yaml"})
_ANCHOR_LINES = 3  # suffix lines a repeat must match: one line alone can be ambiguous
_REPEAT_LIMIT = 3
_EXIT_LOOKAHEAD = 16  # lines read past a scope exit the suffix can't follow
_DISTINCTIVE_CHARS = 24  # a suffix line this long, absent from the prefix, decides alone
_DISTINCTIVE_WINDOW = 5  # suffix lines searched for such a line (the model skipped one)
# Text without statements: a line break does not end anything.
PROSE_LANGUAGES = frozenset(
    {"markdown", "yaml", "plaintext", "json", "jsonc", "toml", "html"}
)  # the same line this many times in a row is a loop, not code


@dataclass(frozen=True)
class CutLimits:
    multiline: bool
    max_lines: int
    stop: tuple[str, ...] = ()
    language: str = ""
    # Block mode: several statements only where the model went on with the code after
    # the cursor (or left the scope where it ends); else its first (`block_fit.py`).
    rejoin: bool = False


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


# -- lexing ---------------------------------------------------------------------------


# What `_Scan` stops at outside strings: quotes, brackets, the comment start.
_SPECIAL_HASH = re.compile(r"[\"'`#()\[\]{}]")
_SPECIAL_SLASH = re.compile(r"[\"'`/()\[\]{}]")


@dataclass
class _Scan:
    """Bracket state over the completion, skipping strings and comments roughly."""

    language: str
    depth: int = 0
    lowest: int = 0  # the lowest depth reached: < 0 closed brackets of the prefix
    parens: int = 0  # `(` and `[` only: statement brackets, not blocks
    parens_lowest: int = 0
    stack: str = ""
    quote: str = ""
    last_line_opened_brace: bool = False
    open_at_line_end: bool = False  # a string still open where the line ends
    dangling: str = ""  # the quote of that string
    # When a list: per open bracket (parallel to `stack`), whether it is an expression
    # bracket (`(`, `[`, an object literal `{`) and its line's indentation. Only
    # `_open_parens` asks for it (once per document), not the per-chunk re-cuts.
    opened: list[tuple[bool, int]] | None = None
    last_code: str = ""  # with `opened`: the last code character of the lines so far

    def copy(self) -> _Scan:
        """A copy to resume from (per re-cut: cheaper than `dataclasses.replace`)."""
        twin = object.__new__(_Scan)
        twin.__dict__.update(self.__dict__)
        if self.opened is not None:
            twin.opened = list(self.opened)
        return twin

    def line(self, line: str) -> None:
        """Advance over one line (without its line break). Jumps from one character
        that matters to the next (a quote, bracket or comment start; inside a string,
        an escape or the closing quote): the cut re-scans the text as it streams."""
        self.last_line_opened_brace = False
        special = _SPECIAL_HASH if self.language in _HASH_COMMENT else _SPECIAL_SLASH
        no_single_quotes = self.language in _NO_SINGLE_QUOTE_STRINGS
        i, end = 0, len(line)
        code_end = end
        while i < end:
            if self.quote:
                escape = line.find("\\", i)
                close = line.find(self.quote, i)
                if escape != -1 and (close == -1 or escape < close):
                    i = escape + 2
                    continue
                if close == -1:
                    break
                i = close + len(self.quote)
                self.quote = ""
                continue
            found = special.search(line, i)
            if found is None:
                break
            i = found.start()
            char = line[i]
            if char in "\"'`":
                if not (char == "'" and no_single_quotes):
                    triple = self.language == "python" and line.startswith(char * 3, i)
                    self.quote = char * 3 if triple else char
                    i += len(self.quote)
                    continue
            elif char == "#" or (char == "/" and line.startswith("//", i)):
                code_end = i
                break
            elif char in OPENERS:
                if self.opened is not None:
                    self.opened.append((self._expression_bracket(line, i), _indent(line)))
                self.depth += 1
                self.stack += char
                self.parens += char != "{"
            elif char in CLOSERS:
                self.depth -= 1
                self.parens -= char != "}"
                self.parens_lowest = min(self.parens_lowest, self.parens)
                self.lowest = min(self.lowest, self.depth)
                self.stack = self.stack[:-1]
                if self.opened:
                    self.opened.pop()
            i += 1
        if self.opened is not None and line[:code_end].strip():
            self.last_code = line[:code_end].rstrip()[-1]
        self.open_at_line_end = bool(self.quote)
        self.dangling = self.quote
        if self.quote in ("'", '"') and not line.endswith("\\"):
            self.quote = ""  # single-line strings do not continue
        code = line.rstrip()
        self.last_line_opened_brace = code.endswith("{") and self.stack.endswith("{")

    def _expression_bracket(self, line: str, at: int) -> bool:
        """The bracket at `line[at]` groups an expression: `(`, `[`, or a `{` that
        starts an object / collection literal (after `(`, `[`, `,`, `=`, `?`, `return`,
        or a `:` inside another literal) rather than a block (after `)`, `=>`, `else`,
        a type name)."""
        if line[at] != "{":
            return True
        before = line[:at].rstrip()
        previous = before[-1] if before else self.last_code
        if previous == ":":
            return bool(self.opened and self.opened[-1][0])  # `key: {`, not `case x: {`
        return previous in "([,=?" or bool(_RETURN_END.search(before))


_RETURN_END = re.compile(r"\breturn$")


def _indent(line: str) -> int:
    return len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())


def _next_nonblank_line(suffix: str) -> str:
    for line in suffix.split("\n"):
        if line.strip():
            return line
    return ""


# Closing lines: brackets, and the keywords that close blocks in Ruby, Lua and shell.
_CLOSER_LINE = re.compile(r"^\s*(?:end|fi|done|esac)?[\s)\]}>;,]*$")


def _same_line(line: str, anchor: str) -> bool:
    """`line` repeats `anchor` (closing lines compare without trailing `;`/`,`)."""
    a, b = line.strip(), anchor.strip()
    if a == b:
        return True
    if _CLOSER_LINE.match(a) and _CLOSER_LINE.match(b):
        return a.rstrip(";,") == b.rstrip(";,") and bool(b)
    return False


# -- the cut ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _StopMatcher:
    """A tuple of stop sequences, compiled: one regex search finds the first of them,
    and the text's tail is looked at only when it holds a character one starts with."""

    first: re.Pattern[str] | None
    starts: re.Pattern[str] | None
    sequences: tuple[str, ...]
    longest: int


@lru_cache(maxsize=32)
def _stop_matcher(stop: tuple[str, ...]) -> _StopMatcher:
    sequences = tuple(s for s in stop if s)  # an empty sequence stops nothing
    if not sequences:
        return _StopMatcher(None, None, (), 0)
    return _StopMatcher(
        first=re.compile("|".join(map(re.escape, sequences))),
        starts=re.compile("[" + "".join(sorted({re.escape(s[0]) for s in sequences})) + "]"),
        sequences=sequences,
        longest=max(map(len, sequences)),
    )


def _cut_at_stop(raw: str, stop: tuple[str, ...], searched: int = 0) -> tuple[str, bool]:
    """Text before the first stop sequence (final), or with a partial stop held back.
    `raw[:searched]` is known to hold none: only a sequence ending after it is new."""
    matcher = _stop_matcher(stop)
    if matcher.first is None or matcher.starts is None:
        return raw, False
    found = matcher.first.search(raw, max(0, searched - matcher.longest + 1))
    if found is not None:
        return raw[: found.start()], True
    tail_at = max(0, len(raw) - matcher.longest + 1)
    if matcher.starts.search(raw, tail_at) is None:
        return raw, False  # no sequence can start in the tail (almost always)
    held = 0
    for sequence in matcher.sequences:
        # Where the text's end could start the sequence: at its first character, found
        # in the last len(sequence) - 1 characters.
        tail = raw[max(0, len(raw) - len(sequence) + 1) :] if len(sequence) > 1 else ""
        at = tail.find(sequence[0])
        while at != -1 and len(tail) - at > held:
            if sequence.startswith(tail[at:]):
                held = len(tail) - at
                break
            at = tail.find(sequence[0], at + 1)
    return raw[: len(raw) - held], False


def _could_open_allman(code: str, language: str) -> bool:
    """A line after which a lone `{` may still come (a header in Allman style)."""
    if language in _NO_BRACE_BLOCKS or not code.strip():
        return False
    return not code.endswith((";", "}", ",", "{", "(", "[", "=", "+", "-", "*", "/", "."))


_GOES_ON = (",", "..", "+", "&&", "||", "(")
_STATEMENT_LINES = 30  # how far back an open call of the cursor's statement is looked for


@lru_cache(maxsize=64)
def _open_parens(prefix_tail: str, suffix_head: str, language: str) -> tuple[int, int, int, int]:
    """What the cursor's statement opened on earlier lines and the suffix does not
    close, which the completion has to close before its statement can end: `(`/`[`
    after the last `{`, with the indentation of the outermost one's line; and all
    brackets after the last block `{` when an object literal is among them (`return
    [ok, {` ⏎ `player`), with the indentation of the outermost one's line (the
    statement's lines stay at least that deep). A suffix line indented less than the
    line that opened a bracket closes an outer scope, not that bracket (`}` of the
    `case` after `return [ok, {`)."""
    scan = _Scan(language, opened=[])
    for line in prefix_tail.split("\n")[:-1]:
        scan.line(line)
    if scan.quote:
        return 0, 0, 0, 0
    opened = scan.stack.rsplit("{", 1)[-1] if language not in _NO_BRACE_BLOCKS else scan.stack
    kinds = scan.opened or []
    parens = parens_indent = 0
    if opened:
        after = _Scan(language)
        for line in suffix_head.split("\n"):
            after.line(line)
        parens = max(len(opened) + after.parens_lowest, 0)
        parens_indent = kinds[len(kinds) - len(opened)][1]
    block = max((k for k, (expression, _) in enumerate(kinds) if not expression), default=-1)
    statement = kinds[block + 1 :]
    if language in _NO_BRACE_BLOCKS or "{" not in scan.stack[block + 1 :]:
        return parens, parens_indent, 0, 0
    after = _Scan(language)
    for index, line in enumerate(suffix_head.split("\n")):
        closed = -after.lowest
        if closed >= len(statement):
            return parens, parens_indent, 0, 0
        if index > 0 and line.strip() and _indent(line) < statement[-1 - closed][1]:
            break
        after.line(line)
    return parens, parens_indent, max(len(statement) + after.lowest, 0), statement[0][1]


_HEADER_LINES = 5  # lines read for the header whose body the suffix already has


def _statement_end(
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
    if match is None or previous.split("//", 1)[0].rstrip().endswith(("(", ",")):
        return False
    return match.group(1) not in _HEADER_WORDS and match.group(1) not in ("@", "[", "{", ")")


def _header_like(line: str) -> bool:
    """A line that may be part of a header still opening its block: an attribute or
    decorator, a signature line that goes on (`(`, `,`, `)`), a definition."""
    code = line.split("//", 1)[0].strip()
    return bool(code) and (
        code.endswith(("(", ",", ")", "]", ">"))
        or code.startswith(("@", "["))
        or bool(_DEFINITION.match(code))
    )


def _rest_written(lines: list[str], complete: int, prefix: str, suffix: str) -> int | None:
    """The lines to keep when the model's first line has the rest of the cursor's line
    in it, whole, after some code of its own: the model reached the code after the
    cursor there (`_drop_rest_of_line_overlap` drops it and what follows). None when
    it has not (yet)."""
    rest = suffix.partition("\n")[0].strip()
    if len(rest) < _WHOLE_REST or not prefix.rpartition("\n")[2].strip():
        return None
    index = 0 if lines[0].strip() or complete == 0 else 1  # after the cursor, or below it
    at = lines[index].find(rest)
    return index + 1 if at > 0 and lines[index][:at].strip() else None


def _body_below(prefix: str, suffix: str) -> bool:
    """The rest of the cursor's line is empty, the line has code that opens nothing yet,
    and the suffix's next line is indented deeper and is no closing line."""
    rest, _, after = suffix.partition("\n")
    line_prefix = prefix.rsplit("\n", 1)[-1]
    code = line_prefix.rstrip()
    if rest.strip() or not code.strip() or code.endswith(tuple("{:,=\\")):
        return False
    anchor = _next_nonblank_line(after)
    return (
        bool(anchor.strip())
        and not _CLOSER_LINE.match(anchor)
        and _indent(anchor) > _indent(line_prefix)
    )


def _plain_statement_end(
    lines: list[str], complete: int, prefix: str, suffix: str, limits: CutLimits
) -> tuple[int, bool]:
    anchor = _next_nonblank_line(suffix)
    tail_start = len(prefix)
    for _ in range(_STATEMENT_LINES):
        tail_start = prefix.rfind("\n", 0, tail_start)
        if tail_start < 0:
            break
    suffix_lines = suffix.split("\n", 10)
    suffix_head = "\n".join(suffix_lines[:10])
    line_prefix = prefix.rsplit("\n", 1)[-1]
    must_close, parens_indent, must_brackets, statement_indent = _open_parens(
        prefix[tail_start + 1 :], line_prefix + suffix_head, limits.language
    )
    scan = _Scan(limits.language)
    scan.line(prefix.rsplit("\n", 1)[-1])  # a string or call opened before the cursor
    # The lines of a call or list the statement opened are indented deeper than the
    # line that opened it (or start by closing it).
    call_indent = parens_indent if must_close else _indent(line_prefix) if scan.parens > 0 else -1
    scan.depth = scan.lowest = 0
    scan.stack = ""
    scan.quote = scan.dangling  # the completion goes on inside the string
    if line_prefix.rstrip().endswith("{") and complete and not lines[0].strip():
        # The cursor's line opened a block and the model starts its body.
        header = _indent(line_prefix)
        if not _body_exists(suffix, header):
            return _new_block_end(lines, 1, complete, header)
    outer = _outer_level(prefix, suffix, limits.language)
    members = _member_level(prefix, suffix, limits.language)

    def left_open(line: str, previous: str = "") -> bool:
        """A line after the first that starts outside what the statement left open:
        back at the level of the call (or list) the model has not closed, not closing
        it (the model went on with the next statement), or less indented than an
        object literal the prefix opened (another scope). Known from its first
        character, so the line being written decides too."""
        if not line.strip() or scan.quote:
            return False
        if must_brackets and _indent(line) < statement_indent:
            return True
        if line.strip() == "{":
            return False  # Allman style: a lambda's body, an initializer (`new[]` ⏎ `{`)
        if previous.split("//", 1)[0].rstrip().endswith(_GOES_ON):
            return False  # the line before ends with `,` or an operator: it goes on
        return (
            scan.depth <= 0
            and scan.parens > -must_close
            and _indent(line) <= call_indent
            and line.lstrip()[0] not in CLOSERS
        )

    for index in range(complete):
        line = lines[index]
        if (
            index > 0
            and anchor.strip()
            and _same_line(line, anchor)
            # (A closing line indented deeper closes the completion's own call.)
            and (not _CLOSER_LINE.match(anchor) or _indent(line) <= _indent(anchor))
        ):
            return index, True  # the statement ran on into the code after the cursor
        if outer is not None and index > 0 and line.strip() and _indent(line) <= outer:
            return (index + 1 if _CLOSER_LINE.match(line) else index), True
        if outer is not None:
            continue  # the scopes the suffix leaves open are closed first
        if members is not None:
            if index > 0 and line.strip() and _indent(line) < members:
                return index, True  # the type's closing line: the suffix has it
            continue  # the next member of the type
        if index > 0 and left_open(
            line, line_prefix + lines[0] if index == 1 else lines[index - 1]
        ):
            return index, True
        literal = must_brackets > 0 and scan.depth > -must_brackets
        scan.line(line)
        if scan.quote or line.rstrip().endswith("\\"):
            continue  # inside a multi-line string, or an explicit continuation
        if literal and scan.depth > -must_brackets and line.strip():
            continue  # inside a literal the prefix opened: it goes on until closed
        previous = line_prefix if index == 0 else line_prefix + lines[0] if index == 1 else ""
        previous = previous or lines[index - 1]
        if scan.last_line_opened_brace and scan.depth <= 1 and not _literal_brace(line, previous):
            header = _indent(line_prefix) if index == 0 else _indent(line)
            if _body_exists(suffix, header):
                return index + 1, True  # a header that opens a block: the body is next
            return _new_block_end(lines, index + 1, complete, header)
        if scan.depth <= 0 and scan.parens > -must_close and line.strip():
            continue  # an argument of a call the prefix opened: the call goes on
        if scan.depth <= 0 and (line.strip() or index > 0):
            if index + 1 < complete or (index + 1 < len(lines) and lines[index + 1].strip()):
                following = lines[index + 1].strip()
                code = line.rstrip()
                allman = following == "{" and not code.endswith((";", "}", ",", "{"))
                if allman and not _same_line(following, anchor):
                    header = _indent(lines[index + 1])
                    if not _body_exists(suffix, header):
                        return _new_block_end(lines, index + 2, complete, header)
                    return index + 2, True  # Allman-style header: keep its brace
                return index + 1, True
            code = (line_prefix + line if index == 0 else line).split("//", 1)[0].rstrip()
            if not _could_open_allman(code, limits.language):
                return index + 1, True  # no `{` can follow on its own line: decided
            return index + 1, False  # wait for the next line to rule out Allman `{`
    if (
        outer is None
        and members is None
        and 0 < complete < len(lines)
        and left_open(
            lines[complete], line_prefix + lines[0] if complete == 1 else lines[complete - 1]
        )
    ):
        return complete, True
    return complete, False


def _literal_brace(line: str, previous: str) -> bool:
    """The line is a lone `{` after `(`, `[`, `,` or `=` ending the line before: an
    object literal among a call's arguments, not a block (`foo(` ⏎ `{` ⏎ `a: 1,`)."""
    if line.strip() != "{":
        return False
    return previous.split("//", 1)[0].rstrip().endswith(("(", "[", ",", "="))


@lru_cache(maxsize=64)
def _outer_level(prefix: str, suffix: str, language: str) -> int | None:
    """The indentation the code after the cursor goes on at, when it is outside the
    scopes the cursor is in and nothing closes them (the suffix starts with the next
    function, the document's brackets do not balance): the completion finishes those
    scopes, up to their closing line at that level. None otherwise."""
    rest, _, after = suffix.partition("\n")
    anchor = _next_nonblank_line(after)
    if language in _NO_BRACE_BLOCKS or language in PROSE_LANGUAGES or rest.strip():
        return None
    if not anchor.strip() or _CLOSER_LINE.match(anchor):
        return None
    if _indent(anchor) >= _indent(prefix.rsplit("\n", 1)[-1]):
        return None
    return _indent(anchor) if _unclosed(prefix + suffix, language) else None


_TYPE_HEADER = re.compile(r"\b(struct|interface|enum)\b[^;(]*\{\s*$")


@lru_cache(maxsize=64)
def _member_level(prefix: str, suffix: str, language: str) -> int | None:
    """The indentation of a type's members (struct, interface, enum) when the cursor is
    on the last one written so far and the suffix closes the type next: the completion
    may go on with the remaining members, up to the closing line. None otherwise."""
    rest, _, after = suffix.partition("\n")
    anchor = _next_nonblank_line(after)
    line_prefix = prefix.rsplit("\n", 1)[-1]
    level = _indent(line_prefix)
    if language in _NO_BRACE_BLOCKS or rest.strip() or not line_prefix.strip():
        return None
    if not _CLOSER_LINE.match(anchor) or not anchor.strip() or _indent(anchor) >= level:
        return None
    for line in reversed(prefix.split("\n")[:-1]):
        if line.strip() and _indent(line) < level:
            return level if _TYPE_HEADER.search(line) else None
    return None


def _body_exists(suffix: str, header: int) -> bool:
    """The code after the cursor already has the body of a block opened at `header`:
    its next line (after the rest of the cursor's line) is indented deeper."""
    rest, _, after = suffix.partition("\n")
    if rest.strip():
        return False  # `})` right after the cursor: the block is written in front of it
    anchor = _next_nonblank_line(after)
    if _CLOSER_LINE.match(anchor) and _indent(anchor) == header:
        return bool(anchor.strip())  # the suffix closes it: the body goes in between
    return bool(anchor.strip()) and _indent(anchor) > header


def _new_block_end(lines: list[str], start: int, complete: int, header: int) -> tuple[int, bool]:
    """The body of a block the completion opened at indentation `header`, up to and
    including the line that closes it (a line back at the header's level). A body the
    model did not indent ends where its brace closes."""
    body = next((i for i in range(start, complete) if lines[i].strip()), None)
    if body is not None and _indent(lines[body]) <= header and not _CLOSER_LINE.match(lines[body]):
        scan = _Scan("")
        for index in range(start, complete):
            scan.line(lines[index])
            if scan.depth < 0:
                return index + 1, True
        return complete, False
    for index in range(start, complete):
        line = lines[index]
        if not line.strip() or _indent(line) > header:
            continue
        if line.lstrip().startswith(("}", "end")) and index > start:
            return index + 1, True
        return index, True
    return complete, False


_DEFINITION = re.compile(
    r"^(export\s+|pub(\(\w+\))?\s+|async\s+|static\s+|public\s+|private\s+|protected\s+)*"
    r"(def|class|function|func|fn|sub|module|impl|interface|struct|enum|trait|namespace)\b"
)
_CONTROL = re.compile(r"^(}\s*)?(if|else|for|foreach|while|switch|catch|try|do|with|elif|except)\b")


def _exact_line(line: str, anchor: str) -> bool:
    """`line` is `anchor` at the same indentation (elsewhere it is another statement)."""
    return line.rstrip() == anchor.rstrip() or (
        bool(_CLOSER_LINE.match(anchor)) and _same_line(line, anchor)
    )


def _cut_short(line: str, other: str, last: bool) -> bool:
    """The last line the model wrote before it stopped starts `other`."""
    return last and bool(line.strip()) and other.strip().startswith(line.strip())


def _scope_limit(prefix: str, start: int) -> int:
    """Indentation of the enclosing definition's header (function, class, method):
    the completion's lines must stay indented deeper. -1 at top level. A definition
    with a less indented line between it and the cursor is a sibling that has ended
    (a nested helper above the loop the cursor is in), not the enclosing one."""
    limit = start
    for line in reversed(prefix.split("\n")[:-1]):
        code = line.strip()
        if not code or _indent(line) >= limit:
            continue
        if _DEFINITION.match(code) or (
            "(" in code and code.endswith(("{", ":")) and not _CONTROL.match(code)
        ):
            return _indent(line)
        if code[0] not in ")]}\"'#/*":  # closing lines and comments/strings don't nest
            limit = _indent(line)
    return -1


@dataclass(frozen=True)
class _BlockSetup:
    """What `_block_end` reads from the document around the cursor: the same for every
    re-cut of one generation (cached, so a re-cut costs the new lines only)."""

    start: int
    anchor: str
    rest_of_line: str
    header: int
    distinctive: bool
    landmarks: dict[str, str]
    braces: bool


@lru_cache(maxsize=64)
def _block_setup(
    prefix: str, suffix: str, limits: CutLimits, first_line: str, first_is_cursor_line: bool
) -> _BlockSetup:
    line_prefix = prefix.rsplit("\n", 1)[-1]
    start = _indent(line_prefix + first_line) if first_is_cursor_line else _indent(first_line)
    following = [line for line in suffix.split("\n") if line.strip()][:_ANCHOR_LINES]
    anchor = following[0] if following else ""
    before = next((ln for ln in reversed(prefix.split("\n")) if ln.strip()), "")
    # At column 0 the model chose the first line's indentation, and with it the scope
    # (after a nested function's body, the outer function goes on); a closing line or a
    # cursor inside the indentation keeps the scope of the line above.
    chosen = not line_prefix and not _CLOSER_LINE.match(first_line)
    header = _scope_limit(prefix, start if chosen else max(start, _indent(before)))
    while not suffix.strip() and header > 0 and chosen:
        # At the end of the file a nested helper's end is not the end of the work:
        # the enclosing definition it is part of goes on.
        outer = _scope_limit(prefix, header)
        if outer < 0:
            break
        header = outer
    # The model may skip a line of the suffix and go on with the next ones: a long line
    # of the suffix's next few, followed by the line after it there too.
    window = [ln.rstrip() for ln in suffix.split("\n") if ln.strip()][: _DISTINCTIVE_WINDOW + 1]
    return _BlockSetup(
        start=start,
        anchor=anchor,
        rest_of_line=suffix.split("\n", 1)[0],
        header=header,
        # A long line the prefix never has is the suffix again on its own; a short or
        # common one (`i += 1`) needs the next lines to agree first.
        distinctive=_distinctive(anchor, prefix),
        landmarks={
            line: window[k + 1]
            for k, line in enumerate(window[1:-1], start=1)
            if _distinctive(line, prefix) and not _scope_closed(window[:k], start)
        },
        # Brace languages: a line that closes a bracket opened before the cursor, when
        # the suffix closes it already, ends the block (`} else {` after the `catch`
        # body the cursor is in: the code after the cursor would land in another block).
        braces=(
            limits.language not in _NO_BRACE_BLOCKS
            and limits.language not in PROSE_LANGUAGES
            and not line_prefix.strip()
        ),
    )


def _scope_closed(lines: list[str], start: int) -> bool:
    """One of these suffix lines closes the block the cursor is in (a `}` or `end`
    indented less than the completion): lines after it are in another block, and a
    model that skips a line of the suffix does not skip that far."""
    return any(line.lstrip().startswith(("}", "end")) and _indent(line) < start for line in lines)


@dataclass
class _BlockProgress:
    """Where the last undecided `_block_end` of a generation stopped: the loop state
    before line `index`, valid while the completion's lines before it are `lines`."""

    setup: _BlockSetup
    lines: list[str]
    scan: _Scan
    repeats: int
    first_exit: int | None

    @property
    def index(self) -> int:
        return len(self.lines)


@dataclass
class _Resume:
    """Where the next re-cut of one generation resumes `_block_end`: the lines before
    the last complete one were read with the same result before (each rule there looks
    at later lines only to return, and a return that is not final is where the next
    re-cut resumes)."""

    progress: _BlockProgress | None = None


def _block_end(
    lines: list[str],
    complete: int,
    prefix: str,
    suffix: str,
    limits: CutLimits,
    memo: _Resume | None = None,
) -> tuple[int, bool]:
    """Lines that stay inside the enclosing definition and do not repeat the suffix."""
    line_prefix = prefix.rsplit("\n", 1)[-1]
    first = next((i for i in range(len(lines)) if lines[i].strip()), None)
    if first is None:
        return 0, False
    setup = _block_setup(prefix, suffix, limits, lines[first], first == 0)
    start, anchor, header = setup.start, setup.anchor, setup.header
    memo = memo or _Resume()
    progress, memo.progress = memo.progress, None
    scan = _Scan(limits.language)
    repeats, first_exit, begin = 1, None, 0
    resume: _BlockProgress | None = None
    if (
        progress is not None
        and progress.setup is setup
        and progress.index <= complete
        and lines[: progress.index] == progress.lines
    ):
        scan, repeats, first_exit = progress.scan.copy(), progress.repeats, progress.first_exit
        begin, resume = progress.index, progress

    def undecided(keep: int, progress: _BlockProgress | None) -> tuple[int, bool]:
        """A cut held back at `keep`; the next re-cut resumes from `progress`."""
        memo.progress = progress
        return keep, False

    def here(index: int) -> _BlockProgress:
        return _BlockProgress(setup, lines[:index], scan.copy(), repeats, first_exit)

    for index in range(begin, complete):
        line = lines[index]
        if index == complete - 1:
            # The rules treat the last complete line specially: the next re-cut reads
            # it again, so it resumes before it.
            resume = here(index)
        if setup.braces and line.strip():
            probe = _Scan(limits.language, scan.depth, scan.lowest, quote=scan.quote)
            probe.line(line)
            if probe.lowest < 0 and _suffix_closes(prefix, suffix, limits.language):
                return index, True
        at_line_start = index > 0 or (not line_prefix.strip() and not setup.rest_of_line.strip())
        if line.strip() and at_line_start:
            if (
                setup.braces
                and index > first
                and not scan.quote
                and _deeper_after_end(lines, index, line_prefix)
            ):
                return index, True  # indented under a finished statement: copied code
            closing = _CLOSER_LINE.match(line) and _indent(line) < start
            if anchor.strip() and _same_line(line, anchor) and closing:
                return index, True  # closes the enclosing block again
            cut_short = not _same_line(line, anchor) and _cut_short(line, anchor, True)
            if anchor.strip() and index == complete - 1 and cut_short:
                return undecided(index, here(index))  # the suffix's first line, cut short
            if setup.distinctive and index > 0 and line.rstrip() == anchor.rstrip():
                return index, True  # a long line only the suffix has: the model ran on
            # (Not inside brackets the completion opened: the same lines in another
            # branch of the code, `[` ⏎ `'key' => X::class,` in both, are no copy.)
            if index > 0 and scan.depth <= 0 and line.rstrip() in setup.landmarks:
                after = next((ln for ln in lines[index + 1 : complete] if ln.strip()), None)
                if after is None:
                    return undecided(index, here(index))  # held back until the next line
                if after.rstrip() == setup.landmarks[line.rstrip()]:
                    return index, True  # the same, a few lines further into the suffix
            if (
                anchor.strip()
                and _same_line(line, anchor)
                # A closing line repeats the suffix's only at its indentation: `  }`
                # closes the completion's own loop, the suffix's `}` the function.
                and (not _CLOSER_LINE.match(anchor) or _indent(line) == _indent(anchor))
            ):
                verdict = _confirms_suffix("\n".join(lines[index + 1 :]), suffix)
                if verdict is True and complete <= index + 1 and not _exact_line(line, anchor):
                    # At another indentation the line may be the completion's own
                    # statement that starts like the suffix's: the line after it
                    # confirms once whole (written, it can agree a while, then differ).
                    verdict = None
                if verdict is not False:
                    # The suffix again, unless the next lines tell otherwise; copies
                    # of its first line right before it go too.
                    keep = index
                    back = index
                    while back > 0 and (
                        not lines[back - 1].strip() or _exact_line(lines[back - 1], anchor)
                    ):
                        back -= 1
                        if _exact_line(lines[back], anchor):
                            keep = back
                    # A long line only the suffix has decides alone where it is the
                    # suffix's line at its indentation; deeper or shallower, it may be
                    # the completion's own statement (the streamed cut must not decide
                    # what the lines after it would overturn).
                    if verdict is True or (setup.distinctive and _exact_line(line, anchor)):
                        return keep, True
                    return undecided(keep, here(index))
            outer = _outer_like_suffix(line, anchor, header)
            if (
                (index > first or _CLOSER_LINE.match(line))
                and _indent(line) <= header
                and not outer
                and not (limits.language == "ruby" and _RESCUE.match(line))
            ):
                if _CLOSER_LINE.match(line) and _unclosed(prefix + suffix, limits.language):
                    return index + 1, True  # nothing after the cursor closes the scope
                kept = [line_prefix + lines[0], *lines[1:index]][:index]
                if not _dangling_suffix(kept, prefix, anchor):
                    return index, True
                if first_exit is None:
                    first_exit = index  # the suffix can't follow here: read on
            if first_exit is not None and index - first_exit >= _EXIT_LOOKAHEAD:
                return first_exit, True
        if index > 0 and line.strip() and line.strip() == lines[index - 1].strip():
            repeats += 1
            if repeats >= _REPEAT_LIMIT:
                return index - repeats + 2, True
        else:
            repeats = 1
        scan.line(line)
    if first_exit is not None:
        return undecided(first_exit, resume)  # the end of the stream makes it the cut
    if (
        setup.braces
        and first < complete < len(lines)
        and lines[complete].strip()
        and not scan.quote
        and _deeper_after_end(lines, complete, line_prefix)
    ):
        return complete, True  # known from the line's first character
    return undecided(complete, resume)


_RESCUE = re.compile(r"\s*(rescue|ensure)\b")  # Ruby: a method's own clauses, at its level


def _deeper_after_end(lines: list[str], index: int, line_prefix: str) -> bool:
    """`lines[index]` is indented deeper than the line before it, which ended its
    statement with `;`: no construct nests there. The model is reproducing code from
    another nesting level (`setX(404);` ⏎ `    return error404;` ⏎ `}`)."""
    before = index - 1
    while before > 0 and not lines[before].strip():
        before -= 1
    previous = lines[before] if before else line_prefix + lines[0]
    return (
        _indent(lines[index]) > _indent(previous)
        and previous.split("//", 1)[0].rstrip().endswith(";")
        and not previous.lstrip().startswith(("*", "/*"))
    )


_CONFIRM_CHARS = 12  # non-blank characters of agreement with the suffix that confirm a repeat
_BLANKS = re.compile(r"\s+")


@lru_cache(maxsize=64)
def _after_anchor(suffix: str) -> str:
    """The suffix after its next non-blank line, without whitespace (the first
    characters are all a confirmation needs)."""
    lines = suffix.split("\n", 64)
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    return _BLANKS.sub("", "\n".join(lines[start + 1 :])[:4096])


def _confirms_suffix(text: str, suffix: str) -> bool | None:
    """After a line that repeats the suffix's next line, does the model's text go on as
    the suffix does? Compared character by character without whitespace: True once
    `_CONFIRM_CHARS` characters (or the whole rest of the suffix) agree, False as soon
    as one differs, None while they agree but are too few to tell."""
    written = _BLANKS.sub("", text)
    expected = _after_anchor(suffix)
    size = min(len(written), len(expected))
    if written[:size] != expected[:size]:
        return False
    if size >= _CONFIRM_CHARS or not expected:
        return True
    if size == len(expected):
        # The whole of a short rest: a copy only where the model's words end with it
        # (`return dir` at the end of the file is no copy in `return dir.normalize(t)`).
        return len(written) == size or _words_follow(text, suffix)
    return None


def _words_follow(text: str, suffix: str) -> bool:
    """The text's first words are all the words of the suffix after its next line."""
    lines = suffix[:4096].split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    expected = "\n".join(lines[start + 1 :]).split()
    return text.split()[: len(expected)] == expected


def _distinctive(line: str, prefix: str) -> bool:
    """A line long enough, and absent from the prefix, to be the suffix on its own."""
    return len(line.strip()) >= _DISTINCTIVE_CHARS and line.strip() not in prefix


def _outer_like_suffix(line: str, anchor: str, header: int) -> bool:
    """The code after the cursor itself goes on outside the enclosing definition, at
    this line's level: code written there before it is in place (the suffix repeat
    still ends it)."""
    if not anchor.strip() or _CLOSER_LINE.match(line) or _CLOSER_LINE.match(anchor):
        return False
    return _indent(anchor) <= header and _indent(line) >= _indent(anchor)


def _dangling_suffix(kept: list[str], prefix: str, anchor: str) -> bool:
    """Cutting after `kept` would leave the suffix's next line indented deeper than the
    last line before it, which opens no block: the suffix belongs inside code the model
    has not written yet (a nested function ended, the outer loop it sits in did not)."""
    if not anchor.strip():
        return False
    last = next((ln for ln in reversed(kept) if ln.strip()), None)
    if last is None:
        last = next((ln for ln in reversed(prefix.split("\n")) if ln.strip()), "")
    code = last.split("#", 1)[0].rstrip()
    opens = code.endswith((":", "{", "(", "[", ",", "\\", "=", "=>"))
    if _JUMP.match(last.strip()) and _indent(anchor) >= _indent(last):
        return True  # the suffix would be unreachable right after a return
    return _indent(anchor) > _indent(last) and not opens


_JUMP = re.compile(r"^(return|raise|throw|break|continue)\b")


def _unclosed(text: str, language: str) -> bool:
    scan = _Scan(language)
    for line in text.split("\n"):
        scan.line(line)
    return scan.depth > 0


@lru_cache(maxsize=64)
def _suffix_closes(prefix: str, suffix: str, language: str) -> bool:
    """The document's brackets balance: what the prefix opens, the suffix closes."""
    return not _unclosed(prefix + suffix, language)


_WHOLE_REST = 3  # a repeated rest of line this long is dropped even when it is not punctuation
_TAIL_CHARS = frozenset("\"'`)]}>;, ")
_TAG_TAIL = frozenset("/>;,")  # no bracket or quote the scan tracks: nothing to balance


def _state(text: str, language: str) -> tuple[int, bool]:
    scan = _Scan(language)
    for line in text.split("\n"):
        scan.line(line)
    return scan.depth, scan.open_at_line_end


def _drop_rest_of_line_overlap(text: str, prefix: str, suffix: str, language: str) -> str:
    """`foo(bar)` typed before `)`: drop the completion's tail that the rest of the line
    already has, when that makes the line's brackets and quotes balance better (the
    completion closed them itself). Only closing punctuation counts: repeating an
    identifier may be intended."""
    rest = suffix.split("\n", 1)[0].strip()
    if not rest:
        return text
    if "\n" not in text and len(rest) >= _WHOLE_REST and text.rstrip().endswith(rest):
        kept = text.rstrip()[: len(text.rstrip()) - len(rest)]
        if kept.strip():  # the model wrote the rest of the line again, whole
            return kept.rstrip(" \t") if suffix[:1] in " \t" else kept
    if set(rest) <= _TAG_TAIL and text.rstrip().endswith(rest):
        return text.rstrip()[: len(text.rstrip()) - len(rest)]  # `/>` of a tag, typed again
    line_prefix = prefix.rsplit("\n", 1)[-1]
    if len(rest) >= _WHOLE_REST and line_prefix.strip():
        # The model wrote the rest of the line, whole, and went on after it (`string
        # Name { get; set; } = "";` before ` get; set; }`): it reached the code after the
        # cursor there. What it wrote before is the completion; the rest is already there.
        # The model's first line: after the cursor, or on the next line when it broke it.
        head, _, tail = text.partition("\n")
        lead, first = ("", head) if head.strip() else (head + "\n", tail.partition("\n")[0])
        at = first.find(rest)
        if at > 0 and first[:at].strip():
            kept = lead + first[:at]
            return kept.rstrip(" \t") if suffix[:1] in " \t" else kept
    target, _ = _state(line_prefix + rest, language)
    depth, quoted = _state(line_prefix + text + rest, language)
    for size in range(min(len(rest), len(text)), 0, -1):
        head = rest[:size]
        if not text.endswith(head) or not set(head) <= _TAIL_CHARS:
            continue
        kept = text[: len(text) - size]
        new_depth, new_quoted = _state(line_prefix + kept + rest, language)
        if (abs(new_depth - target), new_quoted) < (abs(depth - target), quoted):
            return kept
        if set(head) <= frozenset(";, ") and abs(new_depth - target) <= abs(depth - target):
            return kept
    return text


_REPLACEABLE = frozenset("\"'`)]}>;,/ \t")


def _replaced_rest(text: str, prefix: str, suffix: str, language: str) -> int:
    """Characters of the rest of the cursor's line that `text` replaces: the rest is
    closing punctuation the editor typed ahead (`)`, `")`, `})`), the completion typed
    all of it again in order with more text in between or after (`value, max), min);`
    before `))`), and the brackets and quotes balance with the completion alone as they
    did with the rest, while keeping both would close too much. 0 when it does not."""
    rest = suffix.split("\n", 1)[0].rstrip()
    if not rest.strip() or not set(rest) <= _REPLACEABLE:
        return 0
    position = 0
    for char in rest.strip():  # a subsequence of the completion
        position = text.find(char, position) + 1
        if position == 0:
            return 0
    line_prefix = prefix.rsplit("\n", 1)[-1]
    target = _state(line_prefix + rest, language)
    if _state(line_prefix + text, language) != target:
        return 0
    return len(rest) if _state(line_prefix + text + rest, language) != target else 0


def _shape(text: str, prefix: str, suffix: str, limits: CutLimits) -> tuple[str, int]:
    text = syntax_trim(text, prefix, suffix, limits.language)  # no line that breaks the code
    lines = text.split("\n")
    anchor = _next_nonblank_line(suffix)
    while len(lines) > 1 and (
        not lines[-1].strip() or (anchor.strip() and lines[-1].rstrip() == anchor.rstrip())
    ):
        # Blank tails, and a last line the suffix's next line repeats exactly (at another
        # indentation it is another statement: `return False` of an inner `if`).
        lines.pop()
    text = "\n".join(lines)
    if not text.strip():
        return "", 0
    dropped = _drop_rest_of_line_overlap(text, prefix, suffix, limits.language)
    replace = 0 if dropped != text else _replaced_rest(text, prefix, suffix, limits.language)
    text = dropped
    line_prefix = prefix.rsplit("\n", 1)[-1]
    if line_prefix.strip() and line_prefix.endswith(" ") and text.startswith(" "):
        text = text[1:]  # `return ` + ` this`: one space, not two
    rest_of_line = suffix.split("\n", 1)[0]
    if prefix.rsplit("\n", 1)[-1] == "" and rest_of_line.strip() and text.strip():
        text += "\n"  # whole lines inserted in front of existing text
    return text, replace


class StreamCut:
    """The cut of one generation's growing text. `cut(raw)` is `cut_completion(raw, …)`,
    but reads only what arrived since the last call: the stop search, the split into
    lines and the block scan all resume. A suggestion of n lines then costs O(n) over
    its whole stream, not O(n²), which is what a long suggestion at thousands of tokens
    per second needs. A text that does not extend the last one starts over."""

    def __init__(self, prefix: str, suffix: str, limits: CutLimits) -> None:
        self.prefix, self.suffix, self.limits = prefix, suffix, limits
        self._start_over()

    def _start_over(self) -> None:
        self._raw = ""  # the raw text of the last call
        self._searched = 0  # how much of it holds no stop sequence
        self._complete: list[str] = []  # the complete lines before `_line_start`
        self._line_start = 0
        self._resume = _Resume()
        self._view = RawView(self.prefix, self.suffix, self.limits.language)

    def cut(self, raw: str, ended: bool = False) -> Cut:
        """`ended`: the model has stopped, `raw` is all of it."""
        if not raw.startswith(self._raw):
            self._start_over()
        text, final = _cut_at_stop(raw, self.limits.stop, self._searched)
        self._raw, self._searched = raw, len(text) if final else len(raw)
        shown = self._view.apply(text, final or ended)  # the typed word, the indentation
        if shown is None:
            return Cut("", False)
        text = shown
        if len(text) < self._line_start:  # (a guard: the text before a stop only grows)
            self._complete, self._line_start = [], 0
        new = text[self._line_start :].split("\n")
        if len(new) > 1:
            self._complete.extend(new[:-1])
            self._line_start = text.rfind("\n") + 1
        lines = written = [*self._complete, new[-1]]
        overlap = suffix_overlap(text, self.prefix, self.suffix, ended=final or ended)
        if overlap is not None:  # the rest of the cursor's line, then the suffix again
            kept = kept_before(text, overlap.end, self.suffix)
            if overlap.confirmed and not kept.strip():
                return Cut("", True, "empty after cut")
            return Cut(kept, overlap.confirmed, then_suffix=overlap.confirmed)
        return self._decide(raw, text, final, lines, written)

    def _decide(
        self, raw: str, stopped: str, final: bool, lines: list[str], written: list[str]
    ) -> Cut:
        prefix, suffix, limits = self.prefix, self.suffix, self.limits
        complete = len(lines) - 1  # the last element is an unfinished line
        if limits.multiline:
            keep, decided = _block_end(lines, complete, prefix, suffix, limits, self._resume)
        else:
            keep, decided = _statement_end(lines, complete, prefix, suffix, limits)
        if not decided and limits.rejoin and limits.multiline:
            # The model went on with the code after the cursor: decided before the
            # block rules need the whole repeated line (a short answer, sooner).
            keep, decided = early_rejoin(lines, suffix) or (keep, False)
            if not decided:
                left = left_block(lines, prefix[prefix.rfind("\n") + 1 :])
                keep, decided = (left, True) if left is not None else (keep, False)
        if decided:
            lines, complete, final = lines[:keep], keep, True
        elif keep < complete:
            lines, complete = lines[:keep], keep  # held back until the next lines decide
        if complete >= limits.max_lines:
            lines, complete, final = lines[: limits.max_lines], limits.max_lines, True
            if limits.multiline and not decided:
                # The line limit ended a text that loops (a few lines over and over, a
                # rambling model): its first round is shown.
                lines = lines[: _loop_end(lines)]
                complete = len(lines)
        replace = 0
        if final:
            kept = lines[:complete] if complete < len(lines) else lines
            text, replace = _shape("\n".join(kept), prefix, suffix, limits)
            if limits.rejoin and limits.multiline:
                fitted = fit_block(text, raw, prefix, suffix)
                text, written = fitted, written if fitted == text else []
        else:
            whole = lines is written  # all of it: `stopped` is their join already
            if len(lines) > 1 and _may_repeat_suffix(lines[-1], suffix):
                # Shown once it differs from the suffix.
                lines = [*lines[:-1], ""]
                text = stopped[: stopped.rfind("\n") + 1] if whole else "\n".join(lines)
            else:
                text = stopped if whole else "\n".join(lines)
        if final and not text.strip():
            return Cut("", True, "empty after cut" if raw.strip() else "model returned nothing")
        then_suffix = final and _runs_into_suffix("\n".join(written[complete:]), suffix)
        return Cut(text, final, replace=replace, then_suffix=then_suffix)


# The one-shot entry point keeps the cuts of the last few generations it saw, so a
# caller that re-cuts a growing text through it (benchmarks, evaluations) resumes too.
_STREAMS: dict[tuple[str, str, CutLimits], StreamCut] = {}
_STREAMS_LIMIT = 16


def cut_completion(
    raw: str, prefix: str, suffix: str, limits: CutLimits, ended: bool = False
) -> Cut:
    """The cut of `raw`, the model's text so far, at the cursor between `prefix` and
    `suffix` (see the module's docstring); `ended`: the model has stopped."""
    key = (prefix, suffix, limits)
    stream = _STREAMS.pop(key, None) or StreamCut(prefix, suffix, limits)  # ours alone
    cut = stream.cut(raw, ended)
    while len(_STREAMS) >= _STREAMS_LIMIT:
        del _STREAMS[next(iter(_STREAMS))]
    _STREAMS[key] = stream
    return cut


def _first_statement(text: str, language: str) -> str:
    """The lines up to the end of the first statement: brackets and strings closed,
    and the line does not go on (`:`, `,`, `\\`) or open a block."""
    lines = text.split("\n")
    scan = _Scan(language)
    started = False
    for index, line in enumerate(lines):
        scan.line(line)
        started = started or bool(line.strip())
        if (
            started
            and scan.depth <= 0
            and not scan.quote
            and not scan.last_line_opened_brace
            and not line.rstrip().endswith((":", ",", "\\"))
        ):
            return "\n".join(lines[: index + 1])
    return text


_LOOP_PERIOD = 4  # the longest run of lines taken for a loop when it comes three times


def _loop_end(lines: list[str]) -> int:
    """Where the first round of a loop at the end of `lines` ends (its lines three
    times in a row, blanks aside); all of them when they do not loop."""
    at = [index for index, line in enumerate(lines) if line.strip()]
    code = [lines[index].strip() for index in at]
    for period in range(1, _LOOP_PERIOD + 1):
        if len(code) < 3 * period or code[-period:] != code[-2 * period : -period]:
            continue
        if code[-2 * period : -period] != code[-3 * period : -2 * period]:
            continue
        start = len(code) - 3 * period
        while start >= period and code[start - period : start] == code[start : start + period]:
            start -= period
        return at[start + period - 1] + 1
    return len(lines)


def _without_truncated_repeat(cut: Cut, suffix: str) -> Cut:
    """The model stopped (or ran out of tokens) in the middle of a line that so far is
    the suffix's next line: it was running on into the code after the cursor."""
    head, newline, last = cut.text.rstrip("\n").rpartition("\n")
    if not newline or not _may_repeat_suffix(last.rstrip(), suffix):
        return cut
    if not head.strip():
        return Cut("", True, "empty after cut")
    return replace(cut, text=head)


def _runs_into_suffix(rest: str, suffix: str) -> bool:
    """`rest` (what the model wrote after the lines kept) is, blanks aside, the start
    of the suffix, long enough not to agree by chance (or the whole of it)."""
    written, after = _BLANKS.sub("", rest), _BLANKS.sub("", suffix[:8192])
    return (
        bool(written)
        and len(written) >= min(_CONFIRM_CHARS, len(after))
        and after.startswith(written)
    )


@lru_cache(maxsize=64)
def _suffix_anchor(suffix: str) -> str:
    return _next_nonblank_line(suffix[:4096])


def _may_repeat_suffix(partial: str, suffix: str) -> bool:
    """A line still being written that so far is the start of the suffix's next line:
    most often the model running on into the code after the cursor, which the cut
    then drops. Not shown until it differs, so the editor does not flash it."""
    return bool(partial.strip()) and _suffix_anchor(suffix).startswith(partial)


def _copying_suffix(raw: str, body: str, suffix: str) -> bool:
    """The model ran out of tokens while writing the suffix again after `body`."""
    kept = body.rstrip("\n")
    return bool(kept.strip()) and raw.startswith(kept) and ran_into_suffix(raw[len(kept) :], suffix)


def finish_cut(raw: str, prefix: str, suffix: str, limits: CutLimits, ran_out: bool = False) -> Cut:
    """The cut once the model has stopped: whatever remains is final, and its last
    line is complete (so the suffix and scope rules see it).

    `ran_out`: the model did not stop by itself but at its token limit. In block mode
    where its text ends is then arbitrary (a model rambling on between two
    statements), so only its first statement is kept: a short suggestion that is
    right beats a long one that goes astray — unless what it wrote after the lines
    kept is the suffix again (it ran out while copying the code after the cursor:
    those lines are the whole middle)."""
    overlap = suffix_overlap(_cut_at_stop(raw, limits.stop)[0], prefix, suffix, ended=True)
    if overlap is not None and overlap.confirmed:
        kept = kept_before(raw, overlap.end, suffix)
        return (
            Cut(kept, True, then_suffix=True) if kept.strip() else Cut("", True, "empty after cut")
        )
    full = raw
    if ran_out and not raw.endswith("\n"):
        raw = raw[: raw.rfind("\n") + 1]  # a line the token limit cut is not shown
        if not raw.strip():
            return Cut("", True, "ran out of tokens mid-line")
    whole = raw if raw.endswith("\n") else raw + "\n"
    cut = cut_completion(whole, prefix, suffix, limits, ended=True)
    if not raw.endswith("\n"):
        cut = _without_truncated_repeat(cut, suffix)
    if cut.final:
        return cut
    body = cut.text
    first = ran_out and limits.multiline and not limits.rejoin
    if first and not _copying_suffix(full, body, suffix):
        body = _first_statement(cut.text, limits.language)
    text, replace = _shape(body, prefix, suffix, limits)
    if limits.rejoin and limits.multiline:
        text = fit_block(text, full, prefix, suffix, ran_out)
    if not text.strip():
        return Cut("", True, "model returned nothing" if not raw.strip() else "empty after cut")
    return Cut(text, True, replace=replace)
