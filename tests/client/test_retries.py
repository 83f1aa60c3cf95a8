"""The client tries again what is safe to try again, waits as told, and says what happened.

Against small real HTTP servers in threads that answer as a server does during an outage:
503 with Retry-After and the API's error body, a connection closed without an answer.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from registry.client import Client, RegistryError, Retries

OUTAGE = {
    "status": 503,
    "headers": {"Retry-After": "0"},
    "body": {"error": {"code": "database_unavailable", "message": "The database is down."}},
}
FOUND = {"status": 200, "headers": {}, "body": {"path": "acme/model/m:v0", "files": []}}
CLOSE = "close the connection without answering"
STALL = "say nothing for a second and a half"


class Script:
    """What the server answers, in order; the last answer repeats. Records each request."""

    def __init__(self, *answers) -> None:
        self.answers = list(answers)
        self.requests: list[tuple[float, str, str, bytes]] = []

    def next(self):
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script(FOUND)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            script.requests.append((time.monotonic(), self.command, self.path, body))
            answer = script.next()
            if answer == STALL:
                time.sleep(1.5)
                return
            if answer == CLOSE:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            data = json.dumps(answer["body"]).encode()
            self.send_response(answer["status"])
            for name, value in {**answer["headers"], "Content-Length": str(len(data))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _answer

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", script
    httpd.shutdown()
    httpd.server_close()


def client(url: str, timeout: float | None = None, **retries) -> Client:
    retries = Retries(**retries) if retries else None
    return Client(url=url, token="reg_test", retries=retries, timeout=timeout)


def test_it_waits_as_the_server_asks_then_succeeds(server):
    url, script = server
    script.answers = [{**OUTAGE, "headers": {"Retry-After": "1"}}, OUTAGE, FOUND]
    assert client(url).resolve("acme/model/m:v0")["path"] == "acme/model/m:v0"
    times = [sent for sent, *_ in script.requests]
    assert len(times) == 3
    assert times[1] - times[0] >= 1.0  # Retry-After: 1 honoured
    assert times[2] - times[1] < 0.5  # Retry-After: 0, no backoff on top


def test_without_retry_after_it_backs_off(server):
    url, script = server
    script.answers = [{**OUTAGE, "headers": {}}, {**OUTAGE, "status": 502, "headers": {}}, FOUND]
    client(url).resolve("acme/model/m:v0")
    times = [sent for sent, *_ in script.requests]
    # Half of 0.5 s, then half of 1 s, at the least; jitter only adds.
    assert times[1] - times[0] >= 0.25 and times[2] - times[1] >= 0.5


def test_when_it_never_recovers_the_error_says_what_happened_and_what_to_do(server):
    url, script = server
    script.answers = [OUTAGE]
    with pytest.raises(RegistryError) as caught:
        client(url, attempts=3).resolve("acme/model/m:v0")
    assert len(script.requests) == 3
    error = caught.value
    assert (error.status, error.code) == (503, "database_unavailable")
    assert f"GET {url}/api/v1/resolve/?path=acme%2Fmodel%2Fm%3Av0 failed after 3 attempt" in str(
        error
    )
    assert "the last answer was 503 database_unavailable: The database is down." in str(error)
    assert "REGISTRY_RETRIES" in str(error)


def test_a_retry_after_past_the_time_limit_gives_up_at_once(server):
    url, script = server
    script.answers = [{**OUTAGE, "headers": {"Retry-After": "3600"}}]
    started = time.monotonic()
    with pytest.raises(RegistryError) as caught:
        client(url, attempts=5, seconds=10).resolve("acme/model/m:v0")
    assert time.monotonic() - started < 1 and len(script.requests) == 1
    assert "would pass the limit of 10 s" in str(caught.value)


def test_a_request_that_is_not_safe_to_repeat_is_sent_once(server):
    """Starting a run makes a new one each time: after a 503 it might have been made."""
    url, script = server
    script.answers = [OUTAGE]
    with pytest.raises(RegistryError) as caught:
        client(url).start_run("acme/ml/mnist")
    assert len(script.requests) == 1 and caught.value.code == "database_unavailable"


def test_a_dropped_connection_is_retried_for_idempotent_posts(server):
    url, script = server
    linked = {"path": "acme/model/c:v0", "aliases": ["latest"]}
    script.answers = [CLOSE, {"status": 201, "headers": {}, "body": linked}]
    assert client(url).link("0b5c1f1e-0000-4000-8000-000000000000", "acme/model/c") == linked
    assert [method for _, method, *_ in script.requests] == ["POST", "POST"]
    assert script.requests[0][3] == script.requests[1][3]  # the same body both times


def test_a_refused_connection_is_retried_then_explained():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(RegistryError) as caught:
        # Nothing reached the server, so even a request that is not idempotent is retried.
        client(url, attempts=2).start_run("acme/ml/mnist")
    assert caught.value.code == "connection_failed"
    message = str(caught.value)
    assert "failed after 2 attempt(s)" in message and "ConnectionRefusedError" in message
    assert f"Check that {url} is up and reachable" in message


def test_the_limits_come_from_the_environment(server, monkeypatch):
    url, script = server
    script.answers = [OUTAGE]
    monkeypatch.setenv("REGISTRY_RETRIES", "2")
    with pytest.raises(RegistryError):
        client(url).resolve("acme/model/m:v0")
    assert len(script.requests) == 2
    monkeypatch.setenv("REGISTRY_RETRY_SECONDS", "soon")
    with pytest.raises(ValueError, match="REGISTRY_RETRY_SECONDS is 'soon'; set it to a number"):
        client(url)


def test_a_stalled_answer_times_out_and_is_tried_again(server):
    url, script = server
    script.answers = [STALL, FOUND]
    started = time.monotonic()
    assert client(url, timeout=0.5).resolve("acme/model/m:v0")["path"] == "acme/model/m:v0"
    assert len(script.requests) == 2 and time.monotonic() - started < 1.5


def test_the_timeout_comes_from_the_environment(server, monkeypatch):
    url, script = server
    script.answers = [STALL]
    monkeypatch.setenv("REGISTRY_TIMEOUT", "0.3")
    with pytest.raises(RegistryError) as caught:
        client(url, attempts=2).resolve("acme/model/m:v0")
    assert "timed out" in str(caught.value)
    monkeypatch.setenv("REGISTRY_TIMEOUT", "never")
    with pytest.raises(ValueError, match="REGISTRY_TIMEOUT is 'never'"):
        client(url)
