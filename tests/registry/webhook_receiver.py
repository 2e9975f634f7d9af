"""A real webhook receiver for the tests: ``http.server`` on a free loopback port, in a thread.

``Receiver.plan`` lists what the next requests get: a status code, or ``"hang"`` (answer after
``hang_seconds``, past the sender's timeout); once the plan is spent every request gets 200.
Every request is kept (headers and raw body) in ``received``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Request:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    plan: list[int | str] = field(default_factory=list)
    received: list[Request] = field(default_factory=list)
    hang_seconds: float = 1.5

    def next_answer(self) -> int | str:
        return self.plan.pop(0) if self.plan else 200


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            rec = state["receiver"]
            rec.received.append(Request(dict(self.headers.items()), body))
            answer = rec.next_answer()
            if answer == "hang":
                time.sleep(rec.hang_seconds)
                answer = 200
            code = int(answer)
            payload = b"ok" if code < 300 else b"boom " + b"x" * 2000
            try:
                self.send_response(code)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state["receiver"] = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["receiver"]
    finally:
        server.shutdown()
        server.server_close()
