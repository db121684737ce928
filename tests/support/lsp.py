"""Drive the real server over stdio with a real LSP client (pytest-lsp).

`running_server(...)` starts `python -m lsp_server serve` as a subprocess, initializes
it with the given options and capabilities, records ghostls's own notifications, and
shuts it down cleanly at the end (asserting a clean exit).
"""

from __future__ import annotations

import asyncio
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

REPO = Path(__file__).resolve().parents[2]


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
        bucket.append(params if isinstance(params, dict) else _plain(params))
        self._changed.set()

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
                types.VersionedTextDocumentIdentifier(uri, self.versions[uri]), [change]
            )
        )

    def inline(self, uri: str, line: int, character: int) -> asyncio.Future[Any]:
        return self.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Automatic),
                text_document=types.TextDocumentIdentifier(uri),
                position=types.Position(line, character),
            )
        )


def _plain(value: Any) -> dict[str, Any]:
    if hasattr(value, "_asdict"):
        return dict(value._asdict())
    return dict(vars(value))


@asynccontextmanager
async def running_server(
    tmp: Path,
    init_options: dict[str, Any] | None = None,
    caps: types.ClientCapabilities | None = None,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
) -> AsyncIterator[Session]:
    client = make_test_lsp_client()
    session = Session(client)

    @client.feature("ghostls/status")
    def on_status(params: Any) -> None:
        session._record(session.statuses, params)

    @client.feature("ghostls/inlineCompletionUpdate")
    def on_update(params: Any) -> None:
        session._record(session.updates, params)

    await client.start_io(
        sys.executable, "-m", "lsp_server", "serve", *args, env=server_env(tmp, env)
    )
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
    finally:
        await client.stop()


def openai_options(url: str, **completion: Any) -> dict[str, Any]:
    return {
        "backend": {"kind": "openai", "url": url, "model": "test-model"},
        "completion": completion,
    }
