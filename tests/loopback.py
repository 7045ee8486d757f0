"""A test site's HTTP server: one loopback address, a free port, a thread, a request log.

``with LoopbackServer(reply, host) as server:`` answers every GET with ``reply(path)`` (the
path with its query, as the request line carries it) at ``server.base``, and records when each
request arrived and when its answer was written.
"""

from __future__ import annotations

import contextlib
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class Reply:
    status: int = 200
    content_type: str | None = "text/html; charset=utf-8"
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


NOT_FOUND = Reply(404, "text/plain; charset=utf-8", b"Not Found")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], owner: LoopbackServer) -> None:
        super().__init__(address, _Handler)
        self.owner = owner

    def server_bind(self) -> None:  # no getfqdn() DNS lookup of the address
        socketserver.TCPServer.server_bind(self)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        owner = self.server.owner
        owner.log(owner.requests, self.path)
        reply = owner.reply(self.path)
        self.send_response(reply.status)
        if reply.content_type:
            self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client left
            self.wfile.write(reply.body)
        owner.log(owner.answers, self.path, reply.status)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class LoopbackServer:
    def __init__(self, reply: Callable[[str], Reply], host: str = "127.0.0.1") -> None:
        self.reply = reply
        self._server = _Server((host, 0), self)
        address, port = self._server.server_address[:2]
        self.netloc = f"{address!s}:{port}"
        self.base = f"http://{self.netloc}"
        self.requests: list[tuple[float, str]] = []  # (time.monotonic(), path) on arrival
        self.answers: list[tuple[float, str]] = []  # ... once the answer was written
        self.statuses: list[tuple[str, int]] = []  # (path, status) of each answer
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def log(self, into: list[tuple[float, str]], path: str, status: int | None = None) -> None:
        now = time.monotonic()
        with self._lock:
            into.append((now, path))
            if status is not None:
                self.statuses.append((path, status))

    @property
    def paths(self) -> list[str]:
        """The paths requested, in the order they arrived."""
        with self._lock:
            return [path for _, path in self.requests]

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
