"""The protocol edge: LSP messages in, calls into the pipeline, responses out.

Handlers are thin. Each takes a snapshot of what it needs before its first `await`
(document text and version, settings), calls the core, and turns the outcome into
exactly one response. A result computed for an older document version is answered
with `ContentModified`, never shown against the new text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcContentModified
from pygls.lsp.server import LanguageServer

from lsp_server import __version__
from lsp_server.actions.catalogue import RUN_ACTION_COMMAND
from lsp_server.backends.base import Backend
from lsp_server.backends.breaker import BreakerBackend
from lsp_server.backends.factory import create_backend
from lsp_server.backends.policy import check_backend, url_from_user
from lsp_server.completion.lifecycle import CompletionEngine, StatusEvent, Suggestion
from lsp_server.completion.pipeline import complete_snapshot
from lsp_server.completion.selected import selected_item_list, with_selected
from lsp_server.context.cursor import display_path
from lsp_server.context.hygiene import is_sensitive_path
from lsp_server.edge.action_lsp import CODE_ACTION_OPTIONS
from lsp_server.edge.actions import REDIRECT_ACTION, ActionService
from lsp_server.edge.debuginfo import log_allocations, register_debug
from lsp_server.edge.next_edit import NextEditService, register_next_edit
from lsp_server.edge.reports import ReportsEdge, register_reports
from lsp_server.errors import describe_error
from lsp_server.logsetup import remember_key_env
from lsp_server.protocol import (
    ACCEPTED_COMMAND,
    INLINE_COMPLETION_UPDATE,
    STATUS_NOTIFICATION,
    accepted_command,
    completion_item,
    inline_completion_list,
    replaced_end,
    status_params,
    update_params,
)
from lsp_server.settings import SettingsProblem, load_settings
from lsp_server.transport.jsonrpc import GhostlsProtocol
from lsp_server.workspace.document import Change, Pos, PositionEncoding, TextDocument
from lsp_server.workspace.snapshot import Snapshot
from lsp_server.workspace.store import WorkspaceStore

log = logging.getLogger(__name__)

# How long an early request waits for start-up (the workspace/configuration round trip).
STARTUP_WAIT_S = 5.0
# How long a request waits for the start-up probe of an HTTP backend (a few GETs).
PROBE_WAIT_S = 2.0


class GhostlsServer(LanguageServer):
    def __init__(self, cli_wire: dict[str, Any] | None = None) -> None:
        super().__init__(
            "ghostls",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=GhostlsProtocol,
        )
        self.cli_wire = cli_wire or {}
        self.init_wire: dict[str, Any] = {}
        self.config_wire: dict[str, Any] = {}
        self.settings, self._problems = load_settings(self.cli_wire)
        # Open documents, their syntax trees, places edited lately, the ignore rules.
        self.store = WorkspaceStore()
        self.encoding = PositionEncoding.UTF16
        self.backend: Backend | None = None
        self.engine: CompletionEngine | None = None
        self._told: set[str] = set()
        self._background: set[asyncio.Task[None]] = set()
        self.last_status: dict[str, Any] = {}
        # Set once the first backend exists: requests that arrive while `initialized`
        # still waits for workspace/configuration wait for it instead of failing.
        self.started = asyncio.Event()
        self.probing: asyncio.Task[None] | None = None
        self.actions = ActionService(self, self)
        self.next_edits = NextEditService(self, self)  # textDocument/copilotInlineEdit
        self.reports = ReportsEdge()  # didShow / partial and full accepts, ghostls/stats

    # -- settings ---------------------------------------------------------------------

    def reload_settings(self) -> bool:
        """Recompute settings from every layer; True when the backend must change."""
        old = self.settings
        self.settings, self._problems = load_settings(
            self.cli_wire, self.init_wire, self.config_wire
        )
        self.tell_problems(self._problems)
        return old.backend != self.settings.backend

    def tell_problems(self, problems: list[SettingsProblem]) -> None:
        for problem in problems:
            self.tell_once(str(problem), types.MessageType.Warning)

    def tell_once(self, message: str, kind: types.MessageType) -> None:
        """A message the user sees once per session, however often it recurs."""
        log.warning("%s", message)
        if message not in self._told:
            self._told.add(message)
            self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    # -- backend ----------------------------------------------------------------------

    async def start_backend(self) -> None:
        await self.stop_backend()
        try:
            remember_key_env(self.settings.backend.api_key_env)
            user_url = url_from_user(self.cli_wire, self.init_wire, self.config_wire)
            check_backend(self.settings.backend.kind, self.settings.backend.url, user_url)
            backend = create_backend(self.settings.backend, self._progress_sink())
            self.backend = BreakerBackend(backend)
        except Exception as error:
            self.send_status(StatusEvent("error", describe_error(error)))
            self.tell_once(describe_error(error), types.MessageType.Error)
            self.started.set()
            return
        self.engine = CompletionEngine(self.backend, on_status=self.send_status)
        self.started.set()
        self.spawn(self._prepare_backend(self.backend))
        self.probing = self.spawn(self._report_bad_configuration(self.backend))

    async def backend_ready(self) -> None:
        """Wait, within bounds, until start-up has made a backend and probed it.

        The probe must not overlap a generation: llama_cpp.server's `/v1/models` takes
        the model's lock, and a request waiting on that lock ends the stream in flight
        (its `interrupt_requests`), so the first suggestion came back empty."""
        if not self.started.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(STARTUP_WAIT_S):
                    await self.started.wait()
        if self.probing is not None and not self.probing.done():
            await asyncio.wait([self.probing], timeout=PROBE_WAIT_S)

    async def _report_bad_configuration(self, backend: Backend) -> None:
        """Probe an HTTP backend once; a configuration that will give bad results (an
        instruct model asked for FIM, a too-small context) is told once, with the fix."""
        if self.settings.backend.kind == "embedded":
            return  # the engine checks its own model while loading it
        from lsp_server.backends.probe import probe_backend

        try:
            report = await probe_backend(self.settings)
        except Exception:
            log.warning("backend probe failed", exc_info=True)
            return
        for message in report.bad_configuration():
            if backend is self.backend:
                self.tell_once(message, types.MessageType.Warning)
                self.send_status(StatusEvent("error", message))

    async def _prepare_backend(self, backend: Backend) -> None:
        self.send_status(StatusEvent("loading", backend.description))
        try:
            await backend.prepare()
        except Exception as error:
            if backend is self.backend:
                self.send_status(StatusEvent("error", describe_error(error)))
                self.tell_once(describe_error(error), types.MessageType.Error)
            return
        if backend is self.backend:
            self.send_status(StatusEvent("idle", "ready"))

    async def stop_backend(self) -> None:
        engine, backend = self.engine, self.backend
        self.engine = self.backend = None
        self.probing = None
        if engine is not None:
            await engine.aclose()
        if backend is not None:
            await backend.aclose()

    def _progress_sink(self) -> Any:
        loop = asyncio.get_running_loop()
        last = [-1]

        def on_progress(done: int, total: int) -> None:
            percent = int(done * 100 / total) if total else 0
            if percent != last[0]:  # called per chunk from a worker thread
                last[0] = percent
                loop.call_soon_threadsafe(
                    self.send_status, StatusEvent("downloading", f"{percent}%")
                )

        return on_progress

    def spawn(self, coroutine: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    # -- notifications to the client ----------------------------------------------------

    def send_status(self, event: StatusEvent) -> None:
        backend = self.backend
        if event.latency_ms is not None and backend is not None:
            self.reports.latency(backend.description, event.latency_ms)
        self.last_status = status_params(
            event,
            backend.description if backend else self.settings.backend.kind,
            backend.model_name if backend else self.settings.backend.model,
        )
        self.protocol.notify(STATUS_NOTIFICATION, self.last_status)

    def send_update(
        self,
        uri: str,
        version: int,
        position: types.Position,
        update: Suggestion,
        end: types.Position | None = None,
    ) -> None:
        self.reports.answered(update.item_id, update.text)
        self.protocol.notify(
            INLINE_COMPLETION_UPDATE, update_params(uri, version, position, update, end)
        )


server = GhostlsServer()
register_debug(server)  # ghostls/debugInfo, only with GHOSTLS_DEBUG=1
register_next_edit(
    server, server.next_edits
)  # textDocument/copilotInlineEdit (lsp_server/edge/next_edit)
register_reports(server, server.reports)  # textDocument/didShowCompletion, …, ghostls/stats


def create_server(cli_wire: dict[str, Any] | None = None) -> GhostlsServer:
    server.cli_wire = cli_wire or {}
    server.settings, problems = load_settings(server.cli_wire)
    server._problems = problems
    return server


def negotiated_encoding(chosen: types.PositionEncodingKind | str | None) -> PositionEncoding:
    """pygls picks the client's first supported encoding; mirror it in our documents."""
    value = chosen.value if isinstance(chosen, types.PositionEncodingKind) else chosen
    return PositionEncoding(value or "utf-16")


