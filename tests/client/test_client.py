"""The Python client and the `registry` command against a live server, over real HTTP."""

from __future__ import annotations

import os
import re

import pytest

import registry
from apps.automations import services as automations
from apps.lineage.models import RunInput, RunOutput
from apps.registries import api as registries_api
from apps.registries.models import Alias
from registry.cli import main as cli
from registry.client import Client, RegistryError
from tests.automations.receiver import start_receiver
from tests.factories import make_link, make_version

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=["folder", "s3"])
def storage_backend(request):
    if request.param == "s3":
        request.getfixturevalue("s3_storage")
    return request.param


def write_model(folder, seed: int) -> dict[str, bytes]:
    files = {
        "model.safetensors": os.urandom(3 * 1024 * 1024 + seed),
        "config.json": f'{{"seed": {seed}}}'.encode(),
        "nested/labels.txt": b"cat\ndog\n",
    }
    for path, data in files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return files


def test_the_quick_start(connection, storage_backend, tmp_path, models_registry):
    """Log a model, link it as staging, move staging to a newer version, download :staging."""
    first, second = tmp_path / "v1", tmp_path / "v2"
    write_model(first, 1)
    expected = write_model(second, 2)
    with registry.run(project="acme/ml/mnist", job_type="train") as run:
        version = run.log_artifact(first, name="resnet", type="model", metrics={"acc": 0.8})
        linked = run.link_artifact(version, "acme/model/classifier", aliases=["staging"])
    assert linked["path"] == "acme/model/classifier:v0"
    newer = Client().log_artifact(second, project="acme/ml/mnist", name="resnet", type="model")
    Client().link(newer, "acme/model/classifier")
    moved = Client().alias("acme/model/classifier:v1", "staging")
    assert moved["aliases"] == ["latest", "staging"]

    target = Client().download("acme/model/classifier:staging", tmp_path / "out")
    got = {
        p.relative_to(target).as_posix(): p.read_bytes() for p in target.rglob("*") if p.is_file()
    }
    assert got == expected
    assert RunOutput.objects.get().version.artifact.name == "resnet"


def test_logging_the_same_folder_again_sends_nothing(connection, tmp_path, project):
    write_model(tmp_path / "m", 3)
    client = Client()
    first = client.log_artifact(tmp_path / "m", project="acme/ml/mnist", name="m", type="model")
    again = client.log_artifact(tmp_path / "m", project="acme/ml/mnist", name="m", type="model")
    assert again["id"] == first["id"] and again["missing"] == []


def test_use_records_the_runs_input_and_download_resumes(connection, tmp_path, models_registry):
    files = write_model(tmp_path / "m", 4)
    client = Client()
    version = client.log_artifact(tmp_path / "m", project="acme/ml/mnist", name="m", type="model")
    client.link(version, "acme/model/base", aliases=["production"])
    with registry.run(project="acme/ml/mnist", job_type="evaluate") as run:
        folder = run.use_artifact("acme/model/base:production").download(tmp_path / "used")
    assert RunInput.objects.get().version.uid.hex == version["id"].replace("-", "")
    (folder / "config.json").write_bytes(b"tampered")
    client.download("acme/model/base:production", folder)
    assert (folder / "config.json").read_bytes() == files["config.json"]


def test_a_failing_block_marks_the_run_failed(connection):
    from apps.lineage.models import Run

    with pytest.raises(RuntimeError), registry.run(project="acme/ml/mnist"):
        raise RuntimeError("training diverged")
    assert Run.objects.get().state == "failed"


def test_errors_say_what_to_fix(connection, live_server, models_registry):
    with pytest.raises(RegistryError) as caught:
        Client().resolve("acme/model/nope:v0")
    assert caught.value.status == 404 and "Nothing is at" in caught.value.message
    with pytest.raises(RegistryError) as caught:
        Client(token="reg_wrong").resolve("acme/model/nope:v0")
    assert caught.value.status == 401 and caught.value.code == "invalid_token"


