"""JSON-RPC that answers every request exactly once, whatever arrives on the wire.

pygls 2.1.1 (checked by running it) sends no response to a request whose params do
not structure, nor to malformed JSON, nor to anything after `shutdown`; it exits 0 on
`exit` without `shutdown`; it turns every failing notification into an error pop-up;
and a failing update of its own workspace copy stops our `didChange` handler from
running at all. This module closes those holes in our own layer:

- `FrameReader` reads `Content-Length` frames on a daemon thread. A bad or missing
  length is skipped up to the next header, a huge one (> `MAX_MESSAGE_BYTES`) is
  discarded without being held in memory, a body that swallowed the next frame is
  split again, a truncated body or end of input ends the session.
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
import contextlib
import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, BinaryIO

import cattrs
from lsprotocol import types
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcParseError,
    JsonRpcRequestCancelled,
)
from pygls.io_ import StdoutWriter
from pygls.protocol.json_rpc import JsonRPCNotification, JsonRPCRequestMessage
from pygls.protocol.language_server import LanguageServerProtocol, lsp_method

from lsp_server.errors import describe_error

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
MAX_HEADER_LINE = 64 * 1024
MAX_ERROR_MESSAGE = 300
PARENT_POLL_S = 1.0
# Messages read but not yet dispatched; past this the reader waits (see `run_session`).
MAX_BACKLOG_FRAMES = 256
# How long the end of a session may wait for the backend and worker threads.
CLOSE_GRACE_S = 0.5

_LENGTH = re.compile(rb"content-length[ \t]*:[ \t]*([^\r\n]*)", re.IGNORECASE)


@dataclass(frozen=True)
class ParseFailure:
    """A frame whose body is not JSON."""

    reason: str


@dataclass(frozen=True)
class EndOfInput:
    reason: str


Frame = dict[str, Any] | list[Any] | ParseFailure | EndOfInput | Any


class FrameReader:
    """`Content-Length` framing over a blocking byte source, resynchronising on junk.

    `read_chunk(n)` returns up to n bytes, b"" at the end (`os.read` on stdin's file
    descriptor: no buffered-reader lock for a daemon thread to hold at exit).
    """

    def __init__(self, read_chunk: Callable[[int], bytes]) -> None:
        self.read_chunk = read_chunk
        self._pending = b""
        self._ended = False

    def _fill(self) -> bool:
        if self._ended:
            return False
        chunk = self.read_chunk(1 << 16)
        if not chunk:
            self._ended = True
            return False
        self._pending += chunk
        return True

    def _readline(self) -> bytes:
        while True:
            index = self._pending.find(b"\n")
            if index >= 0 or len(self._pending) >= MAX_HEADER_LINE:
                cut = index + 1 if index >= 0 else MAX_HEADER_LINE
                line, self._pending = self._pending[:cut], self._pending[cut:]
                return line
            if not self._fill():
                line, self._pending = self._pending, b""
                return line

    def _read(self, size: int) -> bytes:
        chunks, have = [self._pending], len(self._pending)
        while have < size and not self._ended:
            chunk = self.read_chunk(max(size - have, 1 << 16))
            if not chunk:
                self._ended = True
            chunks.append(chunk)
            have += len(chunk)
        data = b"".join(chunks)
        taken, self._pending = data[:size], data[size:]
        return taken

    def _discard(self, size: int) -> bool:
        """Skip `size` bytes without holding them; False at end of input."""
        while size > 0:
            chunk = self._read(min(size, 1 << 16))
            if not chunk:
                return False
            size -= len(chunk)
        return True

    def _length(self) -> int | EndOfInput:
        """Read headers up to the blank line; the last valid length seen, if any."""
        length: int | None = None
        while True:
            line = self._readline()
            if not line:
                return EndOfInput("end of input")
            matches = _LENGTH.findall(line)
            if matches:
                value = matches[-1].strip()
                length = int(value) if value.isdigit() else None
                if length is None:
                    log.warning("ignoring a frame with Content-Length %r", value[:40])
            elif not line.strip() and length is not None:
                return length

    def read(self) -> Frame:
        """The next message (parsed JSON), a `ParseFailure`, or `EndOfInput`."""
        while True:
            length = self._length()
            if isinstance(length, EndOfInput):
                return length
            if length > MAX_MESSAGE_BYTES:
                log.warning("discarding a %d-byte message (limit %d)", length, MAX_MESSAGE_BYTES)
                if not self._discard(length):
                    return EndOfInput("end of input inside an oversized message")
                continue
            body = self._read(length)
            if len(body) < length:
                return EndOfInput(f"truncated message ({len(body)} of {length} bytes)")
            return self._parse(body)

    def _parse(self, body: bytes) -> Frame:
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as error:
            # A length too long swallows the next frame: read it again from its header.
            match = _LENGTH.search(body)
            if match is not None:
                self._pending = body[match.start() :] + self._pending
            return ParseFailure(f"{type(error).__name__}: {str(error)[:120]}")


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
        self.handle_message(message)

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

    def _send_handler_result(self, future: Any, *, msg_id: Any) -> None:
        """The one place a request's response is produced: result, -32800, or an error."""
        self._request_futures.pop(msg_id, None)
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
        try:
            super()._handle_notification(method_name, params)
        except Exception as error:  # pygls reports these as pop-ups; we only log
            log.warning("notification %s failed: %s", method_name, describe_error(error))

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
        self, params: types.DidChangeTextDocumentParams
    ) -> Generator[Any, Any, None]:
        """pygls's workspace copy may fail to update (unknown URI, odd range); our own
        document store must still see the change."""
        try:
            for change in params.content_changes:
                self.workspace.update_text_document(params.text_document, change)
        except Exception as error:
            log.debug("pygls workspace copy not updated: %s", type(error).__name__)
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None


