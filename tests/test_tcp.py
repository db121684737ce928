"""`ghostls serve --tcp`: an editor that connects instead of spawning gets the same
session as over stdio — our JSON-RPC guards included, and the exit code."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, BinaryIO

from tests.support.lsp import server_env
from tests.support.strict_client import frame


def read_message(stream: BinaryIO) -> dict[str, Any]:
    length = None
    while (line := stream.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    assert length is not None, "the server closed the connection"
    message: dict[str, Any] = json.loads(stream.read(length))
    return message


def response(stream: BinaryIO, msg_id: int) -> dict[str, Any]:
    """The response to `msg_id`, past the notifications the server sends meanwhile."""
    while True:
        message = read_message(stream)
        if message.get("id") == msg_id and "method" not in message:
            return message


def test_an_editor_on_tcp_gets_the_guarded_session_and_the_exit_code(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "lsp_server", "serve", "--tcp", "127.0.0.1:0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=server_env(tmp_path),
    )
    try:
        assert process.stderr is not None
        while b"listening on" not in (line := process.stderr.readline()):
            assert line, "the server ended before it listened"
        port = int(line.rsplit(b":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=20) as connection:
            stream = connection.makefile("rwb", buffering=0)
            send = connection.sendall
            # Invalid params: our guard answers -32602 (pygls alone would not).
            send(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}))
            assert response(stream, 1)["error"]["code"] == -32602
            initialize = {"processId": None, "capabilities": {}, "initializationOptions": {}}
            send(frame({"jsonrpc": "2.0", "id": 2, "method": "initialize", "params": initialize}))
            assert "inlineCompletionProvider" in response(stream, 2)["result"]["capabilities"]
            send(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
            send(frame({"jsonrpc": "2.0", "id": 3, "method": "shutdown"}))
            assert response(stream, 3)["result"] is None
            send(frame({"jsonrpc": "2.0", "method": "exit"}))
            assert process.wait(timeout=20) == 0
    finally:
        process.kill()
        process.wait()
        if process.stderr is not None:
            process.stderr.close()
