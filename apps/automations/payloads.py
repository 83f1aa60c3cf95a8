"""Payload templates: JSON text with ${variables} (W&B's, reference §11.6), checked when saved.

A value goes in JSON-escaped, so a template stays valid JSON whatever the event says; write
each variable inside a string ("${alias}"). Secrets go in by name (${ACCESS_TOKEN}, or any secret
the webhook uses, e.g. ${GITHUB_TOKEN}); the history keeps what was sent with them masked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError

VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)?)\}")

# What each event-describing variable holds, as the product's help lists them.
EVENT_VARIABLES = {
    "event_type": "LINK_ARTIFACT, ADD_ARTIFACT_ALIAS, … (the event)",
    "event_author": "who made the change",
    "entity_name": "the organization",
    "project_name": "the registry",
    "artifact_collection_name": "the collection",
    "artifact_version": "the version's id",
    "artifact_version_string": "<org>/<registry>/<collection>:v<N>",
    "alias": "the alias, for alias events",
    "tag": "the tag, for tag events",
    "page_url": "the page of what changed",
}
METADATA_PREFIX = "artifact_metadata."

GITHUB_DISPATCH_EXAMPLE = """{
  "event_type": "${event_type}",
  "client_payload": {
    "version": "${artifact_version_string}",
    "alias": "${alias}",
    "author": "${event_author}",
    "url": "${page_url}"
  }
}"""

SAMPLE_CONTEXT = {
    "event_type": "ADD_ARTIFACT_ALIAS",
    "event_author": "maria",
    "entity_name": "acme",
    "project_name": "model",
    "artifact_collection_name": "classifier",
    "artifact_version": "8b0c6f8e-2f64-4c1e-9a43-1b0f0d9a7c11",
    "artifact_version_string": "acme/model/classifier:v3",
    "alias": "production",
    "tag": "",
    "page_url": "http://registry.example/orgs/acme/registry/model/classifier/v3/",
}


def variables_in(template: str) -> set[str]:
    return set(VARIABLE.findall(template))


def render(
    template: str,
    context: Mapping[str, Any],
    metadata: Mapping[str, Any] = {},
    *,
    keep: Iterable[str] = (),
) -> str:
    """The template with each ${variable} replaced by its JSON-escaped value; a metadata key the
    version lacks, and a variable the event lacks, become empty; those in `keep` stay as they
    are (secrets, put in only when sending). A `$` in a value goes in JSON-escaped (u0024), so
    that no value can name a variable of its own."""
    kept = set(keep)

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name in kept:
            return match.group(0)
        if name.startswith(METADATA_PREFIX):
            found = metadata.get(name.removeprefix(METADATA_PREFIX), "")
        else:
            found = context.get(name, "")
        text = found if isinstance(found, str) else json.dumps(found)
        return json.dumps(text)[1:-1].replace("$", "\\u0024")

    return VARIABLE.sub(value, template)


def validate_payload(template: str, secret_names: Iterable[str]) -> None:
    """Refuse, at save time, a template that is not JSON or names an unknown variable."""
    known = set(EVENT_VARIABLES) | set(secret_names)
    unknown = sorted(
        name
        for name in variables_in(template)
        if name not in known and not name.startswith(METADATA_PREFIX)
    )
    if unknown:
        listed = ", ".join(f"${{{name}}}" for name in unknown)
        secrets = ", ".join(sorted(secret_names)) or "none"
        raise ValidationError(
            f"The payload names {listed}, which no event or secret provides. Use the event's "
            f"variables ({', '.join(sorted(EVENT_VARIABLES))}), ${{artifact_metadata.<key>}}, "
            f"or a secret of this webhook ({secrets}).",
            code="unknown_variable",
        )
    rendered = render(template, SAMPLE_CONTEXT | dict.fromkeys(secret_names, "secret"))
    try:
        json.loads(rendered)
    except RecursionError:  # thousands of nested [ or {: Python's parser gives up
        raise ValidationError("The payload is nested too deeply.", code="invalid_json") from None
    except json.JSONDecodeError as error:
        raise ValidationError(
            f"The payload is not valid JSON (line {error.lineno}, column {error.colno}: "
            f'{error.msg}). Put each ${{variable}} inside a string, e.g. "${{alias}}".',
            code="invalid_json",
        ) from None
