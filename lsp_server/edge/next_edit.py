"""Next-edit requests: snapshot, prompt, one model request per document, edits.

Cancellation works as for completions: the newest request for a document wins (it
cancels the model request of the one before, which answers no edits); any edit of the
document cancels its model request at once (the window the model rewrites is gone),
and the request answers `ContentModified`; `$/cancelRequest` cancels the handler's
task, and with it the model request (the backend stream is closed: the model stops).
Edits are computed for the version the request saw and only sent while the document
still has that version.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
from dataclasses import dataclass, field
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcContentModified
from pygls.lsp.server import LanguageServer

from lsp_server.backends.base import Backend, GenerationRequest, StreamEnd
from lsp_server.backends.factory import create_backend
from lsp_server.backends.policy import check_backend
from lsp_server.completion.snippet_memory import SnippetMemory
from lsp_server.context.cursor import display_path
from lsp_server.context.hygiene import is_sensitive_path, mask_secrets
from lsp_server.edge.host import ServiceHost, forward, profile_url_from_user
from lsp_server.errors import GhostlsError, describe_error
from lsp_server.nextedit.answer import (
    OVERRUN_ANCHOR_LINES,
    TextEdit,
    keep_edit,
    parse_answer,
    typing_spans,
    window_edits,
)
from lsp_server.nextedit.formats import choose_format
from lsp_server.nextedit.history import EditHistory, HistoryView, Typed
from lsp_server.nextedit.prompt import NextEditPrompt, Related, build_next_edit_prompt
from lsp_server.nextedit.transport import RAW_KINDS, own_backend, raw_prompt
from lsp_server.workspace.document import Pos, TextDocument
from lsp_server.workspace.snapshot import Snapshot

log = logging.getLogger(__name__)

INLINE_EDIT = "textDocument/copilotInlineEdit"
DID_SHOW_INLINE_EDIT = "textDocument/didShowInlineEdit"
REJECTED_NOTIFICATION = "ghostls/nextEditRejected"
ACCEPTED_COMMAND = "ghostls.nextEditAccepted"


@dataclass
class Counts:
    requests: int = 0
    suggested: int = 0
    shown: int = 0
    accepted: int = 0
    rejected: int = 0
    cancelled: int = 0


@dataclass
class ModelAnswer:
    text: str
    ran_out: bool


@dataclass
class NextEditService:
    host: ServiceHost  # documents, settings, backends
    server: LanguageServer  # the workspace root
    history: EditHistory = field(default_factory=EditHistory)
    counts: Counts = field(default_factory=Counts)
    # The related files' snippets, kept per document while the cursor moves (as the
    # completion engine keeps its own): the prompt's head stays in the model's cache.
    snippets: SnippetMemory = field(default_factory=SnippetMemory)
    _live: dict[str, asyncio.Task[ModelAnswer]] = field(default_factory=dict)
    _own: tuple[Any, Backend | None] | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # -- documents --------------------------------------------------------------------

    def document_opened(self, uri: str, text: str) -> None:
        self.history.opened(uri, text)

    def document_changed(self, uri: str, before: str, after: str) -> None:
        self.history.record(uri, before, after)
        task = self._live.pop(uri, None)
        if task is not None and not task.done():
            task.cancel()  # the window it rewrites is gone: stop the model now
            self.counts.cancelled += 1

    def document_closed(self, uri: str) -> None:
        self.history.forget(uri)
        task = self._live.pop(uri, None)
        if task is not None:
            task.cancel()

    # -- the request --------------------------------------------------------------------

    async def inline_edit(self, params: Any) -> dict[str, Any]:
        uri, version, position = _read_params(params)
        self.counts.requests += 1
        none: dict[str, Any] = {"edits": []}
        settings = self.host.settings
        if not settings.next_edit.enabled:
            return none
        store = self.host.store
        live = store.documents.get(uri)
        if live is None:
            return none
        if version is not None and version != live.version:
            raise JsonRpcContentModified(f"{uri} is at version {live.version}, not {version}")
        # Everything the prompt reads, taken before the first await (the edge's snapshot
        # rule): an edit meanwhile is answered ContentModified below, never mixed in.
        version = live.version
        cursor = live.offset_at(Pos(*position))
        root = self.server.workspace.root_path or ""
        snapshot = store.snapshot(live, cursor, root, settings, False)
        history = self.history.view(uri)
        await self.host.backend_ready()
        backend = self._backend()
        if backend is None or is_sensitive_path(display_path(uri)):
            return none
        document = snapshot.document
        prompt = self._prompt(snapshot, history, backend.model_name)
        if mask_secrets(prompt.window) != prompt.window:
            return none  # a key in the window: its masked form must not come back as an edit
        request = GenerationRequest(
            prompt=raw_prompt(mask_secrets(prompt.text), prompt.format.stop),
            max_tokens=settings.next_edit.max_tokens,
            stop=prompt.format.stop,
            temperature=0.0,
            timeout_s=settings.next_edit.timeout_ms / 1000,
        )
        older = self._live.pop(uri, None)
        if older is not None:
            older.cancel()  # the newest request wins
        task = asyncio.create_task(_generate(backend, request))
        self._live[uri] = task
        reason = ""
        try:
            answer: ModelAnswer | None = await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # $/cancelRequest: the await cancelled the model request too
            answer, reason = None, "superseded"  # a newer request or an edit cancelled it
        except Exception as error:
            log.warning("next edit failed: %s", error)
            answer, reason = None, f"model failed: {describe_error(error)}"
        finally:
            if self._live.get(uri) is task:
                del self._live[uri]
        if store.documents.get(uri) is not live or live.version != version:
            raise JsonRpcContentModified(f"{uri} changed while the next edit was computed")
        if answer is None:
            return {"edits": [], "reason": reason}
        edits, reason = self.edits_for(document, prompt, answer, history.typed)
        self.counts.suggested += bool(edits)
        result: dict[str, Any] = {
            "edits": [self._wire_edit(document, edit, cursor) for edit in edits]
        }
        if not edits:
            result["reason"] = reason
        return result

    def edits_for(
        self,
        document: TextDocument,
        prompt: NextEditPrompt,
        answer: ModelAnswer,
        typed: Typed | None = None,
    ) -> tuple[list[TextEdit], str]:
        """The edits to offer, and when there are none, why (`reason` on the wire)."""
        after = document.text[prompt.window_start + len(prompt.window) + 1 :]
        following = after.split("\n", OVERRUN_ANCHOR_LINES)[:OVERRUN_ANCHOR_LINES]
        lines = prompt.window.count("\n") + 1
        window = parse_answer(prompt.format, answer.text, answer.ran_out, following, lines)
        if window is None:
            return [], "answer cut short"
        edits = window_edits(prompt.window_start, prompt.window, window)
        if not edits:
            same = window.rstrip("\n") == prompt.window.rstrip("\n")
            return [], "no change" if same else "not a rewrite of the window"
        spans = typing_spans(document.text, prompt.cursor, typed)
        kept = [edit for edit in edits if keep_edit(edit, prompt.cursor, spans)]
        return kept, "" if kept else "only edits of what the user is typing"

    def _prompt(self, snapshot: Snapshot, history: HistoryView, model_name: str) -> NextEditPrompt:
        document, root = snapshot.document, snapshot.root
        fmt = choose_format(snapshot.settings.next_edit.format, model_name)
        related: list[Related] = []
        if fmt.file_block:
            context = self.snippets.context_for(snapshot)
            related = [Related(_relative(s.path, root), s.text) for s in context.snippets]
        changes = [
            c
            for c in history.changes
            if c.uri in snapshot.texts and not is_sensitive_path(display_path(c.uri))
        ]
        paths = {c.uri: _relative(display_path(c.uri), root) for c in changes}
        return build_next_edit_prompt(
            fmt,
            _relative(display_path(document.uri), root),
            document.text,
            snapshot.offset,
            changes,
            paths,
            history.baseline,
            related,
        )

    def _wire_edit(self, document: TextDocument, edit: TextEdit, cursor: int) -> dict[str, Any]:
        start, end = document.position_at(edit.start), document.position_at(edit.end)
        item_id = f"ne-{next(self._ids)}"
        return {
            "text": edit.text,
            "range": {
                "start": {"line": start.line, "character": start.character},
                "end": {"line": end.line, "character": end.character},
            },
            "textDocument": {"uri": document.uri, "version": document.version},
            "command": {
                "title": "ghostls: next edit accepted",
                "command": ACCEPTED_COMMAND,
                "arguments": [item_id],
            },
            # ghostls's own: an insertion at the cursor, which a client may show as an
            # inline completion (with this range) instead of as an edit to jump to.
            "atCursor": edit.start == edit.end == cursor,
            "id": item_id,
        }

    # -- reports ------------------------------------------------------------------------

    def shown(self, params: Any) -> None:
        self.counts.shown += 1
        log.info("next edit shown: %s", params)

    def accepted(self, args: Any) -> dict[str, int]:
        """The command's answer: this session's counts, so far."""
        self.counts.accepted += 1
        log.info("next edit accepted: %s", args)
        return dataclasses.asdict(self.counts)

    def rejected(self, params: Any) -> None:
        self.counts.rejected += 1
        log.info("next edit rejected: %s", params)

    # -- backends -----------------------------------------------------------------------

    def _backend(self) -> Backend | None:
        """The server's backend, or one of next edits' own: for `nextEdit.backend`, or
        where the server's kind cannot send a raw prompt as it is (`transport`)."""
        settings = self.host.settings
        profile = settings.next_edit.backend
        chosen = profile or settings.backend
        if chosen.kind not in RAW_KINDS:
            self.host.tell_once(
                f"next-edit suggestions need a raw-completion backend ({', '.join(RAW_KINDS)}); "
                f"backend.kind '{chosen.kind}' has none",
                types.MessageType.Warning,
            )
            return None
        if self._own is None or self._own[0] != chosen:
            old = self._own[1] if self._own is not None else None
            if old is not None:
                self.host.spawn(old.aclose())
            if profile is not None:
                try:
                    check_backend(
                        profile.kind,
                        profile.url,
                        profile_url_from_user(self.host, "nextEdit", "backend"),
                    )
                except GhostlsError as error:
                    self.host.tell_once(describe_error(error), types.MessageType.Warning)
                    return None
            own = own_backend(chosen)
            if own is None and profile is not None:
                own = create_backend(profile)
            self._own = (chosen, own)
        return self._own[1] or self.host.backend

    async def aclose(self) -> None:
        for task in self._live.values():
            task.cancel()
        self._live.clear()
        own = self._own[1] if self._own is not None else None
        self._own = None
        if own is not None:
            await own.aclose()


