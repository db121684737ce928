"""What an action works on: the selection, or the function / class around the cursor.

An indentation and brace heuristic for now (`enclosing_block`); it is the one place to
swap for tree-sitter scopes once `lsp_server.workspace.syntax` offers them. Offsets are
code points into the document text, whole lines from the block's header (decorators
and attributes included) to the end of its last line.
"""

from __future__ import annotations

import re

from lsp_server.workspace.document import line_starts
from lsp_server.workspace.syntax import byte_offset, encode, parse_text

_HEADER = re.compile(
    r"""^[ \t]*(?:
        (?:export\s+)?(?:default\s+)?(?:pub(?:\([\w:]+\))?\s+)?(?:async\s+)?(?:unsafe\s+)?
        (?:def|class|function|fn|func|impl|struct|enum|interface|trait|module|object|type)\b
      | (?:(?:public|private|protected|internal|static|final|abstract|override|virtual|
            synchronized|async)\s+)+[\w<>\[\],.?\s]*\w+\s*\(
      | (?:export\s+)?(?:const|let|var)\s+\w+\s*=\s*(?:async\s*)?(?:\([^)]*\)|\w+)\s*=>
    )""",
    re.VERBOSE,
)
_DECORATOR = re.compile(r"^[ \t]*(?:@|#\[)")
INDENT_LANGUAGES = frozenset({"python", "nim", "coffeescript", "yaml"})


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _lines(text: str) -> tuple[list[str], list[int]]:
    starts = line_starts(text)
    lines = [
        text[s:e].rstrip("\r\n") for s, e in zip(starts, [*starts[1:], len(text)], strict=True)
    ]
    return lines, starts


def _header_above(lines: list[str], line: int) -> int | None:
    """The nearest header line at or above `line` whose block can contain `line`."""
    limit = _indent(lines[line]) if lines[line].strip() else None
    for index in range(line, -1, -1):
        text = lines[index]
        if not text.strip():
            continue
        if _HEADER.match(text) and (limit is None or _indent(text) <= limit or index == line):
            return index
        if limit is None or _indent(text) < limit:
            limit = _indent(text)
    return None


def _indent_block_end(lines: list[str], header: int) -> int:
    base = _indent(lines[header])
    last = header
    for index in range(header + 1, len(lines)):
        text = lines[index]
        if not text.strip():
            continue
        if _indent(text) <= base and not text.lstrip().startswith((")", "]", "}")):
            break
        last = index
    return last


def _brace_block_end(lines: list[str], header: int) -> int:
    depth, opened = 0, False
    for index in range(header, len(lines)):
        # Strings and comments are not parsed: good enough for the usual code, and
        # tree-sitter replaces this.
        for char in lines[index]:
            if char == "{":
                depth, opened = depth + 1, True
            elif char == "}":
                depth -= 1
                if opened and depth == 0:
                    return index
        if not opened and lines[index].rstrip().endswith(";"):
            return index
    return len(lines) - 1


# tree-sitter node types that are "a function or a class" across the grammars we ship.
SCOPE_NODES = frozenset(
    {
        "function_definition",
        "class_definition",
        "function_declaration",
        "generator_function_declaration",
        "class_declaration",
        "method_definition",
        "method_declaration",
        "constructor_declaration",
        "interface_declaration",
        "enum_declaration",
        "function_item",
        "impl_item",
        "struct_item",
        "enum_item",
        "trait_item",
        "type_declaration",
    }
)
# Wrappers that belong to the scope they wrap: decorators, `export`.
WRAPPER_NODES = frozenset({"decorated_definition", "export_statement"})


def _syntax_block(text: str, offset: int, language: str) -> tuple[int, int] | bool | None:
    """The tree-sitter answer: offsets, None (no scope there), False (no grammar)."""
    tree = parse_text(text, language)
    if tree is None:
        return False
    data = encode(text)
    byte = byte_offset(text, offset)
    node = tree.root_node.named_descendant_for_byte_range(byte, byte)
    while node is not None and node.type not in SCOPE_NODES:
        node = node.parent
    if node is None:
        return None
    while node.parent is not None and node.parent.type in WRAPPER_NODES:
        node = node.parent
    start = len(data[: node.start_byte].decode("utf-8", "replace"))
    end = len(data[: node.end_byte].decode("utf-8", "replace"))
    return start, end


def enclosing_block(text: str, offset: int, language: str) -> tuple[int, int] | None:
    """(start, end) offsets of the function or class around `offset`, or None: from
    the syntax tree when the language has a grammar here, else the heuristic. Whole
    lines, with decorators / attributes above included."""
    found = _syntax_block(text, offset, language)
    if found is None:
        return None
    if found is not False:
        assert isinstance(found, tuple)
        lines, starts = _lines(text)
        first = _line_of(starts, found[0])
        while first > 0 and _DECORATOR.match(lines[first - 1]):
            first -= 1
        last = _line_of(starts, max(found[0], found[1] - 1))
        return starts[first], starts[last] + len(lines[last])
    return _heuristic_block(text, offset, language)


def _heuristic_block(text: str, offset: int, language: str) -> tuple[int, int] | None:
    lines, starts = _lines(text)
    line = max(0, min(len(lines) - 1, _line_of(starts, offset)))
    header = _header_above(lines, line)
    if header is None:
        return None
    first = header
    while first > 0 and _DECORATOR.match(lines[first - 1]):
        first -= 1
    if language in INDENT_LANGUAGES:
        last = _indent_block_end(lines, header)
    else:
        last = _brace_block_end(lines, header)
    if last < line:  # the cursor is below the block: it is not enclosed by it
        return None
    end = starts[last] + len(lines[last])
    return starts[first], end


def _line_of(starts: list[int], offset: int) -> int:
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo


def enclosing_signatures(text: str, start: int, limit: int = 4) -> tuple[str, ...]:
    """Header lines of the scopes around `start` (outermost first), e.g. the class of a
    method, so the model knows where the code lives."""
    lines, starts = _lines(text)
    line = _line_of(starts, start)
    indent = _indent(lines[line]) if lines else 0
    found: list[str] = []
    for index in range(line - 1, -1, -1):
        candidate = lines[index]
        if candidate.strip() and _indent(candidate) < indent:
            indent = _indent(candidate)
            if _HEADER.match(candidate):
                found.append(candidate.rstrip())
                if len(found) == limit:
                    break
        if indent == 0:
            break
    return tuple(reversed(found))


def block_label(text: str, start: int) -> str:
    """A short name for the block starting at `start`: `add` for `def add(...)`."""
    first_line = next((ln for ln in text[start:].splitlines() if not _DECORATOR.match(ln)), "")
    match = re.search(
        r"\b(?:def|class|function|fn|func|struct|enum|interface|trait)\s+(\w+)", first_line
    )
    if match is None:
        match = re.search(r"(\w+)\s*(?:=|\()", first_line)
    return f"`{match.group(1)}`" if match else ""
