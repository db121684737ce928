"""The actions feature as the server sees it: listing, running, redirecting.

`ActionService` is the glue between the pygls server and the pure parts: it takes
the snapshot (document text and version, settings, client capabilities) before the
first `await`, picks the chat backend (the `actions` profile, or the completion
backend when that can chat), and turns a finished reply into an outcome: Markdown for
Explain, a `WorkspaceEdit` applied with `workspace/applyEdit` or handed back in
`ghostls/actionResult` for preview and for edits that do not parse.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from lsprotocol import converters, types
from pygls.exceptions import JsonRpcContentModified, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer

from lsp_server.actions.catalogue import SPECS, ActionKind, list_code_actions
from lsp_server.actions.edits import ActionEdit, Span, syntax_problem
from lsp_server.actions.prompts import ActionPrompt
from lsp_server.actions.reply import fit_code, parse_reply
from lsp_server.actions.runner import (
    ACTION_RESULT,
    PROGRESS_PREFIX,
    ActionJob,
    ActionRun,
    ActionRunner,
    ProgressStart,
    ProgressToken,
)
from lsp_server.actions.target import block_label, enclosing_block, enclosing_signatures
from lsp_server.actions.testfiles import TestPlan, language_of, plan_tests
from lsp_server.backends.base import ChatBackend
from lsp_server.backends.policy import check_backend
from lsp_server.context.cursor import Snippet, display_path
from lsp_server.context.hygiene import is_sensitive_path, mask_secrets
from lsp_server.edge import action_lsp
from lsp_server.edge.host import ServiceHost, profile_url_from_user
from lsp_server.settings import BackendSettings, Settings
from lsp_server.workspace.document import Pos, TextDocument

log = logging.getLogger(__name__)

REDIRECT_ACTION = "ghostls/redirectAction"
NEIGHBOUR_LINES = 40
MAX_NEIGHBOURS = 2
_converter = converters.get_converter()


class PyglsActionClient:
    """`ActionClient` over a pygls server: notifications and work-done progress."""

    def __init__(self, server: LanguageServer) -> None:
        self._server = server

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self._server.protocol.notify(method, params)

    async def begin_progress(self, start: ProgressStart) -> bool:
        progress, token = self._server.work_done_progress, start.token
        if start.create:
            window = self._server.client_capabilities.window
            if window is None or not window.work_done_progress:
                return False
            await progress.create_async(token)
        else:
            progress.tokens.setdefault(token, concurrent.futures.Future())
        future = progress.tokens.get(token)
        if future is not None:
            future.add_done_callback(lambda f: start.on_cancel() if f.cancelled() else None)
        progress.begin(
            token,
            types.WorkDoneProgressBegin(title=start.title, cancellable=True, message="Thinking…"),
        )
        return True

    def report_progress(self, token: ProgressToken, message: str) -> None:
        self._server.work_done_progress.report(
            token, types.WorkDoneProgressReport(message=message, cancellable=True)
        )

    def end_progress(self, token: ProgressToken, message: str) -> None:
        progress = self._server.work_done_progress
        progress.end(token, types.WorkDoneProgressEnd(message=message))
        progress.tokens.pop(token, None)


def _path_of(uri: str) -> str:
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else ""


def _span(document: TextDocument, start: int, end: int) -> Span:
    return Span(document.position_at(start), document.position_at(end))


def _offsets(document: TextDocument, wire: Any) -> tuple[int, int]:
    try:
        start = document.offset_at(Pos(int(wire["start"]["line"]), int(wire["start"]["character"])))
        end = document.offset_at(Pos(int(wire["end"]["line"]), int(wire["end"]["character"])))
    except (KeyError, TypeError, ValueError) as error:
        raise JsonRpcInvalidParams(f"ghostls.runAction: bad range ({error})") from None
    return min(start, end), max(start, end)


def resolve_target(document: TextDocument, start: int, end: int) -> tuple[int, int]:
    """An empty selection means the enclosing function or class, else its line."""
    if start != end:
        return start, end
    block = enclosing_block(document.text, start, document.language_id)
    if block is not None:
        return block
    line_start = document.text.rfind("\n", 0, start) + 1
    line_end = document.text.find("\n", start)
    return line_start, len(document.text) if line_end < 0 else line_end


class ActionService:
    def __init__(self, host: ServiceHost, server: LanguageServer) -> None:
        self._host = host  # documents, settings, backends
        self._server = server  # editor round trips
        self.runner = ActionRunner(PyglsActionClient(server))
        self._own: ChatBackend | None = None
        self._own_settings: BackendSettings | None = None

    # -- textDocument/codeAction ---------------------------------------------------------

    def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        document = self._host.store.documents.get(params.text_document.uri)
        if document is None or is_sensitive_path(display_path(document.uri)):
            return None
        start, end = _offsets(document, _converter.unstructure(params.range))
        start, end = resolve_target(document, start, end)
        if not document.text[start:end].strip():
            return None
        diagnostics = params.context.diagnostics
        offers = list_code_actions(
            document.uri,
            document.version,
            _span(document, start, end),
            [action_lsp.diagnostic(d) for d in diagnostics],
            [getattr(kind, "value", kind) for kind in params.context.only]
            if params.context.only
            else None,
            block_label(document.text, start) if params.range.start == params.range.end else "",
        )
        return [action_lsp.code_action(offer, diagnostics) for offer in offers]

    # -- ghostls.runAction --------------------------------------------------------------

    async def run(self, args: tuple[Any, ...]) -> dict[str, Any]:
        wire = args[0] if len(args) == 1 and isinstance(args[0], dict) else None
        if wire is None:
            raise JsonRpcInvalidParams("ghostls.runAction takes one object argument")
        job, plan = self._job(wire)
        settings = self._host.settings
        follow_request_cancellation(self._server.protocol)

        async def backend() -> ChatBackend:
            return await self._chat_backend(settings)

        async def finish(run: ActionRun, text: str) -> dict[str, Any]:
            return await self._finish(run, text, plan, bool(wire.get("preview")))

        return await self.runner.run(job, backend, finish)

    def _job(self, wire: dict[str, Any]) -> tuple[ActionJob, TestPlan | None]:
        try:
            kind = ActionKind(str(wire.get("kind")))
        except ValueError:
            raise JsonRpcInvalidParams(
                f"ghostls.runAction: unknown kind {wire.get('kind')!r}"
            ) from None
        uri = str(wire.get("uri"))
        document = self._host.store.documents.get(uri)
        if document is None:
            raise JsonRpcInvalidParams(f"ghostls.runAction: {uri!r} is not an open document")
        version = wire.get("version")
        if isinstance(version, int) and version != document.version:
            raise JsonRpcContentModified(f"{uri} is at version {document.version}, not {version}")
        instruction = wire.get("instruction") or ""
        if kind is ActionKind.EDIT and not (isinstance(instruction, str) and instruction.strip()):
            # Said where the user looks too: an editor that runs the listed action as it
            # is (no prompt for the instruction) often shows a failed command nowhere.
            self._server.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Warning,
                    message="ghostls: “Edit with instruction…” needs an instruction, and this "
                    "editor sent none (the ghostls Neovim and VS Code clients ask for it)",
                )
            )
            raise JsonRpcInvalidParams("ghostls.runAction: 'edit' needs an instruction")
        action_id = wire.get("actionId") or self.runner.new_id()
        if not isinstance(action_id, str) or self.runner.is_running(action_id):
            raise JsonRpcInvalidParams(f"ghostls.runAction: actionId {action_id!r} is in use")
        start, end = resolve_target(document, *_offsets(document, wire.get("range")))
        path = _path_of(uri) or display_path(uri)
        if is_sensitive_path(display_path(uri)):
            raise JsonRpcInvalidParams(f"{display_path(uri)} may hold secrets: not sent to a model")
        plan = (
            plan_tests(path, document.language_id, self._read) if kind is ActionKind.TESTS else None
        )
        prompt = ActionPrompt(
            kind=kind,
            language=language_of(path, document.language_id),
            path=display_path(uri),
            code=mask_secrets(document.text[start:end]),
            signatures=enclosing_signatures(document.text, start),
            neighbours=self._neighbours(document),
            diagnostics=_diagnostic_lines(wire.get("diagnostics")),
            instruction=instruction if isinstance(instruction, str) else "",
            framework=plan.framework if plan else "",
            test_path=plan.path if plan else "",
            test_placement=plan.placement if plan else "",
            existing_tests=(plan.existing or "")[-4000:] if plan else "",
        )
        original = document.text[start:end]
        token = wire.get("workDoneToken")  # set by jsonrpc from the request's params
        job = ActionJob(
            action_id,
            kind,
            uri,
            start,
            end,
            document.version,
            prompt,
            original,
            progress_token=token if isinstance(token, (str, int)) else None,
        )
        return job, plan

    def _neighbours(self, document: TextDocument) -> tuple[Snippet, ...]:
        others = [
            other
            for other in self._host.store.documents.values()
            if other.uri != document.uri
            and other.language_id == document.language_id
            and not is_sensitive_path(display_path(other.uri))
        ]
        return tuple(
            Snippet(
                display_path(o.uri), mask_secrets("\n".join(o.text.splitlines()[:NEIGHBOUR_LINES]))
            )
            for o in others[:MAX_NEIGHBOURS]
        )

    def _read(self, path: str) -> str | None:
        """A file's text: the open document when there is one, else the disk."""
        uri = Path(path).as_uri() if path.startswith("/") else path
        document = self._host.store.documents.get(uri)
        if document is not None:
            return document.text
        with contextlib.suppress(OSError, ValueError):
            if Path(path).is_file():
                return Path(path).read_text(encoding="utf-8", errors="replace")
        return None

    async def _chat_backend(self, settings: Settings) -> ChatBackend:
        from lsp_server.backends import factory  # the chat side lands beside this

        profile = settings.actions or settings.backend
        if profile == settings.backend:
            await self._host.backend_ready()
            shared = factory.as_chat_backend(self._host.backend)
            if shared is not None:
                return shared
        if self._own is None or self._own_settings != profile:
            check_backend(profile.kind, profile.url, profile_url_from_user(self._host, "actions"))
            old, self._own = self._own, None
            if old is not None:
                await _aclose(old)
            self._own, self._own_settings = factory.create_chat_backend(profile), profile
        return self._own

    # -- the outcome ---------------------------------------------------------------------

    async def _finish(
        self, run: ActionRun, text: str, plan: TestPlan | None, preview: bool
    ) -> dict[str, Any]:
        job = run.job
        base = {"actionId": job.action_id, "kind": job.kind.value}
        if not SPECS[job.kind].edits:
            return {**base, "status": "done", "text": text}
        parsed = parse_reply(text)
        if parsed.code is None:
            return {**base, "status": "error", "message": "The model's answer held no code"}
        document = self._host.store.documents.get(job.uri)
        if document is None or document.text[run.start : run.end] != job.original:
            return {**base, "status": "cancelled", "message": "The code changed meanwhile"}
        if plan is not None and plan.path != _path_of(job.uri):
            edit, code, problem = self._tests_edit(job, plan, parsed.code)
        else:
            edit, code, problem = self._replace_edit(run, document, parsed.code, plan is not None)
        return await self._deliver(base, job, edit, code, parsed.prose, problem, preview)

    def _annotated(self) -> bool:
        workspace = self._server.client_capabilities.workspace
        edit_caps = workspace.workspace_edit if workspace else None
        return bool(edit_caps and edit_caps.change_annotation_support is not None)

    def _replace_edit(
        self, run: ActionRun, document: TextDocument, reply_code: str, append: bool
    ) -> tuple[ActionEdit, str, str | None]:
        title = SPECS[run.job.kind].title
        language = run.prompt.language
        if append:  # Rust: tests go at the end of the same file
            code = (
                ("\n" if document.text.endswith("\n") else "\n\n") + reply_code.rstrip("\n") + "\n"
            )
            if not document.text.endswith("\n"):
                code = "\n" + code
            start = end = len(document.text)
        else:
            code = fit_code(reply_code, run.job.original)
            start, end = run.start, run.end
        new_text = document.text[:start] + code + document.text[end:]
        problem = syntax_problem(new_text, document.text, language)
        edit = ActionEdit(document.uri, document.version, _span(document, start, end), code, title)
        return edit, code, problem

    def _tests_edit(
        self, job: ActionJob, plan: TestPlan, reply_code: str
    ) -> tuple[ActionEdit, str, str | None]:
        uri = Path(plan.path).as_uri()
        open_document = self._host.store.documents.get(uri)
        existing = open_document.text if open_document else self._read(plan.path)
        title = SPECS[job.kind].title
        code = reply_code.rstrip("\n") + "\n"
        if existing is None:
            start = Pos(0, 0)
            edit = ActionEdit(uri, None, Span(start, start), code, title, create=True)
            problem = syntax_problem(code, "", job.prompt.language)
            return edit, code, problem
        target = open_document or TextDocument(uri, existing, 0, encoding=self._host.encoding)
        code = (
            ("\n\n" if existing.endswith("\n") else "\n\n\n") + code if existing.strip() else code
        )
        end = target.position_at(len(existing))
        version = open_document.version if open_document else None
        edit = ActionEdit(uri, version, Span(end, end), code, title)
        problem = syntax_problem(existing + code, existing, job.prompt.language)
        return edit, code, problem

    async def _deliver(
        self,
        base: dict[str, Any],
        job: ActionJob,
        action_edit: ActionEdit,
        code: str,
        prose: str,
        problem: str | None,
        preview: bool,
    ) -> dict[str, Any]:
        workspace = self._server.client_capabilities.workspace
        can_apply = bool(workspace and workspace.apply_edit)
        edit = action_lsp.workspace_edit(action_edit, self._annotated())
        if preview or problem is not None or not can_apply:
            status = "needsReview" if problem is not None else "preview"
            result = {**base, "edit": _converter.unstructure(edit), "text": code, "prose": prose}
            if problem is not None:
                result["problem"] = f"The edited code does not parse: {problem}"
            self._server.protocol.notify(ACTION_RESULT, result)
            message = result.get("problem") or "Ready for review"
            return {**base, "status": status, "message": message}
        answer = await self._server.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=edit, label=SPECS[job.kind].title)
        )
        if answer.applied:
            return {**base, "status": "applied", "message": "Applied"}
        reason = answer.failure_reason or "the editor did not apply the edit"
        return {**base, "status": "rejected", "message": f"Not applied: {reason}"}

    # -- redirect, edits, shutdown -------------------------------------------------------

    def redirect(self, params: Any) -> dict[str, Any]:
        wire = params if isinstance(params, dict) else getattr(params, "_asdict", dict)()
        action_id, instruction = wire.get("actionId"), wire.get("instruction")
        if not isinstance(action_id, str) or not isinstance(instruction, str):
            raise JsonRpcInvalidParams("ghostls/redirectAction takes {actionId, instruction}")
        return {"actionId": action_id, "redirected": self.runner.redirect(action_id, instruction)}

    def progress_cancelled(self, token: int | str) -> None:
        """`window/workDoneProgress/cancel`: pygls only knows a token once its own
        bookkeeping after the create round trip has run, so a quick cancel would be
        dropped there; the token names the action."""
        if isinstance(token, str) and token.startswith(PROGRESS_PREFIX):
            self.runner.stop(token[len(PROGRESS_PREFIX) :], "cancelled by the user")
        else:  # a client's own token (client-initiated progress)
            self.runner.stop_by_token(token, "cancelled by the user")

    def document_changed(self, uri: str, old: str, new: str) -> None:
        self.runner.document_changed(uri, old, new)

    async def aclose(self) -> None:
        await self.runner.aclose()
        own, self._own = self._own, None
        if own is not None:
            await _aclose(own)


def follow_request_cancellation(protocol: Any) -> None:
    """Make `$/cancelRequest` for `workspace/executeCommand` reach the command's task.

    pygls 2.1.1 runs executeCommand as a generator that starts the command handler as a
    separate task: cancelling the request cancels only the outer future (the client
    gets -32800) while the handler runs on. The outer future is registered right before
    the handler's task in `_request_futures` (insertion order), so it is found there and
    its cancellation forwarded. Call from the handler before its first `await`.
    """
    task = asyncio.current_task()
    futures = list(getattr(protocol, "_request_futures", {}).values())
    index = next((i for i, future in enumerate(futures) if future is task), 0)
    if task is None or index == 0:
        return
    outer = futures[index - 1]
    outer.add_done_callback(lambda done: task.cancel() if done.cancelled() else None)


def _diagnostic_lines(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    lines = []
    for item in value:
        if isinstance(item, dict) and isinstance(item.get("message"), str):
            line = item.get("line")
            where = f"line {line + 1}: " if isinstance(line, int) else ""
            lines.append(where + item["message"])
    return tuple(lines)


async def _aclose(backend: object) -> None:
    close = getattr(backend, "aclose", None)
    if close is not None:
        with contextlib.suppress(Exception):
            await close()
