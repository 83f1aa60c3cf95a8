from __future__ import annotations

import pytest

from apps.accounts.models import ApiToken


@pytest.fixture
def connection(live_server, member, project, monkeypatch, tmp_path):
    """A token for `member` (team ml, project mnist), in the environment the client reads."""
    _, token = ApiToken.issue(member, "client")
    monkeypatch.setenv("REGISTRY_URL", live_server.url)
    monkeypatch.setenv("REGISTRY_TOKEN", token)
    monkeypatch.setenv("REGISTRY_CONFIG", str(tmp_path / "unused.json"))
    return {"url": live_server.url, "token": token}