def test_the_command_line(connection, tmp_path, capsys, models_registry):
    files = write_model(tmp_path / "m", 5)
    code = cli(
        [
            "log", str(tmp_path / "m"), "--project", "acme/ml/mnist", "--name", "cli-model",
            "--type", "model", "--metrics", '{"acc": 0.7}', "--link", "acme/model/cli",
            "--alias", "candidate",
        ]
    )  # fmt: skip
    assert code == 0
    assert "Linked as acme/model/cli:v0 candidate, latest." in capsys.readouterr().out
    assert cli(["tag", "acme/model/cli:candidate", "reviewed"]) == 0
    assert cli(["download", "acme/model/cli:candidate", str(tmp_path / "d")]) == 0
    assert (tmp_path / "d" / "config.json").read_bytes() == files["config.json"]
    assert cli(["alias", "acme/model/cli:v0", "latest"]) == 1
    assert "reserved" in capsys.readouterr().err
    assert Alias.objects.filter(name="candidate").exists()
    assert (
        cli(
            [
                "log",
                str(tmp_path / "missing"),
                "--project",
                "acme/ml/mnist",
                "--name",
                "x",
                "--type",
                "model",
            ]
        )
        == 2
    )


def count_requests(monkeypatch) -> list[str]:
    """The method and URL of each request the client sends from now on."""
    sent: list[str] = []
    send = Client._send_once

    def counting(self, method, url, *args, **kwargs):
        sent.append(f"{method} {url}")
        return send(self, method, url, *args, **kwargs)

    monkeypatch.setattr(Client, "_send_once", counting)
    return sent


def test_small_files_are_logged_and_linked_in_one_request(
    connection, tmp_path, models_registry, monkeypatch
):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "weights.bin").write_bytes(b"small weights")
    (tmp_path / "m" / "config.json").write_bytes(b"{}")
    sent = count_requests(monkeypatch)

    version = Client().log_artifact(
        tmp_path / "m",
        project="acme/ml/mnist",
        name="tiny",
        type="model",
        link_to="acme/model/tiny",
        aliases=["candidate"],
    )

    assert len(sent) == 1
    assert version["state"] == "committed"
    assert version["link"]["path"] == "acme/model/tiny:v0"
    assert version["link"]["aliases"] == ["candidate", "latest"]


def test_large_files_still_stream_and_the_link_follows(
    connection, tmp_path, models_registry, monkeypatch
):
    files = write_model(tmp_path / "m", 6)
    sent = count_requests(monkeypatch)

    version = Client().log_artifact(
        tmp_path / "m", project="acme/ml/mnist", name="big", type="model", link_to="acme/model/big"
    )

    # The manifest (with the small files inline), the large file, the commit, the link.
    assert [request.split()[0] for request in sent] == ["POST", "PUT", "POST", "POST"]
    assert version["link"]["path"] == "acme/model/big:v0"
    target = Client().download("acme/model/big:latest", tmp_path / "out")
    assert (target / "model.safetensors").read_bytes() == files["model.safetensors"]


@pytest.fixture
def github(team, org_admin, settings):
    """Team ml's webhook `github`, sending to a loopback receiver (returned with it)."""
    settings.AUTOMATIONS_ALLOW_PRIVATE_TARGETS = True
    receiver = start_receiver()
    webhook = automations.create_webhook(
        actor=org_admin, team=team, name="github", url=receiver.url
    )
    yield webhook, receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def test_automations_through_the_client(
    connection, github, project, member, models_registry, run_worker, capsys
):
    make_link(make_version(project, member), models_registry, member, "classifier")
    client = Client()
    created = client.create_automation(
        "acme/model/classifier",
        "deploy",
        event="ADD_ARTIFACT_ALIAS",
        webhook="ml/github",
        alias_regex="^production$",
        payload={
            "event_type": "deploy",
            "client_payload": {"version": "${artifact_version_string}"},
        },
    )
    assert created["scope"] == {"kind": "collection", "path": "acme/model/classifier"}
    assert [a["name"] for a in client.automations("acme", registry="model")] == ["deploy"]

    client.alias("acme/model/classifier:v0", "production")
    run_worker()
    [execution] = client.executions("acme", "deploy")
    assert execution["status"] == "delivered" and execution["response_status"] == 200
    _, receiver = github
    assert receiver.requests[0].json == {
        "event_type": "deploy",
        "client_payload": {"version": "acme/model/classifier:v0"},
    }
    again = client.replay_execution("acme", created, execution["id"])
    assert again["replay_of"] == execution["id"] and again["status"] == "pending"
    assert [e["id"] for e in client.executions("acme", created, status="pending")] == [again["id"]]

    assert client.pause_automation("acme", "deploy")["paused"] is True
    assert cli(["automations", "acme", "--registry", "model"]) == 0
    line = f"{created['id']}  deploy  acme/model/classifier  ADD_ARTIFACT_ALIAS -> ml/github  last"
    out = capsys.readouterr().out
    assert out.startswith(line) and out.rstrip().endswith("paused"), out
    assert client.resume_automation("acme", created["id"])["paused"] is False

    client.delete_automation("acme", "deploy")
    assert list(client.automations("acme")) == []
    with pytest.raises(RegistryError) as caught:
        client.pause_automation("acme", "deploy")
    assert caught.value.status == 404


