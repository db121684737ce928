"""The ghostls language server: its settings, its backend and engine, the workspace
store and the editor-facing services, and the notifications it sends. The handlers
(`edge/handlers/`) act on it; `edge/server.py` registers them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from lsp_server import __version__
from lsp_server.backends.base import Backend
from lsp_server.backends.breaker import BreakerBackend
from lsp_server.backends.factory import create_backend
from lsp_server.backends.policy import check_backend, url_from_user
from lsp_server.completion.lifecycle import CompletionEngine, StatusEvent, Suggestion
from lsp_server.edge.actions import ActionService
from lsp_server.edge.next_edit import NextEditService
from lsp_server.edge.replies import (
    INLINE_COMPLETION_UPDATE,
    STATUS_NOTIFICATION,
    status_params,
    update_params,
)
from lsp_server.edge.reports import ReportsEdge
from lsp_server.errors import describe_error
from lsp_server.logsetup import remember_key_env
from lsp_server.settings import SettingsProblem, load_settings
from lsp_server.transport.jsonrpc import GhostlsProtocol
from lsp_server.workspace.document import PositionEncoding
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
        placement: tuple[types.Range, str] | None = None,
    ) -> None:
        self.reports.answered(update.item_id, update.text)
        self.protocol.notify(
            INLINE_COMPLETION_UPDATE, update_params(uri, version, position, update, placement)
        )
