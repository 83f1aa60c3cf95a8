"""A real HTTP receiver on loopback for webhook tests: it records each request, checks its
signatures, and can be told to fail or to be slow on purpose."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)

    def wandb_signature_valid(self, secret: str) -> bool:
        expected = base64.b64encode(hmac.new(secret.encode(), self.body, hashlib.sha256).digest())
        return hmac.compare_digest(expected.decode(), self.headers.get("x-wandb-signature", ""))

    def standard_signature_valid(self, key: bytes, tolerance: float = 300) -> bool:
        """Standard Webhooks: v1,<base64 HMAC of id.timestamp.body>, timestamp within 5 min."""
        message_id = self.headers.get("webhook-id", "")
        timestamp = self.headers.get("webhook-timestamp", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
            return False
        signed = f"{message_id}.{timestamp}.".encode() + self.body
        expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        return any(
            hmac.compare_digest(expected, given)
            for given in self.headers.get("webhook-signature", "").split()
        )


@dataclass
class Receiver:
    """Answers `statuses` in turn (then 200), after `delay` seconds each."""

    server: ThreadingHTTPServer
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    body: bytes = b"ok"
    delay: float = 0

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def ids(self) -> list[str]:
        return [r.headers.get("webhook-id", "") for r in self.requests]


def start_receiver() -> Receiver:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            with lock:
                receiver.requests.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                status = receiver.statuses.pop(0) if receiver.statuses else 200
            time.sleep(receiver.delay)
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(receiver.body)))
                self.end_headers()
                self.wfile.write(receiver.body)
            except OSError:
                pass  # the sender gave up waiting

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(server)
    # Checks for shutdown every 50 ms, not the default 500: each test that uses it waits that
    # long to stop it.
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return receiver
