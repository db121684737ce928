"""The action catalogue and `textDocument/codeAction` listing: pure, no model call.

Each action is one `ghostls.runAction` command whose single argument is the wire
object `{kind, uri, range, version, instruction?, preview?}`; the range is already
resolved (an empty selection becomes the enclosing function or class), so running it
needs no second look at the syntax. The listing is the core's own values
(`ActionOffer`); the edge turns them into LSP `CodeAction`s.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from lsp_server.actions.edits import Span

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
    code_action_kind: str  # the LSP `CodeActionKind`; "" for none
    edits: bool  # False: the answer is Markdown for the user (explain)


SPECS: dict[ActionKind, ActionSpec] = {
    spec.kind: spec
    for spec in (
        ActionSpec(ActionKind.FIX, "ghostls: Fix", "quickfix", True),
        ActionSpec(ActionKind.EXPLAIN, "ghostls: Explain", "", False),
        ActionSpec(ActionKind.DOCUMENT, "ghostls: Document", "refactor.rewrite", True),
        ActionSpec(ActionKind.EDIT, "ghostls: Edit with instruction…", "refactor.rewrite", True),
        ActionSpec(ActionKind.TESTS, "ghostls: Write tests", "source", True),
    )
}

# What the server advertises in `codeActionProvider.codeActionKinds`.
PROVIDED_KINDS = ("quickfix", "refactor.rewrite", "source")


@dataclass(frozen=True)
class Diagnostic:
    """What the listing reads of an editor's diagnostic."""

    span: Span
    message: str
    source: str | None = None


@dataclass(frozen=True)
class ActionOffer:
    """One listed action: a `RUN_ACTION_COMMAND` with its single wire argument."""

    title: str
    kind: str  # the LSP `CodeActionKind`; "" for none
    fixes: tuple[int, ...]  # Fix: the indices of the given diagnostics it is for
    argument: dict[str, Any]


def _wire_range(r: Span) -> dict[str, Any]:
    return {
        "start": {"line": r.start.line, "character": r.start.character},
        "end": {"line": r.end.line, "character": r.end.character},
    }


def _wire_diagnostic(diagnostic: Diagnostic) -> dict[str, Any]:
    return {
        "message": diagnostic.message,
        "line": diagnostic.span.start.line,
        "source": diagnostic.source,
    }


def overlaps(a: Span, b: Span) -> bool:
    """Ranges share a position (touching counts: a diagnostic at a selection's edge)."""
    a_start, a_end = (a.start.line, a.start.character), (a.end.line, a.end.character)
    b_start, b_end = (b.start.line, b.start.character), (b.end.line, b.end.character)
    return a_start <= b_end and b_start <= a_end


def _kind_allowed(spec: ActionSpec, only: list[str] | None) -> bool:
    if not only:
        return True
    kind = spec.code_action_kind
    # An `only` of "refactor" admits "refactor.rewrite"; plain (empty) kinds only when
    # nothing is filtered.
    return bool(kind) and any(kind == want or kind.startswith(want + ".") for want in only)


def list_code_actions(
    uri: str,
    version: int,
    target: Span,
    diagnostics: list[Diagnostic],
    only: list[str] | None = None,
    label: str = "",
) -> list[ActionOffer]:
    """The actions that fit `target` (the resolved range); Fix only over diagnostics."""
    fixes = tuple(i for i, d in enumerate(diagnostics) if overlaps(d.span, target))
    actions: list[ActionOffer] = []
    for spec in SPECS.values():
        if spec.kind is ActionKind.FIX and not fixes:
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
            argument["diagnostics"] = [_wire_diagnostic(diagnostics[i]) for i in fixes]
        if spec.kind is ActionKind.EDIT:
            # The client asks the user and fills this in before running the command.
            argument["instruction"] = None
        title = f"{spec.title} {label}".rstrip() if spec.kind is not ActionKind.EDIT else spec.title
        for_fix = fixes if spec.kind is ActionKind.FIX else ()
        actions.append(ActionOffer(title, spec.code_action_kind, for_fix, argument))
    return actions
