"""The protocol edge of the stats (`stats`): the editor's notifications in, `ghostls/stats` out.

`ReportsEdge` owns one server's `Reports` and writes what it counted to the stats
file at most every `FLUSH_INTERVAL_S` seconds, at shutdown and at exit; `ghostls/stats`
answers the file's counts plus what is not written yet. Shapes: docs/protocol.md.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
from typing import Any

from pygls.lsp.server import LanguageServer

from lsp_server.edge.host import forward
from lsp_server.edge.stats import FLUSH_INTERVAL_S, Reports, StatsFile, stats_path

log = logging.getLogger(__name__)

DID_SHOW = "textDocument/didShowCompletion"
DID_PARTIALLY_ACCEPT = "textDocument/didPartiallyAcceptCompletion"
STATS_REQUEST = "ghostls/stats"


def plain(value: Any) -> Any:
    """pygls hands a method it has no type for its params as named tuples: JSON-like."""
    if hasattr(value, "_asdict"):
        return {key: plain(item) for key, item in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


class ReportsEdge:
    def __init__(self, file: StatsFile | None = None) -> None:
        self.core = Reports()
        self._file = file
        self._flush: asyncio.TimerHandle | None = None
        self._exit_hooked = False

    @property
    def file(self) -> StatsFile:
        if self._file is None:  # resolved late: the CLI's environment is final by then
            self._file = StatsFile(stats_path())
        return self._file

    # -- counting ---------------------------------------------------------------------

    def did_show(self, params: Any) -> None:
        if self.core.did_show(plain(params).get("item")):
            self._changed()

    def did_partially_accept(self, params: Any) -> None:
        wire = plain(params)
        if self.core.did_partially_accept(wire.get("item"), wire.get("acceptedLength")):
            self._changed()

    def accepted(self, item_id: str) -> None:
        self.core.did_accept(item_id)
        self._changed()

    def answered(self, item_id: str, text: str) -> None:
        self.core.answered(item_id, text)

    def latency(self, backend: str, ms: float) -> None:
        self.core.latency(backend, ms)
        self._changed()

    # -- the file ---------------------------------------------------------------------

    def _changed(self) -> None:
        if not self._exit_hooked:
            self._exit_hooked = True
            atexit.register(self.flush)
        if self._flush is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return  # not serving: flushed at exit
            self._flush = loop.call_later(FLUSH_INTERVAL_S, self.flush)

    def flush(self) -> None:
        """Write what is counted and not written yet (a failure keeps it for later)."""
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        delta = self.core.take_pending()
        if delta.empty():
            return
        try:
            self.file.add(delta)
        except OSError as error:
            log.warning("could not write %s: %s", self.file.path, error)
            self.core.pending = delta.plus(self.core.pending)

    def stats(self) -> dict[str, Any]:
        """`ghostls/stats`: this machine's counts, with this server's since it started."""
        total = self.file.read().plus(self.core.pending)
        wire = total.to_wire()
        wire["session"] = self.core.session.to_wire()
        wire["file"] = str(self.file.path)
        return wire


def register_reports(server: LanguageServer, reports: ReportsEdge) -> None:
    forward(server, DID_SHOW, reports.did_show)
    forward(server, DID_PARTIALLY_ACCEPT, reports.did_partially_accept)
    forward(server, STATS_REQUEST, lambda params: reports.stats())
