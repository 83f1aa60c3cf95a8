"""Every name the rules allow travels through the client and the command line unharmed.

Names are generated, then kept only if the server's own validators accept them, so the test
follows the rules wherever they change.
"""

from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from apps.lib.validators import validate_artifact_name, validate_collection_name
from registry.cli import main as cli
from registry.client import Client
from tests.factories import make_registry

pytestmark = pytest.mark.django_db(transaction=True)

# Characters that URLs treat specially, mixed into any other character Unicode has (but NUL
# and lone surrogates, which no database stores and the API refuses as invalid text).
URL_SPECIAL = "%#?&+;=@!$'()*,[]<>\"\\^`{|} .~"
characters = st.one_of(
    st.sampled_from(URL_SPECIAL + "éß中文字한국어🙂\u00a0\u200b"),
    st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
)


def accepted_by(validator):
    def accepts(name: str) -> bool:
        try:
            validator(name)
        except ValidationError:
            return False
        return True

    return accepts


collection_names = st.text(characters, min_size=1, max_size=128).filter(
    accepted_by(validate_collection_name)
)
artifact_names = st.text(
    st.one_of(st.sampled_from("._-éß中"), st.characters(categories=("L", "Nd"))),
    min_size=1,
    max_size=40,
).filter(accepted_by(validate_artifact_name))
_registries = itertools.count()


EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def fresh_registry(organization, org_admin) -> str:
    """A registry per example (with a non-ASCII slug), so that names never meet earlier ones."""
    return make_registry(organization, org_admin, f"Modèles {next(_registries)}").slug


@pytest.mark.slow
@EXAMPLES
@given(collection=collection_names, artifact=artifact_names)
@example(collection="100% #1?x=y&z", artifact="a.b")
@example(collection="a%2Fb %3A c", artifact="模型")
def test_the_client_handles_every_valid_name(
    connection, organization, org_admin, tmp_path_factory, collection, artifact
):
    registry = fresh_registry(organization, org_admin)
    folder = tmp_path_factory.mktemp("model")
    (folder / "weights.bin").write_bytes(collection.encode())
    client = Client()

    version = client.log_artifact(folder, project="acme/ml/mnist", name=artifact, type="model")
    linked = client.link(version, f"acme/{registry}/{collection}", aliases=["candidate"])
    path = f"acme/{registry}/{collection}"
    assert linked["path"] == f"{path}:v0"
    assert client.alias(f"{path}:v0", "approved")["aliases"] == ["approved", "candidate", "latest"]
    assert client.tag(f"{path}:approved", ["reviewed"])["tags"] == ["reviewed"]
    resolved = client.resolve(f"{path}:approved")
    assert resolved["source"] == f"ml/mnist/{artifact}:{version['version']}"
    target = client.download(f"{path}:candidate", folder / "out")
    assert (target / "weights.bin").read_bytes() == collection.encode()


@pytest.mark.slow
@EXAMPLES
@given(collection=collection_names, artifact=artifact_names)
@example(collection="50% off #sale", artifact="modèle")
@example(collection="-rc", artifact="-a")
def test_the_command_line_handles_every_valid_name(
    connection, organization, org_admin, tmp_path_factory, capsys, collection, artifact
):
    registry = fresh_registry(organization, org_admin)
    folder = tmp_path_factory.mktemp("model")
    (folder / "weights.bin").write_bytes(collection.encode())
    path = f"acme/{registry}/{collection}"
    project = ["--project", "acme/ml/mnist"]
    # `--name=…` as a shell user writes a value that starts with a hyphen.
    logged = ["log", str(folder), *project, f"--name={artifact}", "--type=model", f"--link={path}"]

    assert cli(logged) == 0, capsys.readouterr().err
    assert f"Linked as {path}:v0 latest." in capsys.readouterr().out
    assert cli(["alias", f"{path}:latest", "best"]) == 0, capsys.readouterr().err
    assert cli(["download", f"{path}:best", str(folder / "out")]) == 0, capsys.readouterr().err
    assert (folder / "out" / "weights.bin").read_bytes() == collection.encode()
