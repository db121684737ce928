"""The action catalogue and `textDocument/codeAction` listing: pure, no model call.

Each action is one `ghostls.runAction` command whose single argument is the wire
object `{kind, uri, range, version, instruction?, preview?}`; the range is already
resolved (an empty selection becomes the enclosing function or class), so running it
needs no second look at the syntax.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from lsprotocol import types

RUN_ACTION_COMMAND = "ghostls.runAction"


class ActionKind(StrEnum):
    EXPLAIN = "explain"
    FIX = "fix"
    DOCUMENT = "document"
    TESTS = "tests"
    EDIT = "edit"


@dataclass(frozen=True)
class ActionSpec:
    kind: ActionKind
    title: str
    code_action_kind: types.CodeActionKind | str
    edits: bool  # False: the answer is Markdown for the user (explain)


SPECS: dict[ActionKind, ActionSpec] = {
    spec.kind: spec
    for spec in (
        ActionSpec(ActionKind.FIX, "ghostls: Fix", types.CodeActionKind.QuickFix, True),
        ActionSpec(ActionKind.EXPLAIN, "ghostls: Explain", types.CodeActionKind.Empty, False),
        ActionSpec(
            ActionKind.DOCUMENT, "ghostls: Document", types.CodeActionKind.RefactorRewrite, True
        ),
        ActionSpec(
            ActionKind.EDIT,
            "ghostls: Edit with instruction…",
            types.CodeActionKind.RefactorRewrite,
            True,
        ),
        ActionSpec(ActionKind.TESTS, "ghostls: Write tests", types.CodeActionKind.Source, True),
    )
}

# What the server advertises in `codeActionProvider.codeActionKinds`.
PROVIDED_KINDS = [
    types.CodeActionKind.QuickFix,
    types.CodeActionKind.RefactorRewrite,
    types.CodeActionKind.Source,
]


def _wire_range(r: types.Range) -> dict[str, Any]:
    return {
        "start": {"line": r.start.line, "character": r.start.character},
        "end": {"line": r.end.line, "character": r.end.character},
    }


def _wire_diagnostic(diagnostic: types.Diagnostic) -> dict[str, Any]:
    return {
        "message": diagnostic.message,
        "line": diagnostic.range.start.line,
        "source": diagnostic.source,
    }


def overlaps(a: types.Range, b: types.Range) -> bool:
    """Ranges share a position (touching counts: a diagnostic at a selection's edge)."""
    a_start, a_end = (a.start.line, a.start.character), (a.end.line, a.end.character)
    b_start, b_end = (b.start.line, b.start.character), (b.end.line, b.end.character)
    return a_start <= b_end and b_start <= a_end


def _kind_allowed(spec: ActionSpec, only: list[str] | None) -> bool:
    if not only:
        return True
    wire = spec.code_action_kind
    kind = wire.value if isinstance(wire, types.CodeActionKind) else wire
    # An `only` of "refactor" admits "refactor.rewrite"; plain (empty) kinds only when
    # nothing is filtered.
    return bool(kind) and any(kind == want or kind.startswith(want + ".") for want in only)


def list_code_actions(
    uri: str,
    version: int,
    target: types.Range,
    diagnostics: list[types.Diagnostic],
    only: list[str] | None = None,
    label: str = "",
) -> list[types.CodeAction]:
    """The actions that fit `target` (the resolved range); Fix only over diagnostics."""
    overlapping = [d for d in diagnostics if overlaps(d.range, target)]
    actions: list[types.CodeAction] = []
    for spec in SPECS.values():
        if spec.kind is ActionKind.FIX and not overlapping:
            continue
        if not _kind_allowed(spec, only):
            continue
        argument: dict[str, Any] = {
            "kind": spec.kind.value,
            "uri": uri,
            "range": _wire_range(target),
            "version": version,
        }
        if spec.kind is ActionKind.FIX:
            argument["diagnostics"] = [_wire_diagnostic(d) for d in overlapping]
        if spec.kind is ActionKind.EDIT:
            # The client asks the user and fills this in before running the command.
            argument["instruction"] = None
        title = f"{spec.title} {label}".rstrip() if spec.kind is not ActionKind.EDIT else spec.title
        actions.append(
            types.CodeAction(
                title=title,
                kind=spec.code_action_kind or None,
                diagnostics=overlapping if spec.kind is ActionKind.FIX else None,
                command=types.Command(
                    title=title, command=RUN_ACTION_COMMAND, arguments=[argument]
                ),
            )
        )
    return actions
