"""No state grows with the number of keystrokes (the storm figures of issue 8).

The real server over raw stdio with `GHOSTLS_DEBUG=1`, read back through
`ghostls/debugInfo`: after a burst of edits and completions every per-message future
is gone and the task count is back to idle; after `didClose` nothing is kept for the
document. (RSS figures are in `bench/bench_reliability.py`, not here.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.fake_backend import FakeBackend, Reply, Script
from tests.support.strict_client import RawServer, inline_params, raw_server

DEBUG = {"GHOSTLS_DEBUG": "1"}


def uri_of(n: int) -> str:
    return f"file:///w/doc{n}.py"


def open_doc(server: RawServer, uri: str) -> None:
    server.open(uri, "def f():\n    ")


def type_and_ask(server: RawServer, uri: str, version: int) -> Any:
    at = {"line": 1, "character": 4 + version - 2}
    server.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": at, "end": at}, "text": "x"}],
        },
    )
    return server.request(
        "textDocument/inlineCompletion", inline_params(uri, 1, at["character"] + 1)
    )


async def info(server: RawServer) -> dict[str, Any]:
    reply = await server.call("ghostls/debugInfo", {})
    result: dict[str, Any] = reply["result"]
    return result


async def idle_info(server: RawServer, tasks: int) -> dict[str, Any]:
    """debugInfo once no generation or background job (start-up probe) runs and the
    task count is back to `tasks` (or the
    last reading after 200 tries, for the assertion to report)."""
    for _ in range(200):
        found = await info(server)
        if found["generating"] == found["background"] == 0 and found["tasks"] <= tasks:
            return found
    return found


async def test_keystrokes_leave_no_futures_tasks_or_state_behind(tmp_path: Path) -> None:
    with FakeBackend(Script([Reply(text="return 1")])) as backend:
        async with raw_server(tmp_path, env=DEBUG) as server:
            await server.initialize(
                {"backend": {"kind": "openai", "url": backend.url, "model": "m"}}
            )
            uris = [uri_of(n) for n in range(3)]
            for uri in uris:
                open_doc(server, uri)
            await server.call("ghostls/debugInfo", {})  # the backend has started
            baseline = await idle_info(server, tasks=10**6)
            ids = [type_and_ask(server, uri, version) for version in range(2, 32) for uri in uris]
            for msg_id in ids:
                await server.response(msg_id, limit_s=30)
            after = await idle_info(server, baseline["tasks"])
            # One future per didChange was kept by pygls forever before the fix.
            assert after["pendingFutures"] == 0, after["pendingSample"]
            assert after["taskNames"] == baseline["taskNames"]
            assert after["live"] <= len(uris) and after["tickets"] == len(uris)
            assert after["recent"] <= 8
            for uri in uris:
                server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
            closed = await idle_info(server, baseline["tasks"])
            assert closed["documents"] == closed["syntaxTrees"] == closed["recentEdits"] == 0
            assert closed["live"] == closed["tickets"] == 0
            assert closed["pendingFutures"] == 0
            await server.finish()


async def test_debug_info_only_exists_when_asked_for(tmp_path: Path) -> None:
    async with raw_server(tmp_path) as server:
        await server.initialize()
        reply = await server.call("ghostls/debugInfo", {})
        assert reply["error"]["code"] == -32601
        await server.finish()


async def test_a_flood_past_the_read_backlog_is_answered_in_full(tmp_path: Path) -> None:
    """The reader pauses when `MAX_BACKLOG_FRAMES` messages wait; nothing is lost."""
    from lsp_server.transport.jsonrpc import MAX_BACKLOG_FRAMES

    async with raw_server(tmp_path) as server:
        await server.initialize()
        open_doc(server, uri_of(0))
        ids = [type_and_ask(server, uri_of(0), version) for version in range(2, 800)]
        ids += [server.request("ghostls/noSuchMethod", {}) for _ in range(MAX_BACKLOG_FRAMES)]
        assert len(ids) > 3 * MAX_BACKLOG_FRAMES
        for msg_id in ids:
            await server.response(msg_id, limit_s=60)
        text = await server.call("ghostls/noSuchMethod", {})
        assert text["error"]["code"] == -32601
        await server.finish()
