"""A bounded fuzz run of the OpenAPI document: schemathesis finds no server error.

The run sends generated requests (valid and invalid) to every documented operation of a live
server holding a small organization, and fails on any 5xx answer or a response that breaks the
document. It is bounded by a number of examples per operation, so CI time stays fixed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from apps.accounts.models import ApiToken
from tests.factories import make_link, make_version

pytestmark = pytest.mark.django_db(transaction=True)
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
PARAMETERS = """
[parameters]
org = "acme"
team = "ml"
project = "mnist"
artifact = "model"
registry = "model"
collection = "classifier"
number = 0
"""


@pytest.mark.skipif(not SCHEMATHESIS.exists(), reason="schemathesis is not installed")
def test_the_api_never_answers_with_a_server_error(
    live_server, project, member, models_registry, tmp_path
):
    make_link(make_version(project, member), models_registry, member, "classifier")
    _, token = ApiToken.issue(member, "fuzz")
    # Point path parameters at real objects, so requests reach the code behind the 404s too.
    config = tmp_path / "schemathesis.toml"
    config.write_text(PARAMETERS)
    result = subprocess.run(
        [
            str(SCHEMATHESIS),
            "--config-file",
            str(config),
            "run",
            f"{live_server.url}/api/v1/openapi.json",
            "--url",
            f"{live_server.url}/api/v1",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "25",
            "--generation-deterministic",
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    print(result.stdout[-6000:])
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
