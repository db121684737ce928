"""Cleaned answers → `WorkspaceEdit`s, and the syntax check that guards them.

Edits carry a change annotation that needs confirmation when the client supports
annotations, so the editor shows the user what an AI edit will do before it lands.
Test files that do not exist yet are created with `CreateFile`, then filled in.
An edit whose result does not parse (when the document parsed before) is not applied
silently: `syntax_problem` names the first error and the runner hands the edit back
for review instead.
"""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types

from lsp_server.workspace.syntax import parse_text

log = logging.getLogger(__name__)

ANNOTATION_ID = "ghostls.action"


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


def annotation(title: str) -> dict[str, types.ChangeAnnotation]:
    return {
        ANNOTATION_ID: types.ChangeAnnotation(
            label=title, needs_confirmation=True, description="Written by the ghostls model"
        )
    }


def _text_edit(
    range_: types.Range, text: str, annotated: bool
) -> types.TextEdit | types.AnnotatedTextEdit:
    if annotated:
        return types.AnnotatedTextEdit(range=range_, new_text=text, annotation_id=ANNOTATION_ID)
    return types.TextEdit(range=range_, new_text=text)


def replace_edit(
    uri: str, version: int | None, range_: types.Range, text: str, title: str, annotated: bool
) -> types.WorkspaceEdit:
    document = types.TextDocumentEdit(
        text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
        edits=[_text_edit(range_, text, annotated)],
    )
    return types.WorkspaceEdit(
        document_changes=[document], change_annotations=annotation(title) if annotated else None
    )


def file_edit(
    uri: str,
    version: int | None,
    insert_at: types.Position | None,
    text: str,
    title: str,
    annotated: bool,
) -> types.WorkspaceEdit:
    """Insert `text` at `insert_at` in `uri`; `insert_at` None: create the file first."""
    changes: list[Any] = []
    position = insert_at or types.Position(0, 0)
    if insert_at is None:
        changes.append(
            types.CreateFile(
                uri=uri,
                options=types.CreateFileOptions(overwrite=False, ignore_if_exists=True),
                annotation_id=ANNOTATION_ID if annotated else None,
            )
        )
    changes.append(
        types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
            edits=[_text_edit(types.Range(position, position), text, annotated)],
        )
    )
    return types.WorkspaceEdit(
        document_changes=changes, change_annotations=annotation(title) if annotated else None
    )
