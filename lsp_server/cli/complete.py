"""`ghostls complete FILE:LINE:COL`: one suggestion through the whole pipeline, streamed
to the terminal — the prefix dimmed, the suggestion highlighted, the suffix dimmed.

It goes the editor's one way from a snapshot to a suggestion (`complete_snapshot`: the
same context builder with scopes and the syntax's multi-line decision, the same prompt
and post-processing), so what it prints is what an editor would show for the file
opened alone.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from lsp_server.backends.base import Backend
from lsp_server.backends.factory import create_backend
from lsp_server.completion.lifecycle import CompletionEngine, StatusEvent, Suggestion
from lsp_server.completion.pipeline import complete_snapshot
from lsp_server.errors import GhostlsError
from lsp_server.settings import load_settings
from lsp_server.workspace.document import Pos, PositionEncoding, TextDocument
from lsp_server.workspace.snapshot import Snapshot
from lsp_server.workspace.store import WorkspaceStore

DIM, BOLD_GREEN, RESET = "\x1b[2m", "\x1b[1;32m", "\x1b[0m"
SAVE_CURSOR, RESTORE_AND_CLEAR = "\x1b7", "\x1b8\x1b[J"
LINE_START_AND_CLEAR = "\r\x1b[K"
CONTEXT_LINES = 6


# The LSP language ids editors send, by file extension (the syntax trees and the cut
# are chosen by language id, so the terminal must name them as an editor does).
LANGUAGE_IDS = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascriptreact",
    ".ts": "typescript",
    ".tsx": "typescriptreact",
    ".java": "java",
    ".go": "go",
    ".rs": "rust",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".hpp": "cpp",
    ".cs": "csharp",
    ".rb": "ruby",
    ".lua": "lua",
    ".php": "php",
    ".sh": "shellscript",
    ".bash": "shellscript",
}
# One suggestion from a cold start (the whole prompt evaluated, no cache yet): a CPU
# model needs more than the editor's 8 s. `--timeout-ms` / GHOSTLS_COMPLETION_TIMEOUT_MS
# still win.
CLI_TIMEOUT_MS = 30000
TIMEOUT_HINT = (
    "; raise the limit with --timeout-ms 60000 (or GHOSTLS_COMPLETION_TIMEOUT_MS), "
    "or lower GHOSTLS_COMPLETION_PROMPT_TOKENS / pick a smaller model"
)


def language_id(path: Path) -> str:
    known = LANGUAGE_IDS.get(path.suffix.lower())
    if known is not None:
        return known
    return (mimetypes.guess_type(path.name)[0] or "").rsplit("/", 1)[-1].removeprefix("x-")


def _timeout_given(wire: dict[str, Any]) -> bool:
    completion = wire.get("completion")
    in_wire = isinstance(completion, dict) and "timeoutMs" in completion
    return in_wire or "GHOSTLS_COMPLETION_TIMEOUT_MS" in os.environ


def parse_location(location: str) -> tuple[Path, int, int]:
    """FILE:LINE:COL, 1-based; the file name may itself contain colons."""
    path, line, column = location.rsplit(":", 2)
    if not path or int(line) < 1 or int(column) < 1:
        raise ValueError
    return Path(path), int(line), int(column)


class _Printer:
    """Streams a suggestion; redraws it when the cut takes back text already shown.
    `head`: the cursor's line before it, redrawn without the indentation a suggestion
    removes (`Suggestion.dedent`)."""

    def __init__(self, out: TextIO, head: str) -> None:
        self.out = out
        self.tty = out.isatty()
        self.head = head
        self.dedent = 0
        self.shown = ""
        self.done = asyncio.Event()

    def context(self, prefix: str) -> str:
        """The last lines of `prefix`, the cursor's as the suggestion leaves it."""
        lines = "".join(prefix.splitlines(True)[-CONTEXT_LINES:])
        return lines[: len(lines) - len(self.head)] + self.head[self.dedent :]

    def paint(self, text: str, color: str) -> None:
        self.out.write(f"{color}{text}{RESET}" if self.tty and text else text)

    def update(self, suggestion: Suggestion) -> None:
        if suggestion.dedent != self.dedent and self.tty:
            self.out.write(RESTORE_AND_CLEAR + LINE_START_AND_CLEAR)
            self.paint(self.head[suggestion.dedent :], DIM)
            self.out.write(SAVE_CURSOR)
            self.shown = ""
        self.dedent = suggestion.dedent
        if self.tty:
            if suggestion.text.startswith(self.shown):
                self.paint(suggestion.text[len(self.shown) :], BOLD_GREEN)
            else:
                self.out.write(RESTORE_AND_CLEAR)
                self.paint(suggestion.text, BOLD_GREEN)
            self.out.flush()
        self.shown = suggestion.text
        if suggestion.done:
            self.done.set()


async def run_complete(location: str, wire: dict[str, Any], out: TextIO, err: TextIO) -> int:
    try:
        path, line, column = parse_location(location)
        text = path.read_text(encoding="utf-8")
    except ValueError:
        err.write(f"ghostls: expected FILE:LINE:COL (1-based), got {location!r}\n")
        return 2
    except OSError as error:
        err.write(f"ghostls: cannot read {location}: {error.strerror}\n")
        return 2
    settings, problems = load_settings(wire)
    for problem in problems:
        err.write(f"ghostls: {problem}\n")
    if not _timeout_given(wire):
        settings = replace(
            settings, completion=replace(settings.completion, timeout_ms=CLI_TIMEOUT_MS)
        )
    language = language_id(path)
    document = TextDocument(path.resolve().as_uri(), text, 1, language, PositionEncoding.UTF32)
    offset = document.offset_at(Pos(line - 1, column - 1))
    # The file as an editor would hold it opened alone: no other documents, no edits.
    snapshot = WorkspaceStore().snapshot(document, offset, "", settings, True, detached=True)
    try:
        backend = create_backend(
            settings.backend, on_progress=_progress_bar(err, settings.backend.model)
        )
        await backend.prepare()
    except GhostlsError as error:
        err.write(f"\nghostls: {error}\n")
        return 1
    try:
        return await _stream_one(backend, snapshot, out, err)
    finally:
        await backend.aclose()


async def _stream_one(backend: Backend, snapshot: Snapshot, out: TextIO, err: TextIO) -> int:
    failures: list[str] = []

    def on_status(event: StatusEvent) -> None:
        if event.state == "error":
            failures.append(event.detail)

    engine = CompletionEngine(backend, on_status=on_status)
    printer = _Printer(out, snapshot.prefix[snapshot.prefix.rfind("\n") + 1 :])
    if printer.tty:
        printer.paint(printer.context(snapshot.prefix), DIM)
        out.write(SAVE_CURSOR)
    # One request: the settings as they are, no latency plan (`paced`).
    suggestion = await complete_snapshot(engine, backend, snapshot, printer.update, paced=False)
    if suggestion is not None:
        printer.update(suggestion)
        await printer.done.wait()
    if not printer.tty:
        printer.paint(printer.context(snapshot.prefix), DIM)
        out.write(printer.shown)
    printer.paint("".join(snapshot.suffix.splitlines(True)[:CONTEXT_LINES]), DIM)
    out.write("\n")
    out.flush()
    await engine.aclose()
    if failures:
        hint = TIMEOUT_HINT if "completion.timeoutMs" in failures[-1] else ""
        err.write(f"ghostls: {failures[-1]}{hint}\n")
        return 1
    if not printer.shown:
        err.write("ghostls: no suggestion at this position\n")
    return 0


def _progress_bar(err: TextIO, model: str) -> Any:
    last = [-1]

    def on_progress(done: int, total: int) -> None:
        percent = int(done * 100 / total) if total else 0
        if percent != last[0]:
            last[0] = percent
            bar = "#" * (percent // 4)
            err.write(f"\rdownloading {model}: [{bar:<25}] {percent:3d}% of {total / 1e6:.0f} MB")
            err.flush()

    return on_progress
