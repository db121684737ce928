"""Messages read but not yet dispatched, and the rules that answer some of them early.

An editor under a fast typist (or a flood) sends, per keystroke, `$/cancelRequest` for
the previous completion request, a `didChange` and a new completion request. When the
server falls behind, those wait in the backlog, and running each of them in turn
would build context and start a model request for text the editor has already
replaced. So, as each message arrives (before any that came after it is read):

- `$/cancelRequest` for a request still queued answers it -32800 at once; the request
  never runs. For a request already running it is handled at once too (its task is
  cancelled, its model stream closed), unless an edit of that request's document is
  still queued ahead of it: then it keeps its place, so typing-through (docs/protocol.md,
  "Newest keystroke wins") sees the edit before the cancel, as the editor sent them.
- a completion request (`textDocument/inlineCompletion`, `textDocument/completion`)
  still queued when a `didOpen`/`didChange`/`didClose` of its document arrives is
  answered -32801 ContentModified (the document changed before the suggestion could be
  computed), and when a newer completion request for the same document arrives it is
  answered with an empty list (a newer request arrived during the debounce); either
  way no context is built for it.

Nothing else is answered early, dropped or reordered: document notifications and every
other message are dispatched in arrival order, and after `shutdown` no rule applies
(later requests get -32600 in order). Every request still gets exactly one response:
an early-answered request is never dispatched.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcContentModified, JsonRpcException, JsonRpcRequestCancelled

log = logging.getLogger(__name__)

# What a completion request superseded by a newer one for its document answers.
SUPERSEDED_RESULT: dict[str, dict[str, Any]] = {
    types.TEXT_DOCUMENT_INLINE_COMPLETION: {"items": []},
    types.TEXT_DOCUMENT_COMPLETION: {"isIncomplete": True, "items": []},
}
DOCUMENT_EDITS = frozenset(
    {types.TEXT_DOCUMENT_DID_OPEN, types.TEXT_DOCUMENT_DID_CHANGE, types.TEXT_DOCUMENT_DID_CLOSE}
)
# Requests whose side effects a client relies on: never answered without running.
ALWAYS_RUN = frozenset({types.INITIALIZE, types.SHUTDOWN})


@dataclass(eq=False)
class Queued:
    """One undispatched message; `frame` is None once it was answered early."""

    frame: Any
    msg_id: Any = None  # a request's id (hashable ids only)
    completion_uri: str | None = None  # a completion request's document
    edit_uri: str | None = None  # a document notification's document


def _document_uri(params: Any) -> str | None:
    document = params.get("textDocument") if isinstance(params, dict) else None
    uri = document.get("uri") if isinstance(document, dict) else None
    return uri if isinstance(uri, str) else None


def _completion_uri(params: Any) -> str | None:
    """The document of a completion request whose params are well formed enough to be
    answered early (a malformed one is dispatched and gets its -32602)."""
    position = params.get("position") if isinstance(params, dict) else None
    if not isinstance(position, dict) or not all(
        type(position.get(key)) is int for key in ("line", "character")
    ):
        return None
    return _document_uri(params)


def _request_id(frame: dict[str, Any]) -> Any:
    msg_id = frame.get("id")
    return msg_id if type(msg_id) in (int, str) else None


class Backlog:
    """The undispatched messages, in order (see the module docstring).

    `add` runs on the loop thread as messages arrive; `pop` gives the next message to
    dispatch. `release` frees a reader slot (`MAX_BACKLOG_FRAMES`) per message that
    leaves, whether dispatched, answered early or handled at arrival.
    """

    def __init__(
        self,
        protocol: Any,
        release: Callable[[], None],
        dispatch: Callable[[Any], None],
    ) -> None:
        self._protocol = protocol
        self._release = release
        self._dispatch = dispatch
        self._entries: deque[Queued] = deque()
        self._requests: dict[Any, Queued] = {}
        self._completions: dict[str, Queued] = {}
        self._edits: Counter[str] = Counter()
        self._closing = False  # `shutdown` arrived: no early rule applies any more
        self.early: Counter[str] = protocol.early_answers  # answered early, by rule
        self.on_ready: Callable[[], None] = lambda: None

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, frames: list[Any]) -> None:
        """Messages the reader delivered together, in order."""
        for frame in frames:
            if self._handled_at_arrival(frame):
                self._release()
            else:
                self._entries.append(self._queued(frame))
        if self._entries:
            self.on_ready()

    def pop(self) -> Any:
        """The next message to dispatch; `EMPTY` when none waits."""
        while self._entries:
            entry = self._entries.popleft()
            if entry.frame is None:
                continue  # answered early; its slot is already free
            self._forget(entry)
            self._release()
            return entry.frame
        return EMPTY

    # -- the rules ---------------------------------------------------------------------

    def _handled_at_arrival(self, frame: Any) -> bool:
        """Apply the rules to an arriving message; True when nothing is left to queue."""
        if self._closing or not isinstance(frame, dict) or frame.get("jsonrpc") != "2.0":
            return False
        method, params = frame.get("method"), frame.get("params")
        if "id" in frame:  # a request (or a response to one of ours)
            if method == types.SHUTDOWN:
                self._closing = True
            elif method in SUPERSEDED_RESULT and _request_id(frame) is not None:
                self._supersede_older_completion(_completion_uri(params))
            return False
        if method == types.CANCEL_REQUEST:
            return self._cancel(frame, params)
        if method in DOCUMENT_EDITS:
            uri = _document_uri(params)
            older = self._completions.get(uri) if uri is not None else None
            if older is not None:
                message = f"{uri} changed before the suggestion was computed"
                self._answer(older, "stale", error=JsonRpcContentModified(message))
        return False

    def _cancel(self, frame: dict[str, Any], params: Any) -> bool:
        target = params.get("id") if isinstance(params, dict) else None
        if type(target) not in (int, str):
            return False
        queued = self._requests.get(target)
        if queued is not None:
            message = f'Request "{target}" was cancelled'
            self._answer(queued, "cancelled", error=JsonRpcRequestCancelled(message))
            return True
        uri = self._protocol.request_documents.get(target)
        if uri is not None and self._edits[uri] > 0:
            return False  # an edit of its document comes first (typing-through)
        self._dispatch(frame)  # running (or unknown): cancel it now, not in turn
        self.early["cancelAtOnce"] += 1
        return True

    def _supersede_older_completion(self, uri: str | None) -> None:
        older = self._completions.get(uri) if uri is not None else None
        if older is not None:
            self._answer(older, "superseded", result=SUPERSEDED_RESULT[older.frame["method"]])

    # -- bookkeeping -------------------------------------------------------------------

    def _queued(self, frame: Any) -> Queued:
        entry = Queued(frame)
        if not isinstance(frame, dict):
            return entry
        method, params = frame.get("method"), frame.get("params")
        msg_id = _request_id(frame) if isinstance(method, str) else None
        if frame.get("jsonrpc") != "2.0":
            return entry  # dispatch answers it -32600
        if msg_id is not None and method not in ALWAYS_RUN and not self._closing:
            entry.msg_id = msg_id
            self._requests[msg_id] = entry
            if method in SUPERSEDED_RESULT:
                entry.completion_uri = _completion_uri(params)
                if entry.completion_uri is not None:
                    self._completions[entry.completion_uri] = entry
        elif "id" not in frame and method in DOCUMENT_EDITS:
            entry.edit_uri = _document_uri(params)
            if entry.edit_uri is not None:
                self._edits[entry.edit_uri] += 1
        return entry

    def _forget(self, entry: Queued) -> None:
        if entry.msg_id is not None and self._requests.get(entry.msg_id) is entry:
            del self._requests[entry.msg_id]
        uri = entry.completion_uri
        if uri is not None and self._completions.get(uri) is entry:
            del self._completions[uri]
        if entry.edit_uri is not None:
            self._edits[entry.edit_uri] -= 1
            if self._edits[entry.edit_uri] <= 0:
                del self._edits[entry.edit_uri]

    def _answer(
        self, entry: Queued, rule: str, result: Any = None, error: JsonRpcException | None = None
    ) -> None:
        """Answer a queued request now; it will not be dispatched."""
        method = entry.frame.get("method")
        self._forget(entry)
        entry.frame = None
        self._release()
        self.early[rule] += 1
        log.debug("%s %r answered early (%s)", method, entry.msg_id, rule)
        self._protocol.answer_early(entry.msg_id, result, error)


class _Empty:
    def __repr__(self) -> str:
        return "EMPTY"


EMPTY: Any = _Empty()
