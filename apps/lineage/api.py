"""Runs over HTTP: start, finish, and record the versions they use."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404

from apps.accounts.policy import Action, check
from apps.artifacts.lookups import project_for
from apps.lib.api import ApiError, api_view, json_body
from apps.lib.openapi import Operation, Schema, json_content
from apps.lineage.models import Run
from apps.lineage.services import finish_run, record_input, start_run
from apps.registries.api import resolve_linked

RUN = Schema(
    "Run",
    {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "job_type": {"type": "string"},
            "state": {"enum": ["running", "finished", "failed", "crashed"]},
            "config": {"type": "object"},
            "summary": {"type": "object"},
            "started_at": {"type": "string", "format": "date-time"},
            "finished_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
)


def run_json(run: Run) -> dict[str, Any]:
    return {
        "id": run.run_id,
        "name": run.name,
        "job_type": run.job_type,
        "state": run.state,
        "config": run.config,
        "summary": run.summary,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }


def _object(data: dict[str, Any], key: str) -> dict | None:
    value = data.get(key)
    if value is not None and not isinstance(value, dict):
        raise ApiError(400, f"invalid_{key}", f"'{key}' must be a JSON object.")
    return value


@api_view(
    post=Operation(
        "Start a run",
        "A run in a project; its id names it in later calls. Versions logged with its id "
        "(`run`) are its outputs, versions it records as inputs its inputs: the lineage graph "
        "draws it between them, by its name and job type.",
        body=json_content(
            {
                "type": "object",
                "properties": {
                    "name": {
                        "type": "string",
                        "maxLength": 128,
                        "description": "Omitted or empty, the server gives the run a readable "
                        "name, as W&B does: an adjective, a noun and the run's number in the "
                        "project, e.g. `swift-river-7`.",
                    },
                    "job_type": {
                        "type": "string",
                        "maxLength": 64,
                        "description": "What kind of work it does, e.g. `train`, `evaluate`.",
                    },
                    "config": {"type": "object"},
                },
            }
        ),
        response=RUN,
        status=201,
        errors=(400, 401, 403, 404),
    )
)
def runs(request: HttpRequest, org: str, team: str, project: str) -> JsonResponse:
    found = project_for(request.user, org, team, project)
    data = json_body(request)
    run = start_run(
        actor=request.user,
        project=found,
        name=str(data.get("name") or ""),
        job_type=str(data.get("job_type", "")),
        config=_object(data, "config"),
    )
    return JsonResponse(run_json(run), status=201)


def _run(request: HttpRequest, org: str, team: str, project: str, run_id: str) -> Run:
    found = project_for(request.user, org, team, project)
    return get_object_or_404(
        Run.objects.select_related("project__team"), project=found, run_id=run_id
    )


@api_view(
    post=Operation(
        "Finish a run",
        "Mark the run finished, failed or crashed, with summary metrics.",
        body=json_content(
            {
                "type": "object",
                "properties": {
                    "state": {"enum": ["finished", "failed", "crashed"]},
                    "summary": {"type": "object"},
                },
            }
        ),
        response=RUN,
        errors=(400, 401, 403, 404),
    )
)
def finish(request: HttpRequest, org: str, team: str, project: str, run_id: str):
    run = _run(request, org, team, project, run_id)
    data = json_body(request)
    run = finish_run(
        actor=request.user,
        run=run,
        state=str(data.get("state", "finished")),
        summary=_object(data, "summary"),
    )
    return JsonResponse(run_json(run))


@api_view(
    post=Operation(
        "Record a run's input",
        "The run used the linked version at `path` (needs the viewer role or above). A "
        "migrated legacy Model Registry path is followed as `/resolve/` follows it.",
        body=json_content(
            {"type": "object", "required": ["path"], "properties": {"path": {"type": "string"}}}
        ),
        response={"type": "object"},
        status=201,
        errors=(400, 401, 403, 404, 409),
    )
)
def inputs(request: HttpRequest, org: str, team: str, project: str, run_id: str):
    run = _run(request, org, team, project, run_id)
    path = str(json_body(request).get("path", ""))
    link, _ = resolve_linked(request, path)
    check(request.user, Action.DOWNLOAD, link)
    record_input(actor=request.user, run=run, version=link.version)
    return JsonResponse({"run": run.run_id, "used": path}, status=201)
