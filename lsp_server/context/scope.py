"""What the syntax tree says about the cursor (pure functions over a parsed tree).

- `scope_headers`: the headers (signature lines) of the definitions around the cursor
  — function, method, class, impl, namespace — so the prompt keeps them even when
  they are far above the prefix window.
- `multiline_from_syntax`: single- vs multi-line from the tree: code before the cursor
  on its line, or a blank line inside an open argument list / collection, is the rest
  of a statement; an empty block body is a block. None when the tree cannot tell
  (the caller falls back to the text heuristic).
"""

from __future__ import annotations

import re

from tree_sitter import Node, Tree

from lsp_server.context.cursor import ScopeHeader

# Node types (across the grammars we ship) that open a scope worth naming. A node must
# also have a `body` field, which rules out calls (`method_invocation`, `function_call`).
_SCOPE_TYPE = re.compile(
    r"function|method|class|impl_item|namespace|struct|interface|trait|module|enum"
    r"|constructor|arrow_function|^method$|^singleton_method$|lambda|closure"
)
_NOT_SCOPE = re.compile(r"call|invocation|_body$|_list$")
# A blank line inside one of these is the middle of an expression.
_OPEN_EXPRESSION = frozenset(
    {
        "argument_list",
        "arguments",
        "array",
        "list",
        "dictionary",
        "object",
        "tuple",
        "parenthesized_expression",
        "set",
        "array_creation_expression",
        "initializer_list",
        "formal_parameters",
        "parameters",
        "parameter_list",
    }
)
_BLOCK_TYPES = frozenset(
    {"block", "statement_block", "compound_statement", "body_statement", "declaration_list"}
)
_FUNCTION = re.compile(r"function(?!_call)|lambda|closure|func_literal|anonymous_method|do_block")
MAX_HEADER_LINES = 6  # a signature longer than this is cut to its first lines


def _cursor_node(tree: Tree, byte: int) -> Node | None:
    root = tree.root_node
    return root.descendant_for_byte_range(max(byte - 1, 0), max(byte - 1, 0))


def _header_text(data: bytes, node: Node, body: Node) -> tuple[int, str]:
    """Whole lines from the scope's first line to the line where its body opens."""
    line_start = data.rfind(b"\n", 0, node.start_byte) + 1
    end = body.start_byte
    if data[end : end + 1] in (b"{", b":"):
        end += 1
    line_end = data.find(b"\n", end - 1 if end > node.start_byte else end)
    if body.start_point.row > node.start_point.row and data[body.start_byte : end] not in (
        b"{",
        b":",
    ):
        line_end = data.rfind(b"\n", 0, body.start_byte)  # the body starts on a new line
    line_end = len(data) if line_end < 0 else line_end
    lines = data[line_start:line_end].decode("utf-8", "surrogatepass").rstrip().split("\n")
    return line_start, "\n".join(line.rstrip("\r") for line in lines[:MAX_HEADER_LINES])


def scope_headers(tree: Tree | None, data: bytes, byte: int) -> tuple[ScopeHeader, ...]:
    """Headers of the scopes whose body holds `byte`, outermost first; `start` is the
    code-point offset of each header's first line in the document.

    The code being typed is often incomplete, and tree-sitter then wraps the cursor's
    surroundings in ERROR nodes that hide the scopes: with no tree, or an ERROR on the
    way up, the headers come from indentation instead (`scope_headers_from_text`)."""
    headers = _tree_headers(tree, data, byte) if tree is not None else None
    if headers is None:
        prefix = data[:byte].decode("utf-8", "surrogatepass")
        return scope_headers_from_text(prefix)
    return headers


def _tree_headers(tree: Tree, data: bytes, byte: int) -> tuple[ScopeHeader, ...] | None:
    node = _cursor_node(tree, byte)
    headers: list[ScopeHeader] = []
    while node is not None:
        if node.type == "ERROR" or node.is_missing:
            return None
        body = node.child_by_field_name("body")
        if (
            body is not None
            and _SCOPE_TYPE.search(node.type)
            and not _NOT_SCOPE.search(node.type)
            and body.start_byte < byte
            and node.start_byte < byte
        ):
            start, text = _header_text(data, node, body)
            if text.strip():
                offset = len(data[:start].decode("utf-8", "surrogatepass"))
                headers.append(ScopeHeader(offset, text))
        node = node.parent
    headers.reverse()
    return tuple(headers) if headers else None


_DEFINITION = re.compile(
    r"^(?:@?[\w<>\[\],.?*&:]+\s+)*?"
    r"(?:def|class|function|func|fn|sub|module|impl|interface|struct|enum|trait|namespace"
    r"|object|record|protocol|extension)\b"
)
_CONTROL = re.compile(
    r"^[}\s]*(?:if|else|elif|for|foreach|while|switch|match|case|catch|try|do|with|except"
    r"|finally|return|unless|until|loop|select|when|using|lock)\b"
)


def _indent(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip())


def _is_header(code: str) -> bool:
    if _CONTROL.match(code):
        return False
    if _DEFINITION.match(code):
        return True
    # `int load(String key) {`, `load(key: string): number {`, `Store.prototype.f = function() {`
    return "(" in code and code.endswith(("{", ")", ":")) and not code.endswith(");")


def scope_headers_from_text(prefix: str) -> tuple[ScopeHeader, ...]:
    """Headers found by indentation: walking up from the cursor, each less-indented
    line that looks like a definition (not control flow) opens an enclosing scope."""
    lines = prefix.split("\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    limit = _indent(lines[-1]) if lines[-1].strip() else None
    headers: list[ScopeHeader] = []
    for index in range(len(lines) - 2, -1, -1):
        code = lines[index].strip()
        if not code or code.startswith(("#", "//", "*", "/*", "--")):
            continue
        indent = _indent(lines[index])
        if limit is None:
            limit = indent + 1  # the cursor's line is blank: the line above sets the level
        if indent >= limit:
            continue
        limit = indent + 1 if code == "{" else indent  # an Allman brace: its header is next
        if code in ("{", "}") or not _is_header(code):
            if indent == 0:
                break
            continue
        end, depth = index, code.count("(") - code.count(")")
        while depth > 0 and end + 1 < len(lines) - 1 and end - index < MAX_HEADER_LINES - 1:
            end += 1  # a signature over several lines: up to its closing parenthesis
            depth += lines[end].count("(") - lines[end].count(")")
        if lines[end + 1].strip() == "{" and end + 1 < len(lines) - 1:
            end += 1  # Allman brace
        text = "\n".join(line.rstrip("\r") for line in lines[index : end + 1])
        headers.append(ScopeHeader(starts[index], text))
        if indent == 0:
            break
    headers.reverse()
    return tuple(headers)


def multiline_from_syntax(tree: Tree, data: bytes, byte: int) -> bool | None:
    """False mid-statement, True in an empty block body, None when the tree can't tell."""
    line_start = data.rfind(b"\n", 0, byte) + 1
    if data[line_start:byte].strip():
        return False  # code before the cursor on its line: the rest of the statement
    node = _cursor_node(tree, byte)
    while node is not None:
        if node.start_byte < byte < node.end_byte:
            if _FUNCTION.search(node.type):
                return None  # a function's body, even one passed as an argument
            if node.type in _OPEN_EXPRESSION:
                return False
            if node.type in _BLOCK_TYPES or node.type.endswith("_body"):
                named = [c for c in node.named_children if c.type != "comment"]
                return True if not named else None
        node = node.parent
    return None