# -- lifecycle ---------------------------------------------------------------------------


@server.feature(types.INITIALIZE)
def initialize(ls: GhostlsServer, params: types.InitializeParams) -> None:
    options = params.initialization_options
    ls.init_wire = options if isinstance(options, dict) else {}
    ls.encoding = negotiated_encoding(ls.workspace.position_encoding)
    ls.settings, ls._problems = load_settings(ls.cli_wire, ls.init_wire)
    text_document = params.capabilities.text_document
    if text_document is None or text_document.inline_completion is None:
        # Only editors without inline completion get the suggestion as a completion
        # item; the others would show it twice (ghost text and the suggest widget).
        ls.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions())(completion)


@server.feature(types.INITIALIZED)
async def initialized(ls: GhostlsServer, params: types.InitializedParams) -> None:
    ls.tell_problems(ls._problems)
    changed = await pull_configuration(ls)
    # A `didChangeConfiguration` the editor sent meanwhile (Neovim sends one at start)
    # may have started the backend with these very settings: no second start, which
    # would flip the status back to "loading" after it said "ready".
    if changed or ls.backend is None:
        await ls.start_backend()


async def pull_configuration(ls: GhostlsServer) -> bool:
    """Ask the client for section `ghostls` when it can answer; True if the backend changed."""
    workspace = ls.client_capabilities.workspace
    if workspace is None or not workspace.configuration:
        return False
    try:
        items = [types.ConfigurationItem(section="ghostls")]
        result = await ls.workspace_configuration_async(types.ConfigurationParams(items=items))
    except Exception as error:
        log.warning("workspace/configuration failed: %s", error)
        return False
    first = result[0] if result else None
    ls.config_wire = first if isinstance(first, dict) else {}
    return ls.reload_settings()


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(
    ls: GhostlsServer, params: types.DidChangeConfigurationParams
) -> None:
    pushed = params.settings.get("ghostls") if isinstance(params.settings, dict) else None
    if isinstance(pushed, dict):
        ls.config_wire = pushed
        changed = ls.reload_settings()
    else:
        changed = await pull_configuration(ls)
    if changed or ls.backend is None:
        await ls.start_backend()