async def _generate(backend: Backend, request: GenerationRequest) -> ModelAnswer:
    """The model's text up to the first stop string; closing early stops the model."""
    parts: list[str] = []
    end = StreamEnd()
    async with asyncio.timeout(request.timeout_s):
        async with contextlib.aclosing(backend.stream(request)) as chunks:
            async for chunk in chunks:
                if isinstance(chunk, StreamEnd):
                    end = chunk
                    continue
                parts.append(chunk)
                if chunk and any(stop in "".join(parts[-8:]) for stop in request.stop):
                    text = "".join(parts)
                    return ModelAnswer(text, False)
    text = "".join(parts)
    ran_out = end.ran_out
    if ran_out is None:
        ran_out = len([p for p in parts if p]) >= request.max_tokens
    return ModelAnswer(text, ran_out and not any(stop in text for stop in request.stop))


def _read_params(params: Any) -> tuple[str, int | None, tuple[int, int]]:
    """uri, version (None when the client sent none) and position, from pygls's
    object for an unknown method (attributes) or a plain dict."""

    def get(value: Any, key: str) -> Any:
        return value.get(key) if isinstance(value, dict) else getattr(value, key, None)

    document = get(params, "textDocument")
    position = get(params, "position")
    uri = get(document, "uri")
    version = get(document, "version")
    line, character = get(position, "line"), get(position, "character")
    if not isinstance(uri, str) or not isinstance(line, int) or not isinstance(character, int):
        raise ValueError("copilotInlineEdit needs textDocument.uri and position")
    return uri, version if isinstance(version, int) else None, (line, character)


def _relative(path: str, root: str) -> str:
    root = root.rstrip("/") + "/" if root else ""
    return path[len(root) :] if root and path.startswith(root) else path.lstrip("/")


def register_next_edit(server: LanguageServer, service: NextEditService) -> None:
    """The next-edit methods on the wire (docs/protocol.md, "Next edits")."""
    forward(server, DID_SHOW_INLINE_EDIT, service.shown)
    forward(server, REJECTED_NOTIFICATION, service.rejected)

    @server.feature(INLINE_EDIT)
    async def copilot_inline_edit(params: Any) -> dict[str, Any]:
        return await service.inline_edit(params)

    @server.command(ACCEPTED_COMMAND)
    def next_edit_accepted(ls: object, *args: Any) -> dict[str, int]:
        return service.accepted(args)