# -- the loop -------------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _start_reader(reader: FrameReader, deliver: Callable[[Frame], object]) -> threading.Thread:
    def run() -> None:
        while True:
            try:
                frame = reader.read()
            except (OSError, ValueError) as error:
                frame = EndOfInput(f"input failed: {type(error).__name__}")
            try:
                deliver(frame)
            except RuntimeError:  # the loop is closed: the session is over
                return
            if isinstance(frame, EndOfInput):
                return

    # A daemon: a read blocked on an open stdin must never keep the process alive.
    thread = threading.Thread(target=run, name="ghostls-stdin", daemon=True)
    thread.start()
    return thread


async def _watch_parent(protocol: GhostlsProtocol) -> None:
    while not protocol.stopping.is_set():
        pid = protocol.parent_pid
        if pid is not None and not _alive(pid):
            log.warning("the editor (process %d) is gone; stopping", pid)
            protocol.stopping.set()
            return
        await asyncio.sleep(PARENT_POLL_S)


async def run_session(server: Any, stdin: BinaryIO, stdout: BinaryIO) -> int:
    """Serve one client until `exit`, end of input or the editor's death; the exit code."""
    protocol: GhostlsProtocol = server.protocol
    protocol.stopping = asyncio.Event()
    protocol.set_writer(StdoutWriter(stdout))
    loop = asyncio.get_running_loop()
    frames: asyncio.Queue[Frame] = asyncio.Queue()
    source = stdin.fileno()
    # Backpressure: the reader stops reading while the loop is this far behind, so a
    # flood waits in the pipe (and the client), not as parsed messages in our memory.
    backlog = threading.Semaphore(MAX_BACKLOG_FRAMES)

    def deliver(frame: Frame) -> None:
        backlog.acquire()
        loop.call_soon_threadsafe(frames.put_nowait, frame)

    _start_reader(FrameReader(lambda size: os.read(source, size)), deliver)
    watcher = asyncio.create_task(_watch_parent(protocol))
    stop = asyncio.create_task(protocol.stopping.wait())
    try:
        while not protocol.stopping.is_set():
            get = asyncio.create_task(frames.get())
            await asyncio.wait({get, stop}, return_when=asyncio.FIRST_COMPLETED)
            if not get.done():
                get.cancel()
                break
            frame = get.result()
            backlog.release()
            if isinstance(frame, EndOfInput):
                log.info("stopping: %s", frame.reason)
                break
            try:
                protocol.dispatch(frame)
            except Exception as error:  # never let one message end the session
                log.warning("message not handled: %s", describe_error(error), exc_info=error)
    finally:
        watcher.cancel()
        stop.cancel()
        await _close(server)
    return protocol.exit_code if protocol.exit_code is not None else 1


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
            run_session(server, stdin or sys.stdin.buffer, stdout or sys.stdout.buffer)
        )
    except BrokenPipeError:
        log.warning("the client closed the connection")
        code = 1
    if server._thread_pool is not None:
        server._thread_pool.shutdown(wait=False, cancel_futures=True)
    _leave_if_threads_hang(code)
    return code


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
