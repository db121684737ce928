"""JSON-RPC that answers every request exactly once, whatever arrives on the wire.

pygls 2.1.1 (checked by running it) sends no response to a request whose params do
not structure, nor to malformed JSON, nor to anything after `shutdown`; it exits 0 on
`exit` without `shutdown`; it turns every failing notification into an error pop-up;
and a failing update of its own workspace copy stops our `didChange` handler from
running at all. This module closes those holes in our own layer:

- `wire.FrameReader` reads `Content-Length` frames on a daemon thread, resynchronising
  on junk (bad, missing or huge lengths; a truncated body or end of input ends the
  session); `wire.BatchedWriter` writes the responses.
- `backlog.Backlog` holds what was read but not dispatched (at most
  `MAX_BACKLOG_FRAMES`; past that the reader waits) and answers early what a later
  message already made moot: a queued request cancelled, a queued completion request
  whose document changed or that a newer one superseded.
- `GhostlsProtocol` answers malformed JSON with -32700, a non-object or a request
  after `shutdown` with -32600, params that do not structure with -32602 (unknown
  methods were already -32601). Handler errors become -32603 with the message of
  `describe_error` — never a traceback in `error.data`. Failing notifications are
  logged, never shown. The future of a finished notification is dropped (pygls keeps
  it forever: a leak of one future per keystroke).
- `serve_stdio` runs the loop: `exit` returns 0 after `shutdown` and 1 otherwise; end
  of input or the death of the editor (`initialize.processId`, polled) stops the
  backend, cancels what is left and returns within about a second, threads included.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import itertools
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Generator
from typing import Any, BinaryIO

import cattrs
from lsprotocol import types
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcMethodNotFound,
    JsonRpcParseError,
    JsonRpcRequestCancelled,
)
from pygls.protocol.json_rpc import JsonRPCNotification, JsonRPCRequestMessage
from pygls.protocol.language_server import LanguageServerProtocol, lsp_method

from lsp_server.errors import describe_error
from lsp_server.transport.framing import (
    BatchedWriter,
    EndOfInput,
    Frame,
    FrameReader,
    ParseFailure,
    Slots,
    start_reader,
)
from lsp_server.transport.request_queue import EMPTY, SUPERSEDED_RESULT, Backlog

log = logging.getLogger(__name__)

MAX_ERROR_MESSAGE = 300
PARENT_POLL_S = 1.0
# Messages read but not yet dispatched; past this the reader waits (see `run_session`).
MAX_BACKLOG_FRAMES = 256
# How long the end of a session may wait for the backend and worker threads.
CLOSE_GRACE_S = 0.5
PROFILE_DUMP_S = 5.0


def _short(text: str) -> str:
    return text if len(text) <= MAX_ERROR_MESSAGE else text[: MAX_ERROR_MESSAGE - 1] + "…"


def _params_problem(error: BaseException) -> str:
    """One line naming the bad fields, e.g. `required field missing @ $.position`."""
    cause = error.__cause__ or error
    if isinstance(cause, cattrs.BaseValidationError):
        return "; ".join(cattrs.transform_error(cause, path="$"))
    return type(cause).__name__


class GhostlsProtocol(LanguageServerProtocol):
    """pygls's protocol with every request answered once (see the module docstring)."""

    def __init__(self, server: Any, converter: cattrs.Converter) -> None:
        super().__init__(server, converter)
        self.exit_code: int | None = None
        self.stopping = asyncio.Event()
        self.parent_pid: int | None = None
        # The document of each running completion request (`backlog.Backlog` asks).
        self.request_documents: dict[Any, str] = {}
        self._notification_ids = itertools.count(1)
        # Requests the backlog answered before they ran, by rule (ghostls/debugInfo).
        self.early_answers: collections.Counter[str] = collections.Counter()

    # -- incoming ----------------------------------------------------------------------

    def dispatch(self, frame: Frame) -> None:
        """Handle one frame from `FrameReader`, answering anything malformed."""
        if isinstance(frame, ParseFailure):
            log.warning("malformed JSON from the client: %s", frame.reason)
            self._reply_error(None, JsonRpcParseError(f"Parse error: {frame.reason}"))
            return
        if not isinstance(frame, dict) or frame.get("jsonrpc") != self.VERSION:
            msg_id = frame.get("id") if isinstance(frame, dict) else None
            self._reply_error(
                msg_id, JsonRpcInvalidRequest("Invalid Request: not a JSON-RPC 2.0 object")
            )
            return
        method = frame.get("method")
        is_request = "id" in frame and "method" in frame
        if "method" in frame and not isinstance(method, str):
            self._reply_error(frame.get("id"), JsonRpcInvalidRequest("Invalid Request: method"))
            return
        if method == types.EXIT:
            self.exit_code = 0 if self._shutdown else 1
            self.stopping.set()
            return
        if self._shutdown and is_request:
            message = f"Invalid Request: the server is shut down ({method})"
            self._reply_error(frame["id"], JsonRpcInvalidRequest(message))
            return
        if method == types.INITIALIZE and isinstance(frame.get("params"), dict):
            pid = frame["params"].get("processId")
            self.parent_pid = pid if isinstance(pid, int) and pid > 0 else None
        try:
            message = self._structure(frame)
        except Exception as error:
            problem = _params_problem(error)
            if is_request:
                self._reply_error(
                    frame["id"], JsonRpcInvalidParams(f"Invalid params for {method}: {problem}")
                )
            else:
                log.warning("ignoring %s with invalid params: %s", method, problem)
            return
        self._route(frame, message)

    def _route(self, frame: dict[str, Any], message: Any) -> None:
        """pygls's `handle_message` for requests and notifications, without its
        `isinstance` checks against `typing.Protocol` classes (~0.15 ms per message:
        a tenth of a keystroke's cost). Responses to our own requests go to pygls."""
        method = frame.get("method")
        if method is None:
            self.handle_message(message)
            return
        if self._shutdown:  # only `exit` is handled after `shutdown` (see `dispatch`)
            log.warning("ignoring %s after shutdown", method)
            return
        context = contextvars.copy_context()
        if "id" in frame:
            context.run(self._handle_request, message.id, method, message.params)
            if method in SUPERSEDED_RESULT and message.id in self._request_futures:
                self.request_documents[message.id] = message.params.text_document.uri
        else:
            context.run(self._handle_notification, method, message.params)

    def _structure(self, data: dict[str, Any]) -> Any:
        """pygls's `structure_message` for a whole message, without its traceback log."""
        method = data.get("method")
        if "id" in data and "error" in data:
            return super().structure_message(data)
        if isinstance(method, str):
            default = JsonRPCRequestMessage if "id" in data else JsonRPCNotification
            return self._converter.structure(data, self.get_message_type(method) or default)
        return super().structure_message(data)

    # -- outgoing ----------------------------------------------------------------------

    def _reply_error(self, msg_id: Any, error: JsonRpcException) -> None:
        self._send_data(
            {
                "jsonrpc": self.VERSION,
                "id": msg_id,
                "error": {"code": error.code, "message": _short(error.message)},
            }
        )

    def answer_early(self, msg_id: Any, result: Any, error: JsonRpcException | None) -> None:
        """A request answered from the backlog, never dispatched (`backlog.Backlog`)."""
        if error is not None:
            self._reply_error(msg_id, error)
        else:
            self._send_data({"jsonrpc": self.VERSION, "id": msg_id, "result": result})

    def _send_handler_result(self, future: Any, *, msg_id: Any) -> None:
        """The one place a dispatched request's response is produced: result, -32800, or
        an error (a request answered from the backlog is answered by `answer_early`)."""
        self._request_futures.pop(msg_id, None)
        self.request_documents.pop(msg_id, None)
        if future.cancelled():
            error: JsonRpcException = JsonRpcRequestCancelled(f'Request "{msg_id}" was cancelled')
        elif (exc := future.exception()) is None:
            self._send_response(msg_id, result=future.result())
            return
        elif isinstance(exc, JsonRpcException):
            error = exc
        else:
            log.warning("request %s failed: %s", msg_id, describe_error(exc), exc_info=exc)
            error = JsonRpcException(describe_error(exc))
        self._reply_error(msg_id, error)

    def _execute_handler(
        self,
        msg_id: Any,
        handler: Any,
        callback: Any,
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        """pygls keeps the future of an `async` or generator notification handler (our
        `didChange`), and of each step of a generator handler, in `_request_futures`
        under a fresh uuid and never removes it: one future per keystroke, forever.
        Every future is dropped once done (a request's own callback drops it too)."""

        def done(future: Any) -> None:
            if self._request_futures.get(msg_id) is future:
                del self._request_futures[msg_id]
            callback(future)

        super()._execute_handler(msg_id, handler, done, args, kwargs)

    def _check_handler_result(self, future: Any) -> None:
        """A failing notification is logged, never a pop-up (it may fail per keystroke)."""
        if not future.cancelled() and (exc := future.exception()) is not None:
            log.warning("notification handler failed: %s", describe_error(exc), exc_info=exc)

    def _handle_notification(self, method_name: str, params: Any) -> None:
        """pygls's, without its `uuid4()` per notification (a `getrandom` call each, a
        measurable share of a keystroke flood): a counter names the handler's future."""
        if method_name == types.CANCEL_REQUEST:
            self._handle_cancel_notification(params.id)
            return
        try:
            handler = self._get_handler(method_name)
        except JsonRpcMethodNotFound:
            log.warning("ignoring notification for unknown method %r", method_name)
            return
        try:
            self._execute_handler(
                f"notification-{next(self._notification_ids)}",
                handler,
                self._check_handler_result,
                (params,),
            )
        except Exception as error:  # pygls reports these as pop-ups; we only log
            log.warning("notification %s failed: %s", method_name, describe_error(error))

    # Document sync: our own store (`server.documents`) is the one copy of the text.
    # pygls's workspace copy is not kept: nothing reads it, a failing update of it would
    # stop our handler from running, and updating it cost more than our own update
    # (pygls converts positions character by character).

    def _user_notification(self, method: str, params: Any) -> None:
        if (handler := self.fm.features.get(method)) is not None:
            self._execute_handler(
                f"notification-{next(self._notification_ids)}",
                handler,
                self._check_handler_result,
                (params,),
            )

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        self._user_notification(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        self._user_notification(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        self._user_notification(types.TEXT_DOCUMENT_DID_CLOSE, params)

    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    def lsp_workspace__execute_command(
        self, params: types.ExecuteCommandParams
    ) -> Generator[Any, Any, Any]:
        """pygls hands a command only its arguments: a client's `workDoneToken` (LSP's
        client-initiated progress) goes in as `workDoneToken` of an object argument."""
        token = params.work_done_token
        if token is not None and params.arguments and isinstance(params.arguments[0], dict):
            first = {**params.arguments[0], "workDoneToken": token}
            params.arguments = [first, *params.arguments[1:]]
        return (yield from super().lsp_workspace__execute_command(params))


# -- the loop -------------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _watch_parent(protocol: GhostlsProtocol) -> None:
    while not protocol.stopping.is_set():
        pid = protocol.parent_pid
        if pid is not None and not _alive(pid):
            log.warning("the editor (process %d) is gone; stopping", pid)
            protocol.stopping.set()
            return
        await asyncio.sleep(PARENT_POLL_S)


@contextlib.contextmanager
def _profiled() -> Generator[None, None, None]:
    """With `GHOSTLS_PROFILE=path`, a cProfile of the loop thread, written to `path`
    every `PROFILE_DUMP_S` and at the end (a killed server leaves its last dump)."""
    path = os.environ.get("GHOSTLS_PROFILE")
    if not path:
        yield
        return
    import cProfile

    profiler = cProfile.Profile()
    loop = asyncio.get_running_loop()
    timer: asyncio.TimerHandle | None = None

    def dump() -> None:
        nonlocal timer
        profiler.disable()
        profiler.dump_stats(path)
        profiler.enable()
        timer = loop.call_later(PROFILE_DUMP_S, dump)

    timer = loop.call_later(PROFILE_DUMP_S, dump)
    profiler.enable()
    try:
        yield
    finally:
        if timer is not None:
            timer.cancel()
        profiler.disable()
        profiler.dump_stats(path)


async def run_session(server: Any, stdin: BinaryIO, stdout: BinaryIO) -> int:
    """Serve one client until `exit`, end of input or the editor's death; the exit code."""
    with _profiled():
        return await _run_session(server, stdin, stdout)


async def _run_session(server: Any, stdin: BinaryIO, stdout: BinaryIO) -> int:
    protocol: GhostlsProtocol = server.protocol
    protocol.stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    writer = BatchedWriter(stdout, loop)
    protocol.set_writer(writer)
    # Backpressure: the reader stops reading while this many messages wait, so a flood
    # waits in the pipe (and the client), not as parsed messages in our memory.
    slots = Slots(MAX_BACKLOG_FRAMES)
    backlog = Backlog(protocol, slots.release, lambda frame: _dispatch(protocol, frame))
    ready = asyncio.Event()
    backlog.on_ready = ready.set
    source = stdin.fileno()
    reader = FrameReader(lambda size: os.read(source, size))
    start_reader(reader, lambda batch: loop.call_soon_threadsafe(backlog.add, batch), slots)
    watcher = asyncio.create_task(_watch_parent(protocol))
    stop = asyncio.create_task(protocol.stopping.wait())
    try:
        while not protocol.stopping.is_set():
            frame = backlog.pop()
            if frame is EMPTY:
                ready.clear()
                waiting = asyncio.create_task(ready.wait())
                await asyncio.wait({waiting, stop}, return_when=asyncio.FIRST_COMPLETED)
                waiting.cancel()
                continue
            if isinstance(frame, EndOfInput):
                log.info("stopping: %s", frame.reason)
                break
            _dispatch(protocol, frame)
            # A request's handler takes its snapshot before the next message applies.
            await asyncio.sleep(0)
    finally:
        watcher.cancel()
        stop.cancel()
        await _close(server)
        writer.flush()
    return protocol.exit_code if protocol.exit_code is not None else 1


def _dispatch(protocol: GhostlsProtocol, frame: Frame) -> None:
    try:
        protocol.dispatch(frame)
    except Exception as error:  # never let one message end the session
        log.warning("message not handled: %s", describe_error(error), exc_info=error)


async def _close(server: Any) -> None:
    """Stop the backend and every task, within `CLOSE_GRACE_S`."""
    stop_backend = getattr(server, "stop_backend", None)
    if stop_backend is not None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CLOSE_GRACE_S):
                await stop_backend()
    current = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not current]
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=CLOSE_GRACE_S)


