"""A real HTTP server on 127.0.0.1 that stands in for the Hugging Face Hub.

It answers what `hf_hub_download` (huggingface_hub 2.4) asks, read from its source
(`file_download.get_hf_file_metadata`, `http_get`):

- `HEAD /{owner}/{repo}/resolve/{revision}/{filename}` with `X-Repo-Commit` (required,
  or huggingface_hub decides the endpoint is not a Hub), `ETag` / `X-Linked-Etag`
  (the blob name in the cache), `X-Linked-Size` / `Content-Length` (the expected size);
  no `X-Xet-Hash`, so the client takes the plain HTTP path;
- `GET` of the same URL, honouring `Range: bytes=N-` with `206` and `Content-Range`,
  which is how an interrupted download resumes;
- `404` with `X-Error-Code: RepoNotFound` / `EntryNotFound`, as the Hub does.

Every request is logged (`requests`), so a test can tell a cache hit (no request)
from a download. `stop()` also closes kept-alive connections: huggingface_hub pools
them, and a "stopped" hub that still answers on an old connection would hide a bug.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

COMMIT = "0123456789abcdef0123456789abcdef01234567"
_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<revision>[^/]+)/(?P<filename>.+)$")
_RANGE = re.compile(r"^bytes=(?P<start>\d+)-$")


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    range: str | None


@dataclass
class FakeHub:
    files: dict[tuple[str, str], bytes] = field(default_factory=dict)  # (repo, name) → data
    requests: list[LoggedRequest] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _connections: set[socket.socket] = field(default_factory=set)

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the hub first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeHub:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        self._server.daemon_threads = True
        # A short poll: `shutdown()` waits for serve_forever to notice (0.5 s by default).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for connection in list(self._connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _handler_class(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the real Hub

        def setup(self) -> None:
            super().setup()
            hub._connections.add(self.connection)

        def finish(self) -> None:
            hub._connections.discard(self.connection)
            super().finish()

        def log_message(self, format: str, *args: object) -> None:
            return None  # keep test output clean; `hub.requests` is the log

        def do_HEAD(self) -> None:
            self._answer(with_body=False)

        def do_GET(self) -> None:
            self._answer(with_body=True)

        def _answer(self, with_body: bool) -> None:
            hub.requests.append(LoggedRequest(self.command, self.path, self.headers.get("Range")))
            match = _RESOLVE.match(self.path.split("?")[0])
            if match is None:
                return self._error(404, "RepoNotFound")
            repo, filename = match["repo"], unquote(match["filename"])
            if not any(known == repo for known, _ in hub.files):
                return self._error(404, "RepoNotFound")
            data = hub.files.get((repo, filename))
            if data is None:
                return self._error(404, "EntryNotFound")
            self._send_file(data, with_body)

        def _send_file(self, data: bytes, with_body: bool) -> None:
            start = 0
            range_match = _RANGE.match(self.headers.get("Range") or "")
            if range_match is not None and with_body:
                start = int(range_match["start"])
            etag = hashlib.sha256(data).hexdigest()
            self.send_response(206 if start else 200)
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("ETag", f'"{etag}"')
            self.send_header("X-Linked-Etag", f'"{etag}"')
            self.send_header("X-Linked-Size", str(len(data)))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(len(data) - start))
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.end_headers()
            if with_body:
                self.wfile.write(data[start:])

        def _error(self, status: int, code: str) -> None:
            self.send_response(status)
            self.send_header("X-Error-Code", code)
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler
