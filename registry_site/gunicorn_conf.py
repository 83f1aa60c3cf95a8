"""gunicorn's settings for serving the registry: `gunicorn -c registry_site/gunicorn_conf.py
registry_site.wsgi` (or `-c python:registry_site.gunicorn_conf`); `make serve` runs it.

Reads HOST and PORT (default 127.0.0.1:8000), WEB_CONCURRENCY (processes, default 2),
WEB_THREADS (threads per process, default 4; settings size each process's database pool by it)
and PROMETHEUS_MULTIPROC_DIR (where workers keep their metrics; a folder in /tmp by default).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

port = os.environ.get("PORT", "8000")
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{port}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))

# gthread, not sync: uploads to the local folder and downloads from it stream through the app,
# and a sync worker is held by one transfer from first byte to last, so one slow client pins a
# whole process (and a sync worker that runs past `timeout` is killed, mid-upload). With a few
# threads per process a slow transfer holds one thread, and the process still heartbeats and
# answers. Pages and API calls cost about the same as on sync workers. Full downloads from the
# local folder leave through sendfile, without Python touching the bytes.
worker_class = "gthread"
threads = int(os.environ.setdefault("WEB_THREADS", "4"))

# No preload_app: it would load Django into the master too. The workers forked from it would
# share those pages copy-on-write, but RSS counts shared pages in every process, and requests
# soon unshare them: measured after a few pages, 186 MB RSS and 130 MB PSS for the tree against
# 160 and 123 without it (README, "Serving in production"), and no faster start.
preload_app = False

# gunicorn's runtime control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl), so
# two servers on one machine would take it from each other; nothing here uses it.
control_socket_disable = True

# Each worker writes its metrics to files here; /metrics adds up all of them. Set before any
# worker imports prometheus_client, which picks its storage at import.
metrics_dir_is_ours = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
metrics_dir = Path(
    os.environ.setdefault(
        "PROMETHEUS_MULTIPROC_DIR", str(Path(tempfile.gettempdir()) / f"registry-metrics-{port}")
    )
)


def _clear_samples() -> None:
    for samples in metrics_dir.glob("*.db"):
        samples.unlink()


def on_starting(server) -> None:
    """Samples left by an earlier run would be added to this one's: start from none."""
    metrics_dir.mkdir(parents=True, exist_ok=True)
    _clear_samples()


def on_exit(server) -> None:
    """Leave nothing behind: the samples mean nothing once the server has stopped."""
    _clear_samples()
    if metrics_dir_is_ours:
        metrics_dir.rmdir()


def child_exit(server, worker) -> None:
    """A dead worker's live gauges must not be added up with the running ones'."""
    from prometheus_client import multiprocess  # here, so the master loads it only when needed

    multiprocess.mark_process_dead(worker.pid)
