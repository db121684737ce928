"""Code actions end to end: the real server over stdio, a real LSP client, and a real
chat backend on 127.0.0.1 that records what it was asked and when the client hung up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Union

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled

from tests.support.fake_backend import FakeBackend, Reply, RequestRecord, Script
from tests.support.lsp import Session, openai_options, running_server

SOURCE = "import math\n\n\ndef add(a, b):\n    return a - b\n\n\nprint(add(1, 2))\n"
INSIDE_ADD = types.Range(types.Position(4, 6), types.Position(4, 6))
FIXED = "def add(a, b):\n    return a + b\n"
REPLY = f"Here is the fix:\n```python\n{FIXED}```\nThe sign was wrong."


def slow(text: str, interval_ms: float = 30, ttft_ms: float = 0) -> Script:
    return Script([Reply(text=text)], ttft_ms=ttft_ms, token_interval_ms=interval_ms)


async def wait_backend(backend: FakeBackend, predicate: Any, limit_s: float = 10) -> None:
    assert await asyncio.to_thread(backend.wait_for, predicate, limit_s), "backend never got there"


def chats(backend: FakeBackend) -> list[RequestRecord]:
    return [r for r in backend.completion_requests() if r.path.endswith("/chat/completions")]


class ActionClient:
    """Records the action notifications and answers workspace/applyEdit."""

    def __init__(self, session: Session, apply: bool = True, uri: str = "") -> None:
        self.session = session
        self.uri = uri  # the document `run` acts on unless told another
        self.stream: list[dict[str, Any]] = []
        self.results: list[dict[str, Any]] = []
        self.applied: list[types.ApplyWorkspaceEditParams] = []
        client = session.client
        converter = client.protocol._converter

        def code_action_or_command(obj: Any, _: type) -> types.Command | types.CodeAction:
            # lsprotocol reads any object with a `command` key as a Command, so a
            # CodeAction that carries one loses its kind and title (lsprotocol 2025.0.0).
            if isinstance(obj.get("command"), str):
                return converter.structure(obj, types.Command)
            return converter.structure(obj, types.CodeAction)

        converter.register_structure_hook(
            Union[types.Command, types.CodeAction],  # noqa: UP007 - the hook's exact key
            code_action_or_command,
        )

        session.record("ghostls/actionStream", self.stream)
        session.record("ghostls/actionResult", self.results)

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        def on_apply(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            self.applied.append(params)
            return types.ApplyWorkspaceEditResult(applied=apply)

    def run(self, **argument: Any) -> asyncio.Future[Any]:
        """`ghostls.runAction`, by default on `add` (INSIDE_ADD) in `self.uri`."""
        argument = {"uri": self.uri, "range": wire_range(INSIDE_ADD)} | argument
        return asyncio.ensure_future(
            self.session.client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="ghostls.runAction", arguments=[argument])
            )
        )

    async def streamed(self, count: int) -> None:
        """Until `count` deltas have reached the client (the model is mid-stream)."""
        await self.session.wait_until(lambda: sum(bool(n["delta"]) for n in self.stream) >= count)

    def text(self, action_id: str) -> str:
        return "".join(n["delta"] for n in self.stream if n["actionId"] == action_id)

    def done(self, action_id: str) -> bool:
        return any(n["done"] for n in self.stream if n["actionId"] == action_id)

    def progress(self) -> list[Any]:
        reports = self.session.client.progress_reports
        return [value for values in reports.values() for value in values]


@asynccontextmanager
async def action_session(
    tmp: Path, backend: FakeBackend, apply: bool = True, **options: Any
) -> AsyncIterator[ActionClient]:
    """A real server with calc.py (SOURCE) open, its chat backend `backend`."""
    async with running_server(tmp, {**openai_options(backend.url), **options}) as session:
        actions = ActionClient(session, apply, (tmp / "calc.py").as_uri())
        session.open(actions.uri, SOURCE)
        yield actions


def edit_document(session: Session, uri: str, line: int, character: int, text: str) -> None:
    session.versions[uri] += 1
    position = types.Position(line, character)
    session.client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(
                uri=uri, version=session.versions[uri]
            ),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(position, position), text=text
                )
            ],
        )
    )


def wire_range(r: types.Range) -> dict[str, Any]:
    return {
        "start": {"line": r.start.line, "character": r.start.character},
        "end": {"line": r.end.line, "character": r.end.character},
    }


async def test_code_actions_are_listed_without_a_model_call(tmp_path: Path) -> None:
    with FakeBackend() as backend:
        async with action_session(tmp_path, backend) as actions:
            listed = await actions.session.client.text_document_code_action_async(
                types.CodeActionParams(
                    types.TextDocumentIdentifier(actions.uri),
                    INSIDE_ADD,
                    types.CodeActionContext(diagnostics=[]),
                )
            )
            kinds = {a.command.arguments[0]["kind"]: a.kind for a in listed}
            assert kinds == {
                "explain": None,
                "document": types.CodeActionKind.RefactorRewrite,
                "edit": types.CodeActionKind.RefactorRewrite,
                "tests": types.CodeActionKind.Source,
            }
            argument = listed[0].command.arguments[0]
            # The empty selection became the whole enclosing function.
            assert argument["range"] == wire_range(
                types.Range(types.Position(3, 0), types.Position(4, 16))
            )
            diagnostic = types.Diagnostic(INSIDE_ADD, "wrong operator", source="lint")
            with_fix = await actions.session.client.text_document_code_action_async(
                types.CodeActionParams(
                    types.TextDocumentIdentifier(actions.uri),
                    INSIDE_ADD,
                    types.CodeActionContext(diagnostics=[diagnostic]),
                )
            )
            (fix,) = [a for a in with_fix if a.kind == types.CodeActionKind.QuickFix]
            assert fix.command.arguments[0]["diagnostics"][0]["message"] == "wrong operator"
            assert chats(backend) == []


async def test_fix_streams_then_applies_exactly_the_cleaned_reply(tmp_path: Path) -> None:
    with FakeBackend(slow(REPLY, interval_ms=5)) as backend:
        async with action_session(tmp_path, backend) as actions:
            diagnostics = [{"message": "subtracts instead of adding", "line": 4}]
            outcome = await actions.run(
                kind="fix",
                version=1,
                actionId="fix-1",
                diagnostics=diagnostics,
            )
            assert outcome["status"] == "applied", outcome
            # Deltas, in order, then one done.
            stream = [n for n in actions.stream if n["actionId"] == "fix-1"]
            assert stream[-1]["done"] and not any(n["done"] for n in stream[:-1])
            assert len(stream) > 3 and actions.text("fix-1") == REPLY
            (applied,) = actions.applied
            (change,) = applied.edit.document_changes
            (edit,) = change.edits
            # The target ends at the end of its last line, before the line break.
            assert edit.new_text == FIXED.rstrip("\n")
            assert edit.range == types.Range(types.Position(3, 0), types.Position(4, 16))
            assert change.text_document.version == 1
            assert edit.annotation_id and applied.edit.change_annotations[edit.annotation_id]
            assert applied.edit.change_annotations[edit.annotation_id].needs_confirmation
            # The prompt carried the code and the diagnostics.
            prompt = chats(backend)[0].prompt
            assert "return a - b" in prompt and "subtracts instead of adding" in prompt
            # Work-done progress: begin, at least one report, end.
            kinds = [type(v).__name__ for v in actions.progress()]
            assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd"
            assert "WorkDoneProgressReport" in kinds


async def test_explain_streams_markdown_and_edits_nothing(tmp_path: Path) -> None:
    text = "`add` returns the **difference** of its arguments."
    with FakeBackend(slow(text, interval_ms=5)) as backend:
        async with action_session(tmp_path, backend) as actions:
            outcome = await actions.run(kind="explain")
            assert outcome["status"] == "done" and outcome["text"] == text
            assert actions.text(outcome["actionId"]) == text
            assert actions.applied == []


async def test_preview_returns_the_edit_instead_of_applying_it(tmp_path: Path) -> None:
    with FakeBackend(slow(REPLY, interval_ms=1)) as backend:
        async with action_session(tmp_path, backend) as actions:
            outcome = await actions.run(
                kind="edit",
                instruction="make it add",
                preview=True,
            )
            assert outcome["status"] == "preview"
            assert actions.applied == []
            (result,) = actions.results
            assert result["text"] == FIXED.rstrip("\n")
            assert result["prose"].startswith("Here is the fix:")
            assert "Instruction: make it add" in chats(backend)[0].prompt


async def test_an_edit_that_does_not_parse_is_flagged_not_applied(tmp_path: Path) -> None:
    broken = "```python\ndef add(a, b:\n    return a + b\n```"
    with FakeBackend(slow(broken, interval_ms=1)) as backend:
        async with action_session(tmp_path, backend) as actions:
            outcome = await actions.run(kind="document")
            assert outcome["status"] == "needsReview"
            assert actions.applied == []
            assert "does not parse" in actions.results[0]["problem"]


async def test_write_tests_creates_the_conventional_test_file(tmp_path: Path) -> None:
    tests = "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
    with FakeBackend(slow(f"```python\n{tests}```", interval_ms=1)) as backend:
        async with action_session(tmp_path, backend) as actions:
            outcome = await actions.run(kind="tests")
            assert outcome["status"] == "applied", outcome
            create, fill = actions.applied[0].edit.document_changes
            test_uri = (tmp_path / "test_calc.py").as_uri()
            assert isinstance(create, types.CreateFile) and create.uri == test_uri
            assert fill.text_document.uri == test_uri and fill.edits[0].new_text == tests
            assert "pytest" in chats(backend)[0].prompt


async def test_cancel_request_closes_the_backend_stream(tmp_path: Path) -> None:
    with FakeBackend(slow("word " * 200, interval_ms=30)) as backend:
        async with action_session(tmp_path, backend) as actions:
            future = actions.run(kind="explain")
            await actions.streamed(2)
            (request_id,) = actions.session.client.protocol._request_futures  # the command
            actions.session.client.protocol.notify(
                types.CANCEL_REQUEST, types.CancelParams(id=request_id)
            )
            with pytest.raises(JsonRpcRequestCancelled):
                await future
            await wait_backend(backend, lambda b: chats(b)[0].disconnected)
            assert not chats(backend)[0].finished
            await actions.session.wait_until(lambda: actions.progress()[-1].kind == "end")


async def test_progress_cancel_stops_the_action(tmp_path: Path) -> None:
    with FakeBackend(slow("word " * 200, interval_ms=30)) as backend:
        async with action_session(tmp_path, backend) as actions:
            future = actions.run(kind="explain")
            await actions.streamed(2)
            await actions.session.wait_until(lambda: actions.session.client.progress_reports)
            (token,) = actions.session.client.progress_reports
            actions.session.client.window_work_done_progress_cancel(
                types.WorkDoneProgressCancelParams(token=token)
            )
            outcome = await future
            assert outcome["status"] == "cancelled"
            # The answer can reach the client before the backend sees its socket close.
            await wait_backend(backend, lambda b: chats(b)[0].disconnected)
            assert not chats(backend)[0].finished


async def test_an_edit_inside_the_target_stops_the_model(tmp_path: Path) -> None:
    with FakeBackend(slow("word " * 200, interval_ms=30)) as backend:
        async with action_session(tmp_path, backend) as actions:
            future = actions.run(kind="document")
            await actions.streamed(2)
            edit_document(actions.session, actions.uri, 0, 0, "# above: no effect\n")
            edit_document(actions.session, actions.uri, 5, 12, " 0 +")  # inside `return a - b`
            outcome = await future
            assert outcome["status"] == "cancelled" and "changed" in outcome["message"]
            await wait_backend(backend, lambda b: chats(b)[0].disconnected)
            assert actions.applied == []


async def test_redirect_restarts_with_the_new_instruction(tmp_path: Path) -> None:
    script = Script(
        [
            Reply(text="```python\ndef add(a, b):\n    return b + a\n```", when="swap them"),
            Reply(text="word " * 200),
        ],
        token_interval_ms=20,
    )
    with FakeBackend(script) as backend:
        async with action_session(tmp_path, backend) as actions:
            future = actions.run(
                kind="edit",
                instruction="make it better",
                actionId="e1",
            )
            await actions.streamed(2)
            answer = await actions.session.client.protocol.send_request_async(
                "ghostls/redirectAction", {"actionId": "e1", "instruction": "swap them"}
            )
            assert answer.redirected is True
            outcome = await future
            assert outcome["status"] == "applied", outcome
            first, second = chats(backend)
            await wait_backend(backend, lambda _: first.disconnected and second.finished)
            assert not first.finished
            assert "swap them" in second.prompt
            resets = [i for i, n in enumerate(actions.stream) if n.get("reset")]
            assert len(resets) == 1
            after = "".join(n["delta"] for n in actions.stream[resets[0] :])
            assert after == "```python\ndef add(a, b):\n    return b + a\n```"
            edit = actions.applied[0].edit.document_changes[0].edits[0]
            assert edit.new_text == "def add(a, b):\n    return b + a"


@pytest.mark.parametrize(
    ("reply", "options", "expected"),
    [
        (Reply(status=500), {}, "HTTP 500"),
        (Reply(fault="hang"), {"actions": {"readTimeoutMs": 300}}, "0.3 s"),
    ],
)
async def test_a_failing_backend_ends_the_progress_with_a_readable_message(
    tmp_path: Path, reply: Reply, options: dict[str, Any], expected: str
) -> None:
    with FakeBackend(Script([reply])) as backend:
        async with action_session(tmp_path, backend, **options) as actions:
            outcome = await actions.run(kind="explain")
            assert outcome["status"] == "error" and expected in outcome["message"]
            end = actions.progress()[-1]
            assert end.kind == "end" and expected in end.message
            assert actions.stream[-1]["done"] and expected in actions.stream[-1]["error"]


async def test_the_actions_profile_sends_actions_to_their_own_model(tmp_path: Path) -> None:
    with FakeBackend() as completions, FakeBackend(slow("big answer", interval_ms=1)) as big:
        options = {"actions": {"url": big.url, "model": "big-model"}}
        async with action_session(tmp_path, completions, **options) as actions:
            outcome = await actions.run(kind="explain")
            assert outcome["text"] == "big answer"
            assert chats(completions) == []
            (request,) = chats(big)
            assert request.body["model"] == "big-model"  # kind and the rest from `backend`
