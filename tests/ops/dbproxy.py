"""A TCP proxy in front of PostgreSQL that a test can take down and bring back, as a restarted
server, a failover or a broken network would, without touching the shared server.

`DatabaseProxy(host, port)` listens on a free port of 127.0.0.1. `cut()` drops every connection
through it; `refuse()` drops them and closes each new one at once; `accept()` lets them through
again. `app_through(proxy)` points the app's own default connection at it for a test (pooled or
not, as the settings say), and `database_proxy` is that as a fixture. The test's own connection
goes through the proxy too: after an outage, close it (`connection.close()`) before querying.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest
from django.db import connection

MAX_CONNECTIONS = 8
# A request waits this long for a pooled connection before answering 503; the settings' 5
# seconds (DATABASE_POOL_TIMEOUT) are long for a test.
POOL_TIMEOUT = 1


class DatabaseProxy:
    """Forwards TCP connections from a port on 127.0.0.1 to the database.

    At most MAX_CONNECTIONS at a time, each moved by two threads, so it never runs away."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.refusing = False
        self.sockets: list[socket.socket] = []
        self.threads: list[threading.Thread] = []
        self.lock = threading.Lock()
        self._start(self._accept)

    def _start(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self.threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed
                return
            with self.lock:
                if self.refusing or len(self.sockets) >= 2 * MAX_CONNECTIONS:
                    client.close()
                    continue
                try:
                    server = socket.create_connection(self.upstream)
                except OSError:
                    client.close()
                    continue
                self.sockets += [client, server]
            self._start(self._pump, client, server)
            self._start(self._pump, server, client)

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        for end in (source, target):
            with contextlib.suppress(OSError):  # the other pump may have closed it
                end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> int:
        """Drop every connection through the proxy (it still accepts new ones); returns how
        many were dropped."""
        with self.lock:
            dropped, self.sockets = self.sockets, []
        for end in dropped:
            with contextlib.suppress(OSError):  # its pump may have shut it down already
                end.shutdown(socket.SHUT_RDWR)
            end.close()
        return len(dropped) // 2

    def refuse(self) -> None:
        """The database goes away: every connection is dropped, and new ones closed at once."""
        with self.lock:
            self.refusing = True
        self.cut()

    def accept(self) -> None:
        """The database is back: new connections go through again."""
        with self.lock:
            self.refusing = False

    def close(self) -> None:
        # Closing alone leaves the accepting thread blocked until its join times out.
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.cut()
        for thread in self.threads:
            thread.join(timeout=5)


@contextlib.contextmanager
def app_through(proxy: DatabaseProxy, *, pooled: bool | None = None) -> Iterator[None]:
    """The app's default connection reaches the database through the proxy until the block
    ends, in this thread and in any other (a live server's): from a pool of its own that waits
    briefly when `pooled` (by default, as the settings say), else a connection per request."""
    settings = connection.settings_dict  # shared by every thread's connection: changed in place
    original = {key: settings[key] for key in ("HOST", "PORT", "CONN_MAX_AGE", "OPTIONS")}
    options = dict(settings["OPTIONS"])
    pool = options.pop("pool", None)
    if pooled if pooled is not None else bool(pool):
        options["pool"] = {**(pool if isinstance(pool, dict) else {}), "timeout": POOL_TIMEOUT}
    _reconnect()
    settings.update(HOST="127.0.0.1", PORT=proxy.port, CONN_MAX_AGE=0, OPTIONS=options)
    try:
        yield
    finally:
        _reconnect()
        settings.update(original)


def _reconnect() -> None:
    """Close this thread's connection and the pool, so that the next query connects with the
    settings then; other threads close theirs at the end of their request, as servers do."""
    connection.close()
    if connection.vendor == "postgresql":
        connection.close_pool()


@pytest.fixture
def database_proxy(request, transactional_db) -> Iterator[DatabaseProxy]:
    """The app's database, through a proxy the test takes down and brings back (PostgreSQL).

    Pooled as the settings say, or as an indirect parameter says (True or False). Transactional:
    the test's data is committed, as a server's would be, and outlives the cut connections."""
    if connection.vendor != "postgresql":
        pytest.skip("the proxy stands in front of PostgreSQL")
    settings = connection.settings_dict
    proxy = DatabaseProxy(settings["HOST"] or "127.0.0.1", int(settings["PORT"] or 5432))
    with app_through(proxy, pooled=getattr(request, "param", None)):
        yield proxy
    proxy.close()
