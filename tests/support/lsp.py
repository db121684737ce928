"""Drive the real server over stdio with a real LSP client (pytest-lsp).

`running_server(...)` starts `python -m lsp_server serve` as a subprocess, initializes
it with the given options and capabilities, records ghostls's own notifications, and
shuts it down cleanly at the end (asserting a clean exit).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import make_test_lsp_client

from lsp_server.edge.reports import plain  # pygls named tuples → JSON-like

REPO = Path(__file__).resolve().parents[2]
_ids = itertools.count(1)


def capabilities(
    inline: bool = True, encodings: list[str] | None = None, editor: str = "visual-studio-code"
) -> types.ClientCapabilities:
    caps = client_capabilities(editor)
    if inline:
        assert caps.text_document is not None
        caps.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    if encodings is not None:
        caps.general = types.GeneralClientCapabilities(position_encodings=encodings)
    return caps


def server_env(tmp: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """A clean environment: no GHOSTLS_* from the caller, caches in `tmp`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GHOSTLS_", "HF_"))}
    env.update(
        GHOSTLS_CACHE_DIR=str(tmp / "cache"),
        HF_HOME=str(tmp / "hf"),
        PYTHONPATH=str(REPO),
    )
    env.update(extra or {})
    return env


@dataclass
class Session:
    client: LanguageClient
    statuses: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    versions: dict[str, int] = field(default_factory=dict)

    def _record(self, bucket: list[dict[str, Any]], params: Any) -> None:
        bucket.append(params if isinstance(params, dict) else plain(params))
        self._changed.set()

    def record(self, method: str, bucket: list[dict[str, Any]]) -> None:
        """Append the params of every `method` notification to `bucket` (as plain JSON),
        waking `wait_until`."""

        @self.client.feature(method)
        def on_notification(params: Any) -> None:
            self._record(bucket, params)

    async def wait_until(self, predicate: Any, limit_s: float = 10.0) -> None:
        """Wait (woken by each notification) until `predicate()` holds."""
        async with asyncio.timeout(limit_s):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

    # -- documents ------------------------------------------------------------------

    def open(self, uri: str, text: str, language: str = "python") -> None:
        self.versions[uri] = 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, language, 1, text))
        )

    def type_text(self, uri: str, line: int, character: int, text: str) -> None:
        """Insert `text` at a position, as one incremental change."""
        self.versions[uri] += 1
        position = types.Position(line, character)
        change = types.TextDocumentContentChangePartial(types.Range(position, position), text)
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
                [change],
            )
        )

    def inline(self, uri: str, line: int, character: int) -> asyncio.Future[Any]:
        """Send an inline completion request now; the future has `.msg_id` for cancels."""
        msg_id = f"inline-{next(_ids)}"
        params = types.InlineCompletionParams(
            context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Automatic),
            text_document=types.TextDocumentIdentifier(uri),
            position=types.Position(line, character),
        )
        future = asyncio.wrap_future(
            self.client.protocol.send_request(
                types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id
            )
        )
        future.msg_id = msg_id  # type: ignore[attr-defined]
        return future

    def cancel(self, future: asyncio.Future[Any]) -> None:
        self.client.protocol.notify(
            types.CANCEL_REQUEST,
            types.CancelParams(id=future.msg_id),  # type: ignore[attr-defined]
        )


@asynccontextmanager
async def running_server(
    tmp: Path,
    init_options: dict[str, Any] | None = None,
    caps: types.ClientCapabilities | None = None,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    command: tuple[str, ...] = ("-m", "lsp_server", "serve"),
) -> AsyncIterator[Session]:
    client = make_test_lsp_client()
    session = Session(client)
    # Every request gets exactly one response (tests/support/strict_client.py).
    from tests.support.strict_client import install_ledger

    ledger = install_ledger(client)

    session.record("ghostls/status", session.statuses)
    session.record("ghostls/inlineCompletionUpdate", session.updates)

    await client.start_io(sys.executable, *command, *args, env=server_env(tmp, env))
    try:
        await client.initialize_session(
            types.InitializeParams(
                capabilities=caps or capabilities(), initialization_options=init_options
            )
        )
        yield session
        await client.shutdown_session()
        assert client._server is not None
        assert client._server.returncode == 0
        ledger.check()
    finally:
        await _stop(client)


async def _stop(client: LanguageClient) -> None:
    """Stop the client; a server still running (a failed test) gets end of input,
    which ends it, and is killed if it does not."""
    server = client._server
    if server is not None and server.returncode is None and server.stdin is not None:
        server.stdin.close()
        try:
            async with asyncio.timeout(5):
                await server.wait()
        except TimeoutError:
            server.kill()
    await client.stop()


def openai_options(url: str, streaming: bool = False, **completion: Any) -> dict[str, Any]:
    """Initialization options for an OpenAI-compatible model at `url`; `streaming`: the
    client takes `ghostls/inlineCompletionUpdate` notifications."""
    options = {
        "backend": {"kind": "openai", "url": url, "model": "test-model"},
        "completion": completion,
    }
    return options | ({"streaming": True} if streaming else {})
