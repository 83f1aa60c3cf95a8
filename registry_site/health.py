"""Probes for whatever runs the server: `/healthz` says the process answers (a failing one is
restarted), `/readyz` says it can serve, its database and blob store answering (a failing one is
sent no traffic). Neither needs a signed-in user; a probe without cookies touches no session."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from django.contrib.auth.decorators import login_not_required
from django.core.files.storage import FileSystemStorage
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils.log import log_response
from django.views.decorators.http import require_safe

from apps.artifacts.storage import blob_storage

log = logging.getLogger(__name__)


@login_not_required
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@login_not_required
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the blob store both answer, else 503 naming what failed.

    The reasons stay in the server's log: the answer is public, and errors name hosts and paths.
    """
    checks = {"database": _check_database, "storage": _check_blob_store}
    results, reasons = {}, []
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception as error:  # whatever the failure, the probe answers and the log says why
            results[name] = "failed"
            reasons.append(f"{name}: {error!r}")
    ready = not reasons
    response = JsonResponse(
        {"status": "ready" if ready else "unavailable", "checks": results},
        status=200 if ready else 503,
    )
    if reasons:
        # Once, as a warning: an outage is the operator's to see, not an error of this code.
        log_response(
            "Readiness: not ready (%s)",
            "; ".join(reasons),
            response=response,
            request=request,
            logger=log,
            level="warning",
        )
    return response


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_blob_store() -> None:
    storage = blob_storage()
    if isinstance(storage, FileSystemStorage):
        _check_folder_writable(Path(storage.location))
    else:  # S3: the cheapest call that proves the bucket is there and ours to use
        storage.client.head_bucket(Bucket=storage.bucket_name)


def _check_folder_writable(location: Path) -> None:
    """The folder exists and is writable, or can be made (the first upload makes it)."""
    folder = location
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise OSError(f"{location} is not a folder this process can write in")
