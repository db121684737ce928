"""The end of the block (the cut's block mode): the completion's lines that stay inside
the enclosing definition and do not run on into the code after the cursor (a repeat of
the suffix, a scope exit, a line copied from another nesting level, a loop)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from lsp_server.postprocess.limits import PROSE_LANGUAGES, CutLimits
from lsp_server.postprocess.scan import (
    CLOSER_LINE,
    NO_BRACE_BLOCKS,
    Scan,
    indent_width,
    same_line,
    suffix_closes,
    unclosed,
)
from lsp_server.postprocess.scope import scope_limit
from lsp_server.postprocess.suffix_repeat import (
    confirms_suffix,
    exact_line,
    is_cut_short,
    is_distinctive,
)

_ANCHOR_LINES = 3  # suffix lines a repeat must match: one line alone can be ambiguous


_REPEAT_LIMIT = 3  # the same line this many times in a row is a loop, not code


_EXIT_LOOKAHEAD = 16  # lines read past a scope exit the suffix can't follow


_DISTINCTIVE_WINDOW = 5  # suffix lines searched for such a line (the model skipped one)


@dataclass(frozen=True)
class _BlockSetup:
    """What `block_end` reads from the document around the cursor: the same for every
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
    start = (
        indent_width(line_prefix + first_line) if first_is_cursor_line else indent_width(first_line)
    )
    following = [line for line in suffix.split("\n") if line.strip()][:_ANCHOR_LINES]
    anchor = following[0] if following else ""
    before = next((ln for ln in reversed(prefix.split("\n")) if ln.strip()), "")
    # At column 0 the model chose the first line's indentation, and with it the scope
    # (after a nested function's body, the outer function goes on); a closing line or a
    # cursor inside the indentation keeps the scope of the line above. A blank line
    # prompted at column 0 (`prompt/blank_line.py`) is column 0 to the model: what is
    # left of the typed indentation (less what the suggestion dedents) is its choice.
    at_column_zero = not line_prefix.strip(" ") if limits.column_zero_prompt else not line_prefix
    chosen = at_column_zero and not CLOSER_LINE.match(first_line)
    header = scope_limit(prefix, start if chosen else max(start, indent_width(before)))
    while not suffix.strip() and header > 0 and chosen:
        # At the end of the file a nested helper's end is not the end of the work:
        # the enclosing definition it is part of goes on.
        outer = scope_limit(prefix, header)
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
        distinctive=is_distinctive(anchor, prefix),
        landmarks={
            line: window[k + 1]
            for k, line in enumerate(window[1:-1], start=1)
            if is_distinctive(line, prefix) and not _scope_closed(window[:k], start)
        },
        # Brace languages: a line that closes a bracket opened before the cursor, when
        # the suffix closes it already, ends the block (`} else {` after the `catch`
        # body the cursor is in: the code after the cursor would land in another block).
        braces=(
            limits.language not in NO_BRACE_BLOCKS
            and limits.language not in PROSE_LANGUAGES
            and not line_prefix.strip()
        ),
    )


def _scope_closed(lines: list[str], start: int) -> bool:
    """One of these suffix lines closes the block the cursor is in (a `}` or `end`
    indented less than the completion): lines after it are in another block, and a
    model that skips a line of the suffix does not skip that far."""
    return any(
        line.lstrip().startswith(("}", "end")) and indent_width(line) < start for line in lines
    )


@dataclass
class _BlockProgress:
    """Where the last undecided `block_end` of a generation stopped: the loop state
    before line `index`, valid while the completion's lines before it are `lines`."""

    setup: _BlockSetup
    lines: list[str]
    scan: Scan
    repeats: int
    first_exit: int | None

    @property
    def index(self) -> int:
        return len(self.lines)


@dataclass
class Resume:
    """Where the next re-cut of one generation resumes `block_end`: the lines before
    the last complete one were read with the same result before (each rule there looks
    at later lines only to return, and a return that is not final is where the next
    re-cut resumes)."""

    progress: _BlockProgress | None = None


def block_end(
    lines: list[str],
    complete: int,
    prefix: str,
    suffix: str,
    limits: CutLimits,
    memo: Resume | None = None,
) -> tuple[int, bool]:
    """Lines that stay inside the enclosing definition and do not repeat the suffix."""
    first = next((i for i in range(len(lines)) if lines[i].strip()), None)
    if first is None:
        return 0, False
    setup = _block_setup(prefix, suffix, limits, lines[first], first == 0)
    return _BlockWalk(lines, complete, prefix, suffix, limits, setup, first, memo or Resume()).run()


def leaves_unfinished(
    lines: list[str], complete: int, prefix: str, suffix: str, limits: CutLimits
) -> bool:
    """The line being written (`lines[complete]`) starts at or left of the enclosing
    definition's level: once whole, the block rules may end the block before it (a
    column-0 `# Example` after the function's last line). A stream holds it back, and
    the blank lines before it, so what the editor is sent stays a start of the final
    text."""
    first = next((i for i in range(complete) if lines[i].strip()), None)
    if first is None or complete >= len(lines) or not lines[complete].strip():
        return False
    setup = _block_setup(prefix, suffix, limits, lines[first], first == 0)
    return indent_width(lines[complete]) <= setup.header


