"""Brackets and strings, read roughly: the bracket and quote state of the completion's
lines (`Scan`, per line, resumable), and the line helpers every rule of the cut uses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

OPENERS = {"(": ")", "[": "]", "{": "}"}


CLOSERS = {")": "(", "]": "[", "}": "{"}


HASH_COMMENT = frozenset(
    {"python", "ruby", "shellscript", "bash", "sh", "perl", "r", "yaml", "toml", "makefile"}
)


NO_SINGLE_QUOTE_STRINGS = frozenset({"rust", "markdown", "plaintext", ""})


NO_BRACE_BLOCKS = frozenset({"python", "ruby", "lua", "shellscript", "bash", "yaml"})


# Shell's double-quoted strings go on over line breaks (`err+="…` ⏎ `"`). Not its
# single quotes: read roughly, a `'` inside `"$(awk '…` ⏎ `…' "$f")"` is taken as text
# of the double-quoted string, and the one that closes it on the next line would open
# a string that never ends; double quotes nested in `$(…)` come in pairs.
MULTILINE_QUOTES = {"shellscript": '"', "bash": '"', "sh": '"'}


# What `Scan` stops at outside strings: quotes, brackets, the comment start.
_SPECIAL_HASH = re.compile(r"[\"'`#()\[\]{}]")


_SPECIAL_SLASH = re.compile(r"[\"'`/()\[\]{}]")


@dataclass
class Scan:
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
    # `open_parens` asks for it (once per document), not the per-chunk re-cuts.
    opened: list[tuple[bool, int]] | None = None
    last_code: str = ""  # with `opened`: the last code character of the lines so far

    def copy(self) -> Scan:
        """A copy to resume from (per re-cut: cheaper than `dataclasses.replace`)."""
        twin = object.__new__(Scan)
        twin.__dict__.update(self.__dict__)
        if self.opened is not None:
            twin.opened = list(self.opened)
        return twin

    def line(self, line: str) -> None:
        """Advance over one line (without its line break). Jumps from one character
        that matters to the next (a quote, bracket or comment start; inside a string,
        an escape or the closing quote): the cut re-scans the text as it streams."""
        self.last_line_opened_brace = False
        special = _SPECIAL_HASH if self.language in HASH_COMMENT else _SPECIAL_SLASH
        no_single_quotes = self.language in NO_SINGLE_QUOTE_STRINGS
        shell_escape = self.language in MULTILINE_QUOTES
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
                if shell_escape and line[i - 1 : i] == "\\":
                    i += 1  # `${wm/\"}`: an escaped quote outside strings
                    continue
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
                    self.opened.append((self._expression_bracket(line, i), indent_width(line)))
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
        if (
            self.quote in ("'", '"')
            and not line.endswith("\\")
            and self.quote != MULTILINE_QUOTES.get(self.language)
        ):
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


def indent_width(line: str) -> int:
    return len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())


def next_nonblank_line(suffix: str) -> str:
    for line in suffix.split("\n"):
        if line.strip():
            return line
    return ""


# Closing lines: brackets, and the keywords that close blocks in Ruby, Lua and shell.
CLOSER_LINE = re.compile(r"^\s*(?:end|fi|done|esac)?[\s)\]}>;,]*$")


def same_line(line: str, anchor: str) -> bool:
    """`line` repeats `anchor` (closing lines compare without trailing `;`/`,`)."""
    a, b = line.strip(), anchor.strip()
    if a == b:
        return True
    if CLOSER_LINE.match(a) and CLOSER_LINE.match(b):
        return a.rstrip(";,") == b.rstrip(";,") and bool(b)
    return False


def unclosed(text: str, language: str) -> bool:
    scan = Scan(language)
    for line in text.split("\n"):
        scan.line(line)
    return scan.depth > 0


@lru_cache(maxsize=64)
def suffix_closes(prefix: str, suffix: str, language: str) -> bool:
    """The document's brackets balance: what the prefix opens, the suffix closes."""
    return not unclosed(prefix + suffix, language)


def bracket_state(text: str, language: str) -> tuple[int, bool]:
    scan = Scan(language)
    for line in text.split("\n"):
        scan.line(line)
    return scan.depth, scan.open_at_line_end