@server.feature(types.SHUTDOWN)
async def shutdown(ls: GhostlsServer, params: None) -> None:
    await ls.actions.aclose()
    await ls.next_edits.aclose()
    await ls.stop_backend()
    ls.reports.flush()
    log_allocations(ls)


# -- documents ----------------------------------------------------------------------------


def _pos(position: types.Position) -> Pos:
    return Pos(position.line, position.character)


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: GhostlsServer, params: types.DidOpenTextDocumentParams) -> None:
    item = params.text_document
    ls.store.open(item.uri, item.text, item.version, item.language_id, ls.encoding)
    ls.next_edits.document_opened(item.uri, item.text)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: GhostlsServer, params: types.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    changes = [
        Change(change.text, _pos(change.range.start), _pos(change.range.end))
        if isinstance(change, types.TextDocumentContentChangePartial)
        else Change(change.text)
        for change in params.content_changes
    ]
    changed = ls.store.change(uri, changes, params.text_document.version)
    if changed is None:
        log.warning("didChange for a document that is not open: %s", uri)
        return
    text = changed.document.text
    ls.actions.document_changed(uri, changed.before, text)
    ls.next_edits.document_changed(uri, changed.before, text)
    for note in changed.outcome.clamped:
        log.warning("didChange %s clamped: %s", uri, note)
    if ls.engine is not None:
        ls.engine.document_changed(uri, text)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: GhostlsServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.store.close(params.text_document.uri)
    ls.next_edits.document_closed(params.text_document.uri)
    if ls.engine is not None:
        ls.engine.document_closed(params.text_document.uri)


# -- completions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EditorRequest:
    """A completion request as it came in, taken before the handler's first `await`:
    the document as the editor has it (`live`, a copy; `current` is the store's object,
    kept only to tell at the end whether it changed meanwhile), the snapshot the
    suggestion is computed from, and where the selected suggest-widget item ends."""

    current: TextDocument
    live: TextDocument
    snapshot: Snapshot
    item_end: int


def take_request(
    ls: GhostlsServer,
    uri: str,
    position: types.Position,
    streaming: bool,
    selected: types.SelectedCompletionInfo | None = None,
) -> EditorRequest | None:
    """With `selected` (the editor's suggest widget item), the suggestion is for the
    text with that item applied. None for a document that is not open or must never
    reach a model (.env, keys)."""
    current = ls.store.documents.get(uri)
    if current is None or is_sensitive_path(display_path(uri)):
        return None
    live = current.copy()
    document, offset, item_end = live, live.offset_at(_pos(position)), 0
    if selected is not None:
        document, offset, item_end = with_selected(live, selected)
    root = ls.workspace.root_path or ""
    snapshot = ls.store.snapshot(document, offset, root, ls.settings, streaming)
    return EditorRequest(current, live, snapshot, item_end)