def serve_stdio(server: Any, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> int:
    """Run the server on stdio; returns the exit code (0 only after `shutdown`)."""
    try:
        code = asyncio.run(
            run_session(server, stdin or sys.stdin.buffer, stdout or protocol_stdout())
        )
    except BrokenPipeError:
        log.warning("the client closed the connection")
        code = 1
    if server._thread_pool is not None:
        server._thread_pool.shutdown(wait=False, cancel_futures=True)
    _leave_if_threads_hang(code)
    return code


def protocol_stdout() -> BinaryIO:
    """The protocol's own copy of standard output; file descriptor 1 then points at
    standard error. Whatever else writes to descriptor 1 (native code, a stray print)
    would corrupt the protocol, and llama-cpp-python points descriptor 1 at /dev/null
    while it loads a model: a message written meanwhile was lost, and the editor
    waited forever for it."""
    sys.stdout.flush()
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return channel


def serve_tcp(server: Any, host: str, port: int) -> int:
    """Serve one editor that connects on `host:port` (port 0: any free one, printed on
    stderr), with the same session and guards as stdio; the exit code."""
    with socket.create_server((host, port)) as listener:
        bound = listener.getsockname()
        print(f"ghostls: listening on {bound[0]}:{bound[1]}", file=sys.stderr, flush=True)
        connection, peer = listener.accept()
    log.info("editor connected from %s", peer)
    with (
        connection,
        connection.makefile("rb", buffering=0) as incoming,
        connection.makefile("wb", buffering=0) as outgoing,
    ):
        return serve_stdio(server, incoming, outgoing)  # type: ignore[arg-type]


def _leave_if_threads_hang(code: int) -> None:
    """Worker threads (a model mid-token) get `CLOSE_GRACE_S`; then the process leaves
    anyway, so an editor never keeps an orphan server."""
    deadline = time.monotonic() + CLOSE_GRACE_S
    for thread in threading.enumerate():
        if thread is threading.current_thread() or thread.daemon:
            continue
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            log.warning("thread %s did not stop; exiting anyway", thread.name)
            logging.shutdown()
            with contextlib.suppress(Exception):
                sys.stdout.flush()
            os._exit(code)
