"""The bytes under JSON-RPC: `Content-Length` frames in, responses out.

- `FrameReader` reads frames from a blocking byte source, resynchronising on junk: a
  bad or missing length is skipped up to the next header, a huge one
  (> `MAX_MESSAGE_BYTES`) is discarded without being held in memory, a body that
  swallowed the next frame is split again, a truncated body or end of input ends it.
- `start_reader` runs it on a daemon thread, one `Slots` place per frame read but not
  yet dispatched, and delivers frames already buffered together in one batch.
- `BatchedWriter` sends what the loop writes during one turn in one write.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
MAX_HEADER_LINE = 64 * 1024
# At most this many frames already in the read buffer are delivered in one batch.
MAX_BATCH_FRAMES = 64

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

    def has_frame(self) -> bool:
        """Whether a whole frame (headers and body) is already buffered, so `read` will
        not block (False when unsure: the caller just reads it later)."""
        end = self._pending.find(b"\r\n\r\n")
        match = _LENGTH.search(self._pending, 0, end) if end >= 0 else None
        value = match.group(1).strip() if match is not None else b""
        return value.isdigit() and len(self._pending) >= end + 4 + int(value)

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


class Slots:
    """`MAX_BACKLOG_FRAMES` places for read-but-undispatched frames. A reader that found
    them all taken waits until half are free again, then reads a batch: one wake-up per
    half backlog instead of a thread switch per message while the loop is behind."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._held = 0
        self._waiting = False
        self._changed = threading.Condition()

    def acquire(self, blocking: bool = True) -> bool:
        with self._changed:
            if self._held >= self._size:
                if not blocking:
                    return False
                self._waiting = True
                while self._held > self._size // 2:
                    self._changed.wait()
                self._waiting = False
            self._held += 1
            return True

    def release(self) -> None:
        with self._changed:
            self._held -= 1
            if self._waiting and self._held <= self._size // 2:
                self._changed.notify()


class BatchedWriter:
    """pygls's `StdoutWriter` writes and flushes every message: one system call each, a
    tenth of a keystroke flood's cost. Here what is written during one turn of the loop
    goes out in one write at its end, in order; `flush` sends what is left."""

    def __init__(self, stdout: BinaryIO, loop: asyncio.AbstractEventLoop) -> None:
        self._stdout = stdout
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self._pending: list[bytes] = []
        self._lock = threading.Lock()
        self._broken = False

    def write(self, data: bytes) -> None:
        with self._lock:
            first = not self._pending
            self._pending.append(data)
        if not first:
            return
        if threading.get_ident() == self._loop_thread:
            self._loop.call_soon(self.flush)
        else:
            self._loop.call_soon_threadsafe(self.flush)

    def flush(self) -> None:
        with self._lock:
            data = b"".join(self._pending)
            self._pending.clear()
        if not data or self._broken:
            return
        try:
            self._stdout.write(data)
            self._stdout.flush()
        except (BrokenPipeError, ValueError, OSError):
            self._broken = True  # the reader sees the end of input and ends the session
            log.warning("the client closed the connection")

    def close(self) -> None:
        self.flush()
        self._stdout.close()


def start_reader(
    reader: FrameReader, deliver: Callable[[list[Frame]], object], slots: Slots
) -> threading.Thread:
    """Read frames on a daemon thread, one backlog slot each. Frames already buffered
    together (one write of the editor's) are delivered together, so the backlog's rules
    see a request and the cancel or edit right behind it before either is dispatched."""

    def read() -> Frame:
        try:
            return reader.read()
        except (OSError, ValueError) as error:
            return EndOfInput(f"input failed: {type(error).__name__}")

    def run() -> None:
        while True:
            slots.acquire()
            batch = [read()]
            while (
                not isinstance(batch[-1], EndOfInput)
                and len(batch) < MAX_BATCH_FRAMES
                and reader.has_frame()
                and slots.acquire(blocking=False)
            ):
                batch.append(read())
            try:
                deliver(batch)
            except RuntimeError:  # the loop is closed: the session is over
                return
            if isinstance(batch[-1], EndOfInput):
                return

    # A daemon: a read blocked on an open stdin must never keep the process alive.
    thread = threading.Thread(target=run, name="ghostls-stdin", daemon=True)
    thread.start()
    return thread
