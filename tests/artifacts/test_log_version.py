from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from apps.artifacts.models import ArtifactVersion, Blob, VersionState
from apps.artifacts.services import FileSpec, begin_version, commit_version, log_version
from apps.audit.models import AuditAction, AuditEvent
from apps.lineage.models import RunOutput
from apps.lineage.services import start_run
from tests.factories import make_member, make_project, make_version

SHA_OF_EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def log(project, actor, files, **kwargs):
    kwargs.setdefault("name", "model")
    kwargs.setdefault("artifact_type", "model")
    return log_version(actor=actor, project=project, files=files, **kwargs)


def test_it_numbers_versions_from_zero(project, member):
    versions = [log(project, member, {"w.bin": f"{n}".encode()}) for n in range(3)]
    assert [v.number for v in versions] == [0, 1, 2]
    assert all(v.state == VersionState.COMMITTED for v in versions)


def test_it_records_size_file_count_digest_and_an_audit_event(project, member):
    version = log(
        project,
        member,
        {"a.txt": b"hello", "dir/b.txt": b"world!"},
        metadata={"framework": "torch"},
        metrics={"accuracy": 0.9},
        description="first",
    )
    assert (version.size, version.file_count) == (11, 2)
    assert len(version.digest) == 64
    assert sorted(version.files.values_list("path", flat=True)) == ["a.txt", "dir/b.txt"]
    assert version.metadata == {"framework": "torch"} and version.metrics == {"accuracy": 0.9}
    event = AuditEvent.objects.get(action=AuditAction.VERSION_LOG)
    assert event.target == "ml/mnist/model:v0" and event.actor == member


def test_identical_content_returns_the_latest_version(project, member):
    first = log(project, member, {"a.txt": b"same"})
    again = log(project, member, {"a.txt": b"same"}, metadata={"ignored": True})
    assert again.pk == first.pk
    assert ArtifactVersion.objects.count() == 1
    assert Blob.objects.count() == 1


def test_content_equal_to_an_older_version_is_a_new_version(project, member):
    log(project, member, {"a.txt": b"one"})
    log(project, member, {"a.txt": b"two"})
    third = log(project, member, {"a.txt": b"one"})
    assert third.number == 2
    assert Blob.objects.count() == 2


def test_a_renamed_file_is_new_content(project, member):
    first = log(project, member, {"a.txt": b"x"})
    second = log(project, member, {"b.txt": b"x"})
    assert second.number == first.number + 1


def test_begin_reports_only_missing_blobs_and_pending_versions_are_invisible(project, member):
    log(project, member, {"a.txt": b"stored"})
    stored = Blob.objects.get()
    pending = begin_version(
        actor=member,
        project=project,
        name="model",
        artifact_type="model",
        files=[FileSpec("a.txt", stored.sha256, 6), FileSpec("empty.txt", SHA_OF_EMPTY, 0)],
    )
    assert [spec.path for spec in pending.missing] == ["empty.txt"]
    assert pending.version.state == VersionState.PENDING and pending.version.number is None
    assert ArtifactVersion.objects.committed().count() == 1


def test_commit_refuses_while_blobs_are_missing_and_changes_nothing(project, member):
    pending = begin_version(
        actor=member,
        project=project,
        name="model",
        artifact_type="model",
        files=[FileSpec("empty.txt", SHA_OF_EMPTY, 0)],
    )
    with pytest.raises(ValidationError) as caught:
        commit_version(actor=member, version=pending.version)
    assert caught.value.code == "blobs_missing" and "empty.txt" in caught.value.message
    pending.version.refresh_from_db()
    assert pending.version.state == VersionState.PENDING
    assert pending.version.artifact.next_version_number == 0


def test_the_artifact_type_is_fixed_by_its_first_version(project, member):
    log(project, member, {"a": b"1"})
    with pytest.raises(ValidationError) as caught:
        log(project, member, {"a": b"2"}, artifact_type="dataset")
    assert caught.value.code == "type_mismatch"
    assert "'model'" in caught.value.message and "'dataset'" in caught.value.message


@pytest.mark.parametrize(
    ("files", "code"),
    [
        ({}, "empty_manifest"),
        ({"/abs": b"x"}, "invalid_path"),
        ({"a/../b": b"x"}, "invalid_path"),
        ({"a//b": b"x"}, "invalid_path"),
        ({"a\\b": b"x"}, "invalid_path"),
    ],
)
def test_it_refuses_bad_manifests(project, member, files, code):
    with pytest.raises(ValidationError) as caught:
        log(project, member, files)
    assert caught.value.code == code
    assert not ArtifactVersion.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"metadata": {f"k{n}": n for n in range(101)}}, "too_many_keys"),
        ({"metadata": {"x": float("nan")}}, "non_finite"),
        ({"metadata": {"x": [1, float("inf")]}}, "non_finite"),
        ({"metrics": {"loss": "low"}}, "not_number"),
        ({"metrics": {"loss": float("-inf")}}, "non_finite"),
        ({"name": "bad/name"}, "invalid_character"),
        ({"name": "x" * 129}, "too_long"),
        ({"artifact_type": "a:b"}, "invalid_character"),
        ({"name": ".."}, "dot_segment"),
        ({"artifact_type": "."}, "dot_segment"),
    ],
)
def test_it_refuses_bad_metadata_metrics_and_names(project, member, kwargs, code):
    with pytest.raises(ValidationError) as caught:
        log(project, member, {"a": b"1"}, **kwargs)
    assert caught.value.code == code
    assert not ArtifactVersion.objects.exists()


def test_a_hundred_metadata_keys_are_allowed(project, member):
    version = log(project, member, {"a": b"1"}, metadata={f"k{n}": n for n in range(100)})
    assert len(version.metadata) == 100


def test_a_run_records_its_output_even_when_content_is_unchanged(project, member):
    run = start_run(actor=member, project=project, name="train-1", job_type="train")
    first = log(project, member, {"a": b"1"}, run=run)
    rerun = start_run(actor=member, project=project, name="train-2", job_type="train")
    again = log(project, member, {"a": b"1"}, run=rerun)
    assert again == first
    assert set(RunOutput.objects.values_list("run__name", flat=True)) == {"train-1", "train-2"}


def test_a_run_logs_nothing_into_another_project(project, team, member):
    run = start_run(actor=member, project=make_project(team, "cifar"), name="train-1")
    with pytest.raises(ValidationError, match="belongs to another project; log into cifar"):
        log(project, member, {"a": b"1"}, run=run)
    assert not ArtifactVersion.objects.exists() and not RunOutput.objects.exists()


def test_a_team_viewer_may_not_log(project, organization, team):
    from apps.accounts.models import TeamRole

    reader = make_member(organization, "tina")
    team.add_member(reader, TeamRole.VIEWER)
    with pytest.raises(PermissionDenied, match="member or admin role in team ml"):
        log(project, reader, {"a": b"1"})


def test_someone_outside_the_team_gets_not_found(project, viewer):
    with pytest.raises(Http404):
        make_version(project, viewer)
