"""File paths that could pass for others, or mean something else on another system, are refused.

Generated paths go through the API's manifest: every one holding a line or paragraph separator,
a bidirectional control, a control character or a drive letter is refused with a message naming
the path and the rule, as is a manifest whose paths differ only in case or use a file as a
folder. Ordinary paths are accepted, and pages show paths isolated from the text around them.
"""

from __future__ import annotations

import hashlib
import unicodedata

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from apps.accounts.models import ApiToken
from apps.artifacts.models import ArtifactVersion
from tests.factories import make_link, make_version

VERSIONS = "/api/v1/orgs/acme/teams/ml/projects/mnist/artifacts/paths/versions/"
SHA = hashlib.sha256(b"x").hexdigest()
FUZZ = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

segment = st.text(
    alphabet=st.characters(whitelist_categories=("L", "N"), whitelist_characters="-_. "),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip() == s and s not in (".", ".."))
safe_path = st.lists(segment, min_size=1, max_size=4).map("/".join)
cased_path = st.from_regex(r"[a-zA-Z0-9éÉ_-]{1,8}(/[a-zA-Z0-9éÉ_-]{1,8}){0,3}", fullmatch=True)


@st.composite
def path_with(draw, hostile: st.SearchStrategy[str]) -> str:
    """A safe path with a hostile piece put into one of its parts."""
    parts = draw(st.lists(segment, min_size=1, max_size=4))
    index = draw(st.integers(0, len(parts) - 1))
    at = draw(st.integers(0, len(parts[index])))
    parts[index] = parts[index][:at] + draw(hostile) + parts[index][at:]
    return "/".join(parts)


SEPARATORS = st.sampled_from(["\u2028", "\u2029"])
BIDI = st.sampled_from(
    [chr(c) for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))]
)
CONTROLS = st.sampled_from([chr(c) for c in [*range(1, 0x20), *range(0x7F, 0xA0)]])


@st.composite
def drive_letter_path(draw) -> str:
    parts = draw(st.lists(segment, min_size=1, max_size=4))
    index = draw(st.integers(0, len(parts) - 1))
    letter = draw(st.sampled_from("ACZcdz"))
    parts[index] = f"{letter}:{parts[index]}"
    return "/".join(parts)


@pytest.fixture
def log(client, member, project):
    """Send a manifest of these paths through the API; returns the response."""
    _, token = ApiToken.issue(member, "paths")

    def send(paths: list[str]):
        files = [{"path": path, "sha256": SHA, "size": 1} for path in paths]
        return client.post(
            VERSIONS,
            {"type": "model", "files": files},
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )

    return send


def assert_refused(response, code: str, *named: str) -> str:
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == code
    for path in named:
        assert repr(path) in error["message"]
    assert not ArtifactVersion.objects.filter(artifact__name="paths").exists()
    return error["message"]


@FUZZ
@given(path=path_with(SEPARATORS))
def test_line_and_paragraph_separators_are_refused(log, path):
    message = assert_refused(log([path]), "invalid_path", path)
    assert "separator" in message


@FUZZ
@given(path=path_with(BIDI))
def test_bidirectional_controls_are_refused(log, path):
    message = assert_refused(log([path]), "invalid_path", path)
    assert "bidirectional control" in message


@FUZZ
@given(path=path_with(CONTROLS))
def test_control_characters_are_refused(log, path):
    message = assert_refused(log([path]), "invalid_path", path)
    assert "control character" in message


@FUZZ
@given(path=drive_letter_path())
def test_drive_letters_at_the_start_of_any_part_are_refused(log, path):
    message = assert_refused(log([path]), "invalid_path", path)
    assert "drive letter" in message


@FUZZ
@given(path=cased_path.filter(lambda p: p.swapcase() != p))
def test_paths_differing_only_in_case_are_refused(log, path):
    message = assert_refused(log([path, path.swapcase()]), "case_clash", path, path.swapcase())
    assert "differ only in case" in message


def test_paths_differing_only_in_unicode_form_are_refused(log):
    composed, decomposed = "caf\u00e9.txt", "cafe\u0301.txt"
    assert_refused(log([composed, decomposed]), "case_clash", composed, decomposed)


@FUZZ
@given(folder=cased_path, child=segment, upper=st.booleans())
def test_a_file_cannot_also_be_a_folder(log, folder, child, upper):
    file = folder.upper() if upper else folder
    inside = f"{folder}/{child}"
    message = assert_refused(log([inside, file]), "file_folder_clash", file, inside)
    assert "folder" in message


@FUZZ
@given(paths=st.lists(safe_path, min_size=1, max_size=5))
def test_ordinary_paths_are_accepted(log, paths):
    keys = [unicodedata.normalize("NFC", p).casefold() for p in paths]
    folders = {"/".join(k.split("/")[:n]) for k in keys for n in range(1, k.count("/") + 1)}
    assume(len(set(keys)) == len(keys) and not folders & set(keys))  # clashes: tests above
    response = log(paths)
    assert response.status_code == 201, response.content


def test_file_names_are_shown_isolated(client, member, project, models_registry):
    version = make_version(project, member, files={"data/report.txt": b"r", "notes.md": b"n"})
    make_link(version, models_registry, member)
    client.force_login(member)
    page = client.get("/orgs/acme/registry/model/classifier/v0/files/").content.decode()
    assert "<bdi>data</bdi>/" in page
    assert "<bdi>report.txt</bdi>" in page and "<bdi>notes.md</bdi>" in page
