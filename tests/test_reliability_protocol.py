"""One response per request, whatever arrives (RELIABILITY.md cases 2, 9, 10, 11, 16).

Each test drives the real server over raw stdio bytes (`RawServer`), so it can send
what no well-behaved client would; `check()` fails on a missing, duplicate or
unconsumed response.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.fake_backend import FakeBackend, Reply, Script
from tests.support.lsp import openai_options, running_server, server_env
from tests.support.strict_client import frame, inline_params, raw_server, stderr_text

URI = "file:///w/a.py"
SOURCE = "x = 1\n"


async def test_invalid_params_get_32602_and_unknown_methods_32601(tmp_path: Path) -> None:
    async with raw_server(tmp_path) as server:
        await server.initialize()
        missing = await server.call("textDocument/inlineCompletion", {"textDocument": {"uri": URI}})
        mistyped = await server.call(
            "textDocument/inlineCompletion", {**inline_params(URI), "position": "start"}
        )
        unknown = await server.call("ghostls/noSuchMethod", {})
        assert missing["error"]["code"] == -32602
        assert "position" in missing["error"]["message"]
        assert mistyped["error"]["code"] == -32602
        assert unknown["error"]["code"] == -32601
        assert "data" not in missing["error"]
        await server.finish()


async def test_malformed_json_is_answered_and_the_server_keeps_serving(tmp_path: Path) -> None:
    async with raw_server(tmp_path) as server:
        await server.initialize()
        server.write(frame(b'{"jsonrpc": "2.0", "id": 99, "method": '))
        server.write(frame(b"[1, 2, 3]"))
        await server.wait_until(lambda: len(server.responses.get(None, [])) == 2)
        codes = sorted(reply["error"]["code"] for reply in server.null_responses())
        assert codes == [-32700, -32600]
        server.open(URI, SOURCE)
        assert "result" in await server.call("textDocument/inlineCompletion", inline_params(URI))
        await server.finish()


async def test_bad_and_huge_content_length_are_skipped(tmp_path: Path) -> None:
    async with raw_server(tmp_path) as server:
        await server.initialize()
        server.write(b"Content-Length: banana\r\n\r\n")
        server.write(b"Content-Length: -5\r\n\r\n")
        huge = 65 * 1024 * 1024  # over MAX_MESSAGE_BYTES: discarded, never held
        server.write(b"Content-Length: %d\r\n\r\n" % huge)
        server.write(b" " * huge)
        # A length too long swallows the next frame; the reader splits it again.
        body = json.dumps({"jsonrpc": "2.0", "id": "after", "method": "shutdown"}).encode()
        server.write(b"Content-Length: 500\r\n\r\n{}" + frame(body) + b" " * 600)
        server.ledger.request("after", "shutdown")
        reply = await server.response("after", limit_s=60)
        assert reply["result"] is None
        await server.wait_until(lambda: None in server.responses)
        assert [reply["error"]["code"] for reply in server.null_responses()] == [-32700]
        await server.exit()


async def test_a_truncated_body_ends_the_session_quietly(tmp_path: Path) -> None:
    async with raw_server(tmp_path) as server:
        await server.initialize()
        server.write(b'Content-Length: 100\r\n\r\n{"jsonrpc": "2.0"')
        assert server.process.stdin is not None
        server.process.stdin.close()
        assert await server.wait_exit() == 1
        assert "Traceback" not in await stderr_text(server)
        server.check()


async def test_a_cancel_for_unknown_finished_or_repeated_ids_adds_no_response(
    tmp_path: Path,
) -> None:
    with FakeBackend(Script([Reply(text="y = 2")])) as backend:
        async with raw_server(tmp_path) as server:
            await server.initialize({"backend": {"kind": "openai", "url": backend.url}})
            server.open(URI, SOURCE)
            done = server.request("textDocument/inlineCompletion", inline_params(URI, 1, 0))
            await server.response(done)
            for msg_id in ("never-sent", done, done, 12345):
                server.notify("$/cancelRequest", {"id": msg_id})
            await server.finish()
            assert len(server.responses[done]) == 1


async def test_requests_after_shutdown_get_32600_and_exit_codes_follow_the_spec(
    tmp_path: Path,
) -> None:
    async with raw_server(tmp_path) as server:
        await server.initialize()
        assert (await server.call("shutdown"))["result"] is None
        late = await server.call("textDocument/inlineCompletion", inline_params(URI))
        assert late["error"]["code"] == -32600
        await server.exit()
    async with raw_server(tmp_path) as server:
        await server.initialize()
        await server.exit(1)


async def test_end_of_input_ends_the_process(tmp_path: Path) -> None:
    async with raw_server(tmp_path) as server:
        await server.initialize()
        assert server.process.stdin is not None
        server.process.stdin.close()
        assert await server.wait_exit(limit_s=10) == 1
        server.check()


async def test_shutdown_during_a_stream_answers_every_pending_request(tmp_path: Path) -> None:
    script = Script([Reply(text="a b c d e f g h", fault="stall", stall_after=2)])
    with FakeBackend(script) as backend:
        async with raw_server(tmp_path) as server:
            await server.initialize({"backend": {"kind": "openai", "url": backend.url}})
            server.open(URI, SOURCE)
            pending = server.request("textDocument/inlineCompletion", inline_params(URI, 1, 0))
            await server.wait_until(lambda: bool(backend.completion_requests()))
            assert (await server.call("shutdown"))["result"] is None
            reply = await server.response(pending)
            assert "result" in reply or reply["error"]["code"] in (-32800, -32801)
            await server.exit()


def test_the_server_leaves_when_the_editor_process_dies(tmp_path: Path) -> None:
    """`initialize.processId` is watched: the server exits when that process is gone,
    even with its stdin still open."""
    parent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    server = subprocess.Popen(
        [sys.executable, "-m", "lsp_server", "serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=server_env(tmp_path),
    )
    try:
        init = {"processId": parent.pid, "capabilities": {}}
        assert server.stdin is not None
        server.stdin.write(
            frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init})
        )
        server.stdin.flush()
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        assert server.wait(timeout=15) == 1
    finally:
        for process in (server, parent):
            if process.poll() is None:
                process.kill()
                process.wait()
        if server.stdin is not None:
            server.stdin.close()


async def test_a_failing_handler_answers_32603_without_traceback_or_popup(tmp_path: Path) -> None:
    """A command handler that raises (`ghostls.accepted` with arguments it cannot log is
    not enough, so a notification with a handler error and an execute-command for an
    unknown command are used): short error, no traceback, no pop-up."""
    async with raw_server(tmp_path) as server:
        await server.initialize()
        reply = await server.call(
            "workspace/executeCommand", {"command": "ghostls.noSuchCommand", "arguments": []}
        )
        assert "error" in reply
        assert "Traceback" not in json.dumps(reply)
        assert "data" not in reply["error"]
        server.notify("textDocument/didClose", {"textDocument": {"uri": "file:///nope"}})
        server.notify("textDocument/didChange", {"textDocument": {"uri": 5}})
        await server.finish()
        assert not [n for n in server.notifications if n["method"] == "window/showMessage"]


async def test_the_protocol_survives_descriptor_1_pointed_at_dev_null(tmp_path: Path) -> None:
    """llama-cpp-python points file descriptor 1 at /dev/null while it loads a model:
    a message the server wrote meanwhile was lost (an action's progress request, seen
    in CI). The protocol writes to its own copy of standard output."""
    with FakeBackend(Script([Reply(text="return a + b")])) as backend:
        hijacked = ("-m", "tests.support.stdout_hijacked_server")
        async with (
            asyncio.timeout(60),  # without the fix the editor never hears back
            running_server(tmp_path, openai_options(backend.url), command=hijacked) as session,
        ):
            session.open(URI, "def add(a, b):\n    \n")
            result = await session.inline(URI, 1, 4)
            assert [item.insert_text for item in result.items] == ["return a + b"]