async def _suggest(
    ls: GhostlsServer,
    request: EditorRequest | None,
    position: types.Position,
    streaming: bool,
    selected: bool = False,
) -> Suggestion | None:
    """Run the snapshot through the pipeline, and check the answer is still for the
    current text. A suggestion for a selected item is not streamed (its updates would
    not match)."""
    await ls.backend_ready()
    engine, backend = ls.engine, ls.backend
    if request is None or engine is None or backend is None:
        return None
    snapshot = request.snapshot
    document, offset, uri = snapshot.document, snapshot.offset, snapshot.document.uri
    version = document.version

    # An update must reach the editor after the answer it updates, or the editor
    # shows the (shorter) answer last. The answer is written when this handler's task
    # finishes (pygls's done callback, registered before the handler ran), and chunks
    # the backend already sent can be cut before that: such updates wait, the latest
    # one is sent right after the answer.
    answered = False
    held: list[Suggestion] = []

    def on_update(update: Suggestion) -> None:
        if not answered:
            held[:] = [update]
            return
        ls.send_update(uri, version, position, update, replaced_end(document, offset, update))

    def release(task: asyncio.Task[Any]) -> None:
        nonlocal answered
        answered = True
        if held and not task.cancelled() and task.exception() is None:
            on_update(held.pop())

    updates = on_update if streaming and not selected else None
    suggestion = await complete_snapshot(engine, backend, snapshot, updates)
    current = ls.store.documents.get(uri)
    if current is not request.current or current.version != version:
        raise JsonRpcContentModified(f"{uri} changed while the suggestion was computed")
    task = asyncio.current_task()
    if task is None:
        answered = True  # not run as a request's task: nothing to wait for
    else:
        task.add_done_callback(release)
    return suggestion


@server.feature(
    types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions(work_done_progress=False)
)
async def inline_completion(
    ls: GhostlsServer, params: types.InlineCompletionParams
) -> types.InlineCompletionList | None:
    streaming = ls.settings.streaming
    selected = params.context.selected_completion_info if params.context else None
    request = take_request(ls, params.text_document.uri, params.position, streaming, selected)
    suggestion = await _suggest(ls, request, params.position, streaming, selected is not None)
    if request is None or suggestion is None:
        return types.InlineCompletionList(items=[])
    ls.reports.answered(suggestion.item_id, suggestion.text)
    if selected is not None:
        command = accepted_command(suggestion)
        return selected_item_list(request.live, selected, request.item_end, suggestion, command)
    snapshot = request.snapshot
    end = replaced_end(snapshot.document, snapshot.offset, suggestion)
    return inline_completion_list(suggestion, params.position, end)


async def completion(ls: GhostlsServer, params: types.CompletionParams) -> types.CompletionList:
    request = take_request(ls, params.text_document.uri, params.position, streaming=False)
    suggestion = await _suggest(ls, request, params.position, streaming=False)
    if request is None or suggestion is None:
        return types.CompletionList(is_incomplete=True, items=[])
    ls.reports.answered(suggestion.item_id, suggestion.text)
    document, offset = request.snapshot.document, request.snapshot.offset
    return types.CompletionList(
        is_incomplete=True, items=[completion_item(document, offset, params.position, suggestion)]
    )


@server.command(ACCEPTED_COMMAND)
def accepted(ls: GhostlsServer, *args: Any) -> None:
    log.info("suggestion accepted: %s", args)
    if args and isinstance(args[0], str):
        ls.reports.accepted(args[0])
        prefetch_next(ls, args[0])


def prefetch_next(ls: GhostlsServer, item_id: str) -> None:
    """Ask for the suggestion after an accepted one, as if its text were typed."""
    engine, backend = ls.engine, ls.backend
    target = engine.accepted(item_id) if engine is not None else None
    if engine is None or backend is None or target is None:
        return
    uri, prefix, suffix = target
    document = ls.store.documents.get(uri)
    if document is None or is_sensitive_path(display_path(uri)):
        return
    future = TextDocument(uri, prefix + suffix, document.version, document.language_id)
    root = ls.workspace.root_path or ""
    streaming = ls.settings.streaming
    # Parsed here, so scopes and the multi-line decision are the editor's.
    snapshot = ls.store.snapshot(future, len(prefix), root, ls.settings, streaming, detached=True)
    complete_snapshot(engine, backend, snapshot, prefetch=True)


# -- code actions (lsp_server/actions) ------------------------------------------------------


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION, CODE_ACTION_OPTIONS)
def code_action(ls: GhostlsServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
    return ls.actions.code_actions(params)


@server.command(RUN_ACTION_COMMAND)
async def run_action(ls: GhostlsServer, *args: Any) -> dict[str, Any]:
    return await ls.actions.run(args)


@server.feature(REDIRECT_ACTION)
def redirect_action(ls: GhostlsServer, params: Any) -> dict[str, Any]:
    return ls.actions.redirect(params)


@server.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
def work_done_progress_cancel(
    ls: GhostlsServer, params: types.WorkDoneProgressCancelParams
) -> None:
    ls.actions.progress_cancelled(params.token)
