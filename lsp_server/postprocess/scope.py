"""Scopes by indentation: the body of a block the completion opens itself (indentation
for the languages that indent it, braces for the ones that did not), whether the suffix
has that body already, and the enclosing definition the completion must stay inside."""

from __future__ import annotations

import re

from lsp_server.postprocess.scan import CLOSER_LINE, Scan, indent_width, next_nonblank_line


def body_exists(suffix: str, header: int) -> bool:
    """The code after the cursor already has the body of a block opened at `header`:
    its next line (after the rest of the cursor's line) is indented deeper."""
    rest, _, after = suffix.partition("\n")
    if rest.strip():
        return False  # `})` right after the cursor: the block is written in front of it
    anchor = next_nonblank_line(after)
    if CLOSER_LINE.match(anchor) and indent_width(anchor) == header:
        return bool(anchor.strip())  # the suffix closes it: the body goes in between
    return bool(anchor.strip()) and indent_width(anchor) > header


def new_block_end(lines: list[str], start: int, complete: int, header: int) -> tuple[int, bool]:
    """The body of a block the completion opened at indentation `header`, up to and
    including the line that closes it (a line back at the header's level). A body the
    model did not indent ends where its brace closes."""
    body = next((i for i in range(start, complete) if lines[i].strip()), None)
    if (
        body is not None
        and indent_width(lines[body]) <= header
        and not CLOSER_LINE.match(lines[body])
    ):
        scan = Scan("")
        for index in range(start, complete):
            scan.line(lines[index])
            if scan.depth < 0:
                return index + 1, True
        return complete, False
    for index in range(start, complete):
        line = lines[index]
        if not line.strip() or indent_width(line) > header:
            continue
        if line.lstrip().startswith(("}", "end")) and index > start:
            return index + 1, True
        return index, True
    return complete, False


DEFINITION = re.compile(
    r"^(export\s+|pub(\(\w+\))?\s+|async\s+|static\s+|public\s+|private\s+|protected\s+)*"
    r"(def|class|function|func|fn|sub|module|impl|interface|struct|enum|trait|namespace)\b"
)


_CONTROL = re.compile(r"^(}\s*)?(if|else|for|foreach|while|switch|catch|try|do|with|elif|except)\b")


def scope_limit(prefix: str, start: int) -> int:
    """Indentation of the enclosing definition's header (function, class, method):
    the completion's lines must stay indented deeper. -1 at top level. A definition
    with a less indented line between it and the cursor is a sibling that has ended
    (a nested helper above the loop the cursor is in), not the enclosing one."""
    limit = start
    for line in reversed(prefix.split("\n")[:-1]):
        code = line.strip()
        if not code or indent_width(line) >= limit:
            continue
        if DEFINITION.match(code) or (
            "(" in code and code.endswith(("{", ":")) and not _CONTROL.match(code)
        ):
            return indent_width(line)
        if code[0] not in ")]}\"'#/*":  # closing lines and comments/strings don't nest
            limit = indent_width(line)
    return -1
