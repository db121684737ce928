"""`ghostls/debugInfo`: what the server holds, for benchmarks and leak hunts.

Only registered when the environment has `GHOSTLS_DEBUG=1`; editors never see it.
The reply (all counts, no text, so nothing of the user's code or keys leaves):

- `rssKb` / `hwmKb`: the process's resident set and its high-water mark
  (`/proc/self/status`);
- `tasks`: live asyncio tasks other than the one answering, and `taskNames`: how many
  of each coroutine (to tell a leak from the session's own reader/watcher tasks);
- `threads`, `documents`, `syntaxTrees`, `recentEdits`, `told`, `background`,
  `pendingFutures` (pygls's futures of requests the server sent) and the completion
  engine's `live` / `recent` / `tickets` / `latencyBackends`;
- `generations`: the embedded engine's last generations (prompt tokens, cached prompt
  tokens, tokens generated, whether they ran out of `maxTokens`);
- with `GHOSTLS_TRACEMALLOC=1` (tracing from start-up) and params `{"top": N}`:
  `tracedKb` and `growth`, the N source lines whose traced memory grew most since the
  previous such request (the first one compares with start-up).

With `GHOSTLS_TRACEMALLOC=1` the server also logs the top allocations at DEBUG when
the session ends.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import threading
import tracemalloc
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEBUG_INFO = "ghostls/debugInfo"
TRACE_FRAMES = 1


def enabled() -> bool:
    return os.environ.get("GHOSTLS_DEBUG") == "1"


def tracing() -> bool:
    return os.environ.get("GHOSTLS_TRACEMALLOC") == "1"


def _status_kb(field: str) -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class _Tracer:
    def __init__(self) -> None:
        tracemalloc.start(TRACE_FRAMES)
        self.last = tracemalloc.take_snapshot()

    @staticmethod
    def _filtered(snapshot: tracemalloc.Snapshot) -> tracemalloc.Snapshot:
        return snapshot.filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<*>")]
        )

    def growth(self, top: int) -> list[dict[str, Any]]:
        snapshot = tracemalloc.take_snapshot()
        stats = self._filtered(snapshot).compare_to(self._filtered(self.last), "lineno")
        self.last = snapshot
        return [
            {
                "where": f"{stat.traceback[0].filename}:{stat.traceback[0].lineno}",
                "kb": round(stat.size_diff / 1024, 1),
                "count": stat.count_diff,
            }
            for stat in stats[:top]
        ]

    def log_top(self, top: int = 25) -> None:
        stats = self._filtered(tracemalloc.take_snapshot()).statistics("lineno")
        for stat in stats[:top]:
            log.debug("tracemalloc: %s", stat)


def _task_name(task: asyncio.Task[Any]) -> str:
    coroutine = task.get_coro()
    return getattr(coroutine, "__qualname__", None) or type(coroutine).__name__


def debug_info(server: Any, tracer: _Tracer | None, params: Any) -> dict[str, Any]:
    current = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not current]
    engine = getattr(server, "engine", None)
    info: dict[str, Any] = {
        "rssKb": _status_kb("VmRSS"),
        "hwmKb": _status_kb("VmHWM"),
        "tasks": len(tasks),
        "taskNames": dict(collections.Counter(_task_name(task) for task in tasks)),
        "threads": threading.active_count(),
        "documents": len(server.store.documents),
        "syntaxTrees": len(server.store.syntax.documents),
        "recentEdits": len(server.store.recent_edits.places),
        "told": len(server._told),
        "background": len(server._background),
        "pendingFutures": len(server.protocol._request_futures),
        "pendingSample": [
            f"{key!r}: {type(future).__name__} done={future.done()}"
            for key, future in list(server.protocol._request_futures.items())[:5]
        ],
    }
    if engine is not None:
        info.update(engine.debug_counts())
        info["startedGenerations"] = engine.started_generations
    info["earlyAnswers"] = dict(getattr(server.protocol, "early_answers", {}))
    info["generations"] = _generations(getattr(server, "backend", None))
    wire = params if isinstance(params, dict) else getattr(params, "_asdict", dict)()
    top = wire.get("top") if isinstance(wire, dict) else None
    if tracer is not None:
        info["tracedKb"] = tracemalloc.get_traced_memory()[0] // 1024
        if isinstance(top, int) and top > 0:
            info["growth"] = tracer.growth(top)
    return info


def _generations(backend: Any) -> list[dict[str, Any]]:
    """The embedded engine's last generations, counts only (`EmbeddedBackend.history`):
    prompt tokens, how many came from the KV cache, tokens generated, how it ended."""
    history = getattr(backend, "history", None) if backend is not None else None
    if not history:
        return []
    return [
        {
            "seq": seq,
            "promptTokens": stats.prompt_tokens,
            "cachedPromptTokens": stats.cached_prompt_tokens,
            "evaluatedPromptTokens": stats.extra.get("evaluated_prompt_tokens"),
            "promptEvalS": stats.extra.get("prompt_eval_s"),
            "generatedTokens": stats.extra.get("generated_tokens"),
            "ranOut": end.ran_out,
        }
        for seq, stats, end in list(history)
    ]


def register_debug(server: Any) -> None:
    """Add `ghostls/debugInfo` to `server` when `GHOSTLS_DEBUG=1`."""
    if not enabled():
        return
    tracer = _Tracer() if tracing() else None

    @server.feature(DEBUG_INFO)  # type: ignore[untyped-decorator]
    def handle(ls: Any, params: Any) -> dict[str, Any]:
        return debug_info(ls, tracer, params)

    if tracer is not None:
        server.debug_tracer = tracer


def log_allocations(server: Any) -> None:
    """At the end of a session with `GHOSTLS_TRACEMALLOC=1`: the top allocations."""
    tracer = getattr(server, "debug_tracer", None)
    if tracer is not None:
        tracer.log_top()
