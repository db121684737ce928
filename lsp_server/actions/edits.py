"""Cleaned answers → `ActionEdit`s, and the syntax check that guards them.

An `ActionEdit` is one file's change (a test file that does not exist yet is created,
then filled in); the edge turns it into a `WorkspaceEdit` with a change annotation
that needs confirmation, so the editor shows the user what an AI edit will do before
it lands. An edit whose result does not parse (when the document parsed before) is
not applied silently: `syntax_problem` names the first error and the edge hands the
edit back for review instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from lsp_server.workspace.document import Pos
from lsp_server.workspace.syntax import parse_text


def _first_error(node: Any) -> Any | None:
    if node.is_error or node.is_missing:
        return node
    if not node.has_error:
        return None
    for child in node.children:
        found = _first_error(child)
        if found is not None:
            return found
    return node


def _problem(text: str, language: str) -> str | None:
    tree = parse_text(text, language)
    if tree is not None:
        node = _first_error(tree.root_node)
        if node is None:
            return None
        what = f"missing {node.type}" if node.is_missing else "a syntax error"
        return f"{what} at line {node.start_point[0] + 1}"
    if language == "python":
        try:
            compile(text, "<action>", "exec", dont_inherit=True)
        except SyntaxError as error:
            return f"{error.msg} at line {error.lineno}"
        except ValueError as error:  # null bytes
            return str(error)
    return None


def syntax_problem(new_text: str, old_text: str, language: str) -> str | None:
    """Why `new_text` does not parse, when `old_text` did; None when all is well or the
    language has no parser here."""
    problem = _problem(new_text, language)
    if problem is None or _problem(old_text, language) is not None:
        return None
    return problem


class Span(NamedTuple):
    """A range in a document, (start, end) in the positions the editor negotiated."""

    start: Pos
    end: Pos


@dataclass(frozen=True)
class ActionEdit:
    """One action's change to one file: `text` replaces `span` in `uri` (the document
    at `version`; None: whatever is there), after creating the file when `create`."""

    uri: str
    version: int | None
    span: Span
    text: str
    title: str  # the action's title: the label the editor shows for the change
    create: bool = False
