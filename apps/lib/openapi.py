"""How a JSON endpoint describes itself for the OpenAPI document: `api_view` takes one
`Operation` per method, written beside the view, and registry_site/api.py gathers them from the
routes (each route's path parameters come from the route itself)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ERROR_DESCRIPTIONS = {
    400: "Bad input",
    401: "No valid token",
    403: "Role too low",
    404: "Not found, or not visible",
    409: "Not possible in the current state",
    411: "Content-Length missing",
    429: "Too many failed tokens from this address: wait as Retry-After says",
    503: "The database does not answer for the moment: try again after Retry-After",
}
# Any endpoint may answer these: a token guesser is throttled, and the database may go away.
EVERY_ENDPOINT_ERRORS = (429, 503)


@dataclass(frozen=True)
class Schema:
    """A schema the document defines once, under its name in components, and refers to
    wherever it is used."""

    name: str
    schema: dict[str, Any]


ERROR = Schema(
    "Error",
    {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            }
        },
    },
)
BINARY = {"type": "string", "format": "binary"}


def json_content(schema: dict[str, Any] | Schema) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


@dataclass(frozen=True)
class Operation:
    """What one method of an endpoint takes and answers.

    `parameters` are the query and header ones (the route supplies the path ones); `body` is
    the request's content by media type; `errors` are the statuses it may answer besides
    `status` and EVERY_ENDPOINT_ERRORS.
    """

    summary: str
    description: str
    response: dict[str, Any] | Schema
    errors: tuple[int, ...]
    parameters: tuple[dict[str, Any], ...] = ()
    body: dict[str, Any] | None = None
    status: int = 200

    def describe(self, path_parameters: list[dict[str, Any]]) -> dict[str, Any]:
        responses: dict[str, Any] = {
            str(self.status): {"description": "OK", "content": json_content(self.response)}
        }
        for status in (*self.errors, *EVERY_ENDPOINT_ERRORS):
            responses[str(status)] = {
                "description": ERROR_DESCRIPTIONS[status],
                "content": json_content(ERROR),
            }
        operation: dict[str, Any] = {
            "summary": self.summary,
            "description": self.description,
            "parameters": [*path_parameters, *self.parameters],
            "responses": responses,
        }
        if self.body is not None:
            operation["requestBody"] = {"required": True, "content": self.body}
        return operation


def with_references(value: Any, components: dict[str, Any]) -> Any:
    """`value` with each Schema in it replaced by a reference, its definition put in
    `components` under its name."""
    if isinstance(value, Schema):
        if value.name not in components:  # referenced often; its definition is written once
            components[value.name] = with_references(value.schema, components)
        return {"$ref": f"#/components/schemas/{value.name}"}
    if isinstance(value, dict):
        return {key: with_references(item, components) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [with_references(item, components) for item in value]
    return value
