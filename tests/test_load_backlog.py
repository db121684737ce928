"""The backlog's rules (`lsp_server/transport/request_queue.py`) over real JSON-RPC.

Each burst is one write of fewer than `PIPE_BUF` bytes, so the server reads it in one
piece and its reader delivers it together: the rules see the later messages of the
burst before the earlier ones are dispatched, whatever the timing. `ghostls/debugInfo`
(`GHOSTLS_DEBUG=1`) says which rule answered what (`earlyAnswers`) and how many model
requests were started (`startedGenerations`), so "never ran" is checked, not assumed.
"""

from __future__ import annotations

import select
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from lsp_server.transport.framing import FrameReader
from tests.support.fake_backend import FakeBackend, Reply, Script
from tests.support.strict_client import RawServer, frame, inline_params, raw_server

DEBUG = {"GHOSTLS_DEBUG": "1"}
URI = "file:///w/calc.py"
OTHER = "file:///w/other.py"
TEXT = "def add(a, b):\n    "


def message(method: str, params: Any, msg_id: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
    if msg_id is not None:
        body["id"] = msg_id
    return body


def ask(server: RawServer, uri: str = URI, character: int = 4) -> dict[str, Any]:
    """An inline completion request, registered with the strict ledger, not yet sent."""
    msg_id = next(server._ids)
    server.ledger.request(msg_id, "textDocument/inlineCompletion")
    return message("textDocument/inlineCompletion", inline_params(uri, 1, character), msg_id)


def cancel(request: dict[str, Any]) -> dict[str, Any]:
    return message("$/cancelRequest", {"id": request["id"]})


def type_text(uri: str, version: int, character: int, text: str) -> dict[str, Any]:
    at = {"line": 1, "character": character}
    return message(
        "textDocument/didChange",
        {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": at, "end": at}, "text": text}],
        },
    )


def burst(server: RawServer, *messages: dict[str, Any]) -> None:
    data = b"".join(frame(m) for m in messages)
    assert len(data) < select.PIPE_BUF, "a burst must be one atomic pipe write"
    server.write(data)


@asynccontextmanager
async def debug_server(tmp: Path, script: Script) -> AsyncIterator[tuple[RawServer, FakeBackend]]:
    """A server with GHOSTLS_DEBUG on a model answering `script`, URI and OTHER open;
    the strict ledger is checked at the end."""
    with FakeBackend(script) as backend:
        async with raw_server(tmp, env=DEBUG) as server:
            await server.initialize(
                {"backend": {"kind": "openai", "url": backend.url, "model": "m"}}
            )
            server.open(URI, TEXT)
            server.open(OTHER, TEXT)
            yield server, backend
            server.check()


async def debug_info(server: RawServer) -> dict[str, Any]:
    result: dict[str, Any] = (await server.call("ghostls/debugInfo", {}))["result"]
    return result


def suggestion(reply: dict[str, Any]) -> str:
    items = reply["result"]["items"]
    assert len(items) == 1, reply
    text: str = items[0]["insertText"]
    return text


async def test_a_request_cancelled_in_the_same_write_never_runs(tmp_path: Path) -> None:
    async with debug_server(tmp_path, Script([Reply(text="return a + b")])) as (server, backend):
        doomed, live = ask(server), ask(server, OTHER)
        burst(server, doomed, cancel(doomed), live)
        assert (await server.response(doomed["id"]))["error"]["code"] == -32800
        assert suggestion(await server.response(live["id"])) == "return a + b"
        info = await debug_info(server)
        assert info["earlyAnswers"] == {"cancelled": 1}
        assert info["startedGenerations"] == 1  # the live request's only
        assert len(backend.completion_requests()) == 1


async def test_an_edit_behind_a_queued_request_answers_it_content_modified(
    tmp_path: Path,
) -> None:
    async with debug_server(tmp_path, Script([Reply(text="a + b")])) as (server, backend):
        stale = ask(server)
        fresh = ask(server, character=11)
        burst(server, stale, type_text(URI, 2, 4, "return "), fresh)
        assert (await server.response(stale["id"]))["error"]["code"] == -32801
        assert suggestion(await server.response(fresh["id"])) == "a + b"
        info = await debug_info(server)
        assert info["earlyAnswers"] == {"stale": 1}
        assert info["startedGenerations"] == 1
        (request,) = backend.completion_requests()
        assert "return " in request.prompt  # the edit was applied, not dropped


async def test_a_newer_request_for_the_document_supersedes_a_queued_one(
    tmp_path: Path,
) -> None:
    async with debug_server(tmp_path, Script([Reply(text="return a + b")])) as (server, _):
        old, other, new = ask(server), ask(server, OTHER), ask(server)
        burst(server, old, other, new)
        assert (await server.response(old["id"]))["result"] == {"items": []}
        assert suggestion(await server.response(new["id"])) == "return a + b"
        assert suggestion(await server.response(other["id"])) == "return a + b"
        info = await debug_info(server)
        # The other document's request is not superseded by this one's.
        assert info["earlyAnswers"] == {"superseded": 1}
        assert info["startedGenerations"] == 2


async def test_a_cancel_for_a_running_request_waits_behind_an_edit_of_its_document(
    tmp_path: Path,
) -> None:
    """Typing-through needs the edit before the cancel, so that cancel keeps its place;
    with no edit of its document queued, a cancel is handled at once."""
    slow = Script([Reply(text="return a + b")], ttft_ms=60_000)
    async with debug_server(tmp_path, slow) as (server, backend):
        first, second = ask(server), ask(server, OTHER)
        burst(server, first, second)
        assert backend.wait_for(lambda b: len(b.completion_requests()) == 2)
        burst(server, type_text(URI, 2, 4, "r"), cancel(first))
        # In order: the edit may already have ended it (-32801) before the cancel.
        assert (await server.response(first["id"]))["error"]["code"] in (-32800, -32801)
        assert (await debug_info(server))["earlyAnswers"] == {}
        burst(server, cancel(second))
        assert (await server.response(second["id"]))["error"]["code"] == -32800
        assert (await debug_info(server))["earlyAnswers"] == {"cancelAtOnce": 1}


def test_the_reader_knows_when_a_whole_frame_is_buffered() -> None:
    one, two = frame({"jsonrpc": "2.0", "method": "a"}), frame({"jsonrpc": "2.0", "method": "b"})
    chunks = [one + two + two[:10], two[10:]]
    reader = FrameReader(lambda size: chunks.pop(0) if chunks else b"")
    assert not reader.has_frame()  # nothing read yet
    assert reader.read() == {"jsonrpc": "2.0", "method": "a"}
    assert reader.has_frame()
    assert reader.read() == {"jsonrpc": "2.0", "method": "b"}
    assert not reader.has_frame()  # only the start of the third is buffered
    assert reader.read() == {"jsonrpc": "2.0", "method": "b"}
