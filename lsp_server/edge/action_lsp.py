"""The action core's values as lsprotocol types, and back.

The core (`lsp_server.actions`) lists `ActionOffer`s and writes `ActionEdit`s; here
they become `CodeAction`s and `WorkspaceEdit`s. An edit carries a change annotation
that needs confirmation when the client supports annotations, so the editor shows the
user what an AI edit will do before it lands.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lsprotocol import types

from lsp_server.actions.catalogue import (
    PROVIDED_KINDS,
    RUN_ACTION_COMMAND,
    ActionOffer,
    Diagnostic,
)
from lsp_server.actions.edits import ActionEdit, Span
from lsp_server.workspace.document import Pos

ANNOTATION_ID = "ghostls.action"
# What the server advertises in `codeActionProvider`.
CODE_ACTION_OPTIONS = types.CodeActionOptions(
    code_action_kinds=[types.CodeActionKind(kind) for kind in PROVIDED_KINDS]
)


def span(range_: types.Range) -> Span:
    return Span(
        Pos(range_.start.line, range_.start.character), Pos(range_.end.line, range_.end.character)
    )


def lsp_range(span_: Span) -> types.Range:
    start, end = span_
    return types.Range(
        types.Position(start.line, start.character), types.Position(end.line, end.character)
    )


def diagnostic(wire: types.Diagnostic) -> Diagnostic:
    return Diagnostic(span(wire.range), wire.message, wire.source)


def code_action(offer: ActionOffer, diagnostics: Sequence[types.Diagnostic]) -> types.CodeAction:
    """`offer` as a `CodeAction`; a Fix lists the editor's own diagnostics it is for."""
    return types.CodeAction(
        title=offer.title,
        kind=types.CodeActionKind(offer.kind) if offer.kind else None,
        diagnostics=[diagnostics[i] for i in offer.fixes] or None,
        command=types.Command(
            title=offer.title, command=RUN_ACTION_COMMAND, arguments=[offer.argument]
        ),
    )


def annotation(title: str) -> dict[str, types.ChangeAnnotation]:
    return {
        ANNOTATION_ID: types.ChangeAnnotation(
            label=title, needs_confirmation=True, description="Written by the ghostls model"
        )
    }


def workspace_edit(edit: ActionEdit, annotated: bool) -> types.WorkspaceEdit:
    """`edit` as a `WorkspaceEdit` (a `CreateFile` first when it makes the file);
    annotated: each change needs the user's confirmation."""
    changes: list[Any] = []
    if edit.create:
        changes.append(
            types.CreateFile(
                uri=edit.uri,
                options=types.CreateFileOptions(overwrite=False, ignore_if_exists=True),
                annotation_id=ANNOTATION_ID if annotated else None,
            )
        )
    range_ = lsp_range(edit.span)
    text_edit = (
        types.AnnotatedTextEdit(range=range_, new_text=edit.text, annotation_id=ANNOTATION_ID)
        if annotated
        else types.TextEdit(range=range_, new_text=edit.text)
    )
    document = types.OptionalVersionedTextDocumentIdentifier(uri=edit.uri, version=edit.version)
    changes.append(types.TextDocumentEdit(text_document=document, edits=[text_edit]))
    return types.WorkspaceEdit(
        document_changes=changes, change_annotations=annotation(edit.title) if annotated else None
    )