def test_the_client_follows_next_and_relays_refusals(connection, github, monkeypatch):
    monkeypatch.setattr(registries_api, "PAGE_SIZE", 2)
    client = Client()
    for name in ("c", "a", "b", "d", "e"):
        client.create_automation(
            "acme/model", name, event="LINK_ARTIFACT", webhook="ml/github", payload="{}"
        )
    assert [a["name"] for a in client.automations("acme")] == ["a", "b", "c", "d", "e"]
    with pytest.raises(RegistryError) as caught:
        client.create_automation(
            "acme/model",
            "f",
            event="ADD_ARTIFACT_TAG",
            webhook="ml/github",
            tag_regex="(",
            payload="{}",
        )
    assert caught.value.status == 400 and "does not compile" in caught.value.message


READABLE_NAME = r"^[a-z]+-[a-z]+-\d+$"


def test_runs_started_without_a_name_get_readable_ones(connection):
    first = Client().start_run("acme/ml/mnist", job_type="train")
    with registry.run(project="acme/ml/mnist") as second:
        pass
    assert re.match(READABLE_NAME, first.name) and first.name.endswith("-1")
    assert re.match(READABLE_NAME, second.name) and second.name.endswith("-2")
    assert Client().start_run("acme/ml/mnist", "train-lr-0.1").name == "train-lr-0.1"


def test_the_command_line_names_its_runs_and_log_records_the_producer(
    connection, tmp_path, capsys, models_registry
):
    from apps.lineage.models import Run

    write_model(tmp_path / "m", 6)
    log = ["log", str(tmp_path / "m"), "--project", "acme/ml/mnist", "--name", "cli-model"]
    assert cli([*log, "--type", "model", "--link", "acme/model/cli"]) == 0
    producer = RunOutput.objects.get().run
    assert re.match(READABLE_NAME, producer.name) and producer.job_type == "log"
    assert producer.state == "finished"
    assert f"produced by run {producer.name} ({producer.run_id})" in capsys.readouterr().out

    use = ["use", "acme/model/cli:latest", str(tmp_path / "d"), "--project", "acme/ml/mnist"]
    assert cli(use) == 0
    assert cli([*use, "--run-name", "deploy-eu", "--job-type", "deploy"]) == 0
    consumers = [i.run for i in RunInput.objects.order_by("run__started_at")]
    assert re.match(READABLE_NAME, consumers[0].name) and consumers[0].job_type == "use"
    assert (consumers[1].name, consumers[1].job_type) == ("deploy-eu", "deploy")
    assert len({run.name for run in Run.objects.all()}) == 3  # told apart in the lineage graph

    # An existing run is recorded in, and left running.
    started = Client().start_run("acme/ml/mnist", "train-9", "train")
    write_model(tmp_path / "m2", 7)
    log[1] = str(tmp_path / "m2")
    assert cli([*log, "--type", "model", "--run", started.id]) == 0
    run = Run.objects.get(run_id=started.id)
    assert run.outputs.count() == 1 and run.state == "running"
    # A path that does not exist starts no run.
    before = Run.objects.count()
    log[1] = str(tmp_path / "missing")
    assert cli([*log, "--type", "model"]) == 2
    assert Run.objects.count() == before
