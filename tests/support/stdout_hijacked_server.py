"""`python -m lsp_server serve`, with file descriptor 1 pointed at /dev/null once the
session starts, as llama-cpp-python does while it loads a model (`verbose=False`)."""

from __future__ import annotations

import os
from typing import Any, BinaryIO

from lsp_server.cli.main import main
from lsp_server.transport import jsonrpc

_run_session = jsonrpc.run_session


async def run_session_with_stdout_hijacked(server: Any, stdin: BinaryIO, stdout: BinaryIO) -> int:
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    return await _run_session(server, stdin, stdout)


jsonrpc.run_session = run_session_with_stdout_hijacked
raise SystemExit(main(["serve"]))