class _BlockWalk:
    """One `block_end` call: the completion's lines read one by one, from where the
    last undecided call of the same generation stopped; each step answers a decision
    (the lines to keep, and whether that is final) or None to read on."""

    def __init__(
        self,
        lines: list[str],
        complete: int,
        prefix: str,
        suffix: str,
        limits: CutLimits,
        setup: _BlockSetup,
        first: int,
        memo: Resume,
    ) -> None:
        self.lines, self.complete, self.first = lines, complete, first
        self.prefix, self.suffix, self.language = prefix, suffix, limits.language
        self.setup, self.memo = setup, memo
        self.line_prefix = prefix.rsplit("\n", 1)[-1]
        self.scan = Scan(limits.language)
        self.repeats, self.begin = 1, 0
        self.first_exit: int | None = None
        self.resume: _BlockProgress | None = None
        progress, memo.progress = memo.progress, None
        if (
            progress is not None
            and progress.setup is setup
            and progress.index <= complete
            and lines[: progress.index] == progress.lines
        ):
            self.scan, self.repeats = progress.scan.copy(), progress.repeats
            self.first_exit = progress.first_exit
            self.begin, self.resume = progress.index, progress

    def undecided(self, keep: int, progress: _BlockProgress | None) -> tuple[int, bool]:
        """A cut held back at `keep`; the next re-cut resumes from `progress`."""
        self.memo.progress = progress
        return keep, False

    def here(self, index: int) -> _BlockProgress:
        return _BlockProgress(
            self.setup, self.lines[:index], self.scan.copy(), self.repeats, self.first_exit
        )

    def run(self) -> tuple[int, bool]:
        for index in range(self.begin, self.complete):
            line = self.lines[index]
            if index == self.complete - 1:
                # The rules treat the last complete line specially: the next re-cut reads
                # it again, so it resumes before it.
                self.resume = self.here(index)
            if self.setup.braces and line.strip() and self.closes_prefix_bracket(line):
                return index, True
            at_line_start = index > 0 or (
                not self.line_prefix.strip() and not self.setup.rest_of_line.strip()
            )
            # A line that starts inside a string the completion opened is text, not code.
            if line.strip() and at_line_start and not self.scan.quote:
                decision = self.code_line(index)
                if decision is not None:
                    return decision
            # The same line at the same indentation: nested blocks close at one level
            # each (`}` ⏎ `}` ⏎ `}`, `end` ⏎ `end` ⏎ `end`), and that is no loop.
            if index > 0 and line.strip() and line.rstrip() == self.lines[index - 1].rstrip():
                self.repeats += 1
                if self.repeats >= _REPEAT_LIMIT:
                    return index - self.repeats + 2, True
            else:
                self.repeats = 1
            self.scan.line(line)
        return self.after_last()

    def closes_prefix_bracket(self, line: str) -> bool:
        """Brace languages: the line closes a bracket opened before the cursor, which the
        suffix closes already (`} else {` after the `catch` body the cursor is in)."""
        scan = self.scan
        probe = Scan(self.language, scan.depth, scan.lowest, quote=scan.quote)
        probe.line(line)
        return probe.lowest < 0 and suffix_closes(self.prefix, self.suffix, self.language)

    def code_line(self, index: int) -> tuple[int, bool] | None:
        """A non-blank line at the start of a line: copied code, the suffix again, or a
        line that leaves the enclosing definition."""
        lines, setup = self.lines, self.setup
        if (
            setup.braces
            and index > self.first
            and not self.scan.quote
            and _deeper_after_end(lines, index, self.line_prefix)
        ):
            return index, True  # indented under a finished statement: copied code
        decision = self.suffix_again(index)
        if decision is not None:
            return decision
        return self.scope_exit(index)

    def suffix_again(self, index: int) -> tuple[int, bool] | None:
        """The line is the suffix's next line (or a landmark further into it) again."""
        line, anchor, setup = self.lines[index], self.setup.anchor, self.setup
        closing = CLOSER_LINE.match(line) and indent_width(line) < setup.start
        if anchor.strip() and same_line(line, anchor) and closing:
            return index, True  # closes the enclosing block again
        cut_short = not same_line(line, anchor) and is_cut_short(line, anchor, True)
        if anchor.strip() and index == self.complete - 1 and cut_short:
            return self.undecided(index, self.here(index))  # the suffix's first line, cut short
        if setup.distinctive and index > 0 and line.rstrip() == anchor.rstrip():
            return index, True  # a long line only the suffix has: the model ran on
        # (Not inside brackets the completion opened: the same lines in another
        # branch of the code, `[` ⏎ `'key' => X::class,` in both, are no copy.)
        if index > 0 and self.scan.depth <= 0 and line.rstrip() in setup.landmarks:
            after = next((ln for ln in self.lines[index + 1 : self.complete] if ln.strip()), None)
            if after is None:
                return self.undecided(index, self.here(index))  # held back until the next line
            if after.rstrip() == setup.landmarks[line.rstrip()]:
                return index, True  # the same, a few lines further into the suffix
        if (
            anchor.strip()
            and same_line(line, anchor)
            # A closing line repeats the suffix's only at its indentation: `  }`
            # closes the completion's own loop, the suffix's `}` the function.
            and (not CLOSER_LINE.match(anchor) or indent_width(line) == indent_width(anchor))
        ):
            return self.repeat_of_anchor(index)
        return None

    def repeat_of_anchor(self, index: int) -> tuple[int, bool] | None:
        """The line repeats the suffix's next line: the suffix again, unless the next
        lines tell otherwise; copies of its first line right before it go too."""
        lines, anchor, line = self.lines, self.setup.anchor, self.lines[index]
        verdict = confirms_suffix("\n".join(lines[index + 1 :]), self.suffix)
        if verdict is True and self.complete <= index + 1 and not exact_line(line, anchor):
            # At another indentation the line may be the completion's own
            # statement that starts like the suffix's: the line after it
            # confirms once whole (written, it can agree a while, then differ).
            verdict = None
        if verdict is False:
            return None
        keep = index
        back = index
        while back > 0 and (not lines[back - 1].strip() or exact_line(lines[back - 1], anchor)):
            back -= 1
            if exact_line(lines[back], anchor):
                keep = back
        # A long line only the suffix has decides alone where it is the
        # suffix's line at its indentation; deeper or shallower, it may be
        # the completion's own statement (the streamed cut must not decide
        # what the lines after it would overturn).
        if verdict is True or (self.setup.distinctive and exact_line(line, anchor)):
            return keep, True
        return self.undecided(keep, self.here(index))

    def scope_exit(self, index: int) -> tuple[int, bool] | None:
        """The line leaves the enclosing definition: the end, unless the suffix could not
        follow there (then read on a while for a better place)."""
        line, setup = self.lines[index], self.setup
        outer = _outer_like_suffix(line, setup.anchor, setup.header)
        if (
            (index > self.first or CLOSER_LINE.match(line))
            and indent_width(line) <= setup.header
            and not outer
            and not (self.language == "ruby" and _RESCUE.match(line))
            and not (self.language in _PREPROCESSED and line.lstrip().startswith("#"))
        ):
            if CLOSER_LINE.match(line) and unclosed(self.prefix + self.suffix, self.language):
                return index + 1, True  # nothing after the cursor closes the scope
            kept = [self.line_prefix + self.lines[0], *self.lines[1:index]][:index]
            # Past a first exit at column 0 the model has left every block around the
            # cursor: a later exit only adds top-level code (a 0.5B model wrote a
            # whole class after a `return` in a function's body, and the exit after
            # the class's last `return` was taken).
            first = self.first_exit
            left_all = first is not None and not indent_width(self.lines[first])
            if not left_all and not _dangling_suffix(kept, self.prefix, setup.anchor):
                return index, True
            if self.first_exit is None:
                self.first_exit = index  # the suffix can't follow here: read on
        if self.first_exit is not None and index - self.first_exit >= _EXIT_LOOKAHEAD:
            return self.first_exit, True
        return None

    def after_last(self) -> tuple[int, bool]:
        """All complete lines read without a decision."""
        lines, complete = self.lines, self.complete
        if self.first_exit is not None:
            return self.undecided(self.first_exit, self.resume)  # the stream's end decides
        if (
            self.setup.braces
            and self.first < complete < len(lines)
            and lines[complete].strip()
            and not self.scan.quote
            and _deeper_after_end(lines, complete, self.line_prefix)
        ):
            return complete, True  # known from the line's first character
        return self.undecided(complete, self.resume)


# A preprocessor line sits at column 0 inside a function (`#if` … `#endif`): no exit.
_PREPROCESSED = frozenset({"c", "cpp", "objective-c", "objective-cpp"})
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
        indent_width(lines[index]) > indent_width(previous)
        and previous.split("//", 1)[0].rstrip().endswith(";")
        and not previous.lstrip().startswith(("*", "/*"))
    )


def _outer_like_suffix(line: str, anchor: str, header: int) -> bool:
    """The code after the cursor itself goes on outside the enclosing definition, at
    this line's level: code written there before it is in place (the suffix repeat
    still ends it)."""
    if not anchor.strip() or CLOSER_LINE.match(line) or CLOSER_LINE.match(anchor):
        return False
    return indent_width(anchor) <= header and indent_width(line) >= indent_width(anchor)


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
    if _JUMP.match(last.strip()) and indent_width(anchor) >= indent_width(last):
        return True  # the suffix would be unreachable right after a return
    return indent_width(anchor) > indent_width(last) and not opens


_JUMP = re.compile(r"^(return|raise|throw|break|continue)\b")
