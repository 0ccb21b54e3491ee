"""A scripted HTTP server on 127.0.0.1 (a free port) standing in for gateways and robots."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-serialised; None sends an empty body
    delay: float = 0.0


@dataclass
class FakeServer:
    url: str
    requests: list[Seen] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    # Computes the reply from the request when set (e.g. to check a signature).
    responder: Callable[[Seen], Reply] | None = None

    def script(self, *replies: Reply) -> None:
        self.replies.extend(replies)


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    state: dict[str, FakeServer] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            server = state["server"]
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            seen = Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, json.loads(raw or b"null"))
            server.requests.append(seen)
            if server.responder is not None:
                reply = server.responder(seen)
            else:
                reply = server.replies.pop(0) if server.replies else Reply()
            if reply.delay:
                time.sleep(reply.delay)
            data = b"" if reply.body is None else json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    state["server"] = FakeServer(url=f"http://127.0.0.1:{httpd.server_address[1]}")
    try:
        yield state["server"]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def notify_settings(settings, fake_server: FakeServer):  # type: ignore[no-untyped-def]
    settings.NOTIFY_SMS_URL = f"{fake_server.url}/sms"
    settings.NOTIFY_SMS_API_KEY = "test-key"
    settings.NOTIFY_SMS_API_KEY_HEADER = "X-API-Key"
    settings.NOTIFY_WECOM_WEBHOOK_URL = f"{fake_server.url}/cgi-bin/webhook/send?key=abc"
    settings.NOTIFY_DINGTALK_WEBHOOK_URL = f"{fake_server.url}/robot/send?access_token=xyz"
    settings.NOTIFY_DINGTALK_SECRET = ""
    settings.NOTIFY_HTTP_TIMEOUT_SECONDS = 2.0
    settings.NOTIFY_MAX_ATTEMPTS = 4
    settings.NOTIFY_BACKOFF_BASE_SECONDS = 30
    settings.NOTIFY_BACKOFF_MAX_SECONDS = 3600
    settings.NOTIFY_BACKOFF_JITTER = 0.0
    settings.NOTIFY_SENDING_TIMEOUT_SECONDS = 300
    settings.NOTIFY_DEFAULT_CHANNEL = "console"
    return settings
