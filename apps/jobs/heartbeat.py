"""A thread that proves its process alive while the main thread works."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import TracebackType

from django.db import connection

log = logging.getLogger(__name__)


class Heartbeat:
    """Call `beat` every `every` seconds on a thread of its own while the block runs.

    The thread has its own database connection, closed when it stops. A beat that fails is
    logged and the next one tried: a database that stops answering for a while must not end
    the work it proves alive.
    """

    def __init__(self, beat: Callable[[], object], every: float, name: str = "heartbeat"):
        self.beat = beat
        self.every = every
        self._stop = threading.Event()
        # A daemon, so a beat stuck on the database never holds the process open.
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=self.every)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.every):
                try:
                    self.beat()
                except Exception:
                    log.exception("A heartbeat failed; trying again in %s s", self.every)
                    connection.close()  # a broken connection is replaced at the next beat
        finally:
            connection.close()
