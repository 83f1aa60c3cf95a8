from __future__ import annotations

import shutil

import pytest

from apps.artifacts.diffs import (
    DIFF_MAX_LINES,
    KeyChange,
    ManifestFile,
    manifest_changes,
    metadata_changes,
    text_diffs,
)
from tests.factories import make_version

SEVENTY_KIB_OF_TEXT = b"x\n" * (35 * 1024)


def two_versions(project, member, old_files, new_files):
    old = make_version(project, member, files=old_files)
    return old, make_version(project, member, files=new_files)


def diffs_between(project, member, old_files, new_files, **kwargs):
    old, new = two_versions(project, member, old_files, new_files)
    changed = manifest_changes(old, new).changed
    return text_diffs(changed, old_label=old.label, new_label=new.label, **kwargs)


def tagged(diff):
    return [(line.tag, line.text) for line in diff.lines]


# Metadata


def test_it_lists_added_removed_and_changed_keys_as_compact_json():
    diff = metadata_changes(
        {"epochs": 10, "framework": "torch", "seed": 1},
        {"epochs": 12, "framework": "torch", "optimizer": {"name": "adam", "lr": 0.1}},
    )
    assert diff.added == [KeyChange("optimizer", None, '{"lr":0.1,"name":"adam"}')]
    assert diff.removed == [KeyChange("seed", "1", None)]
    assert diff.changed == [KeyChange("epochs", "10", "12")]
    assert diff.unchanged_count == 1
    assert diff.has_changes


def test_it_sorts_keys():
    diff = metadata_changes({}, dict.fromkeys("hgfedcba", 1))
    assert [change.key for change in diff.added] == list("abcdefgh")


def test_a_changed_nested_object_is_one_changed_key():
    diff = metadata_changes(
        {"data": {"rows": 100, "split": {"train": 0.8}}, "tags": ["a"]},
        {"data": {"rows": 100, "split": {"train": 0.9}}, "tags": ["a"]},
    )
    assert diff.changed == [
        KeyChange(
            "data", '{"rows":100,"split":{"train":0.8}}', '{"rows":100,"split":{"train":0.9}}'
        )
    ]
    assert (diff.added, diff.removed, diff.unchanged_count) == ([], [], 1)


def test_nested_objects_compare_by_value_not_key_order():
    diff = metadata_changes({"data": {"a": 1, "b": 2}}, {"data": {"b": 2, "a": 1}})
    assert not diff.has_changes
    assert diff.unchanged_count == 1


def test_true_and_one_are_different_values():
    # Python holds True == 1; the JSON a viewer reads does not.
    diff = metadata_changes({"augment": 1}, {"augment": True})
    assert diff.changed == [KeyChange("augment", "1", "true")]


def test_identical_metadata_has_no_changes():
    metadata = {"framework": "torch", "layers": [64, 32]}
    diff = metadata_changes(metadata, dict(metadata))
    assert (diff.added, diff.removed, diff.changed) == ([], [], [])
    assert diff.unchanged_count == 2
    assert not diff.has_changes


# Manifest


def test_it_lists_added_removed_and_changed_files_by_path(project, member):
    old, new = two_versions(
        project,
        member,
        {"b.txt": b"same", "weights.bin": b"0123456789", "old.txt": b"gone", "a.txt": b"x"},
        {"b.txt": b"same", "weights.bin": b"01234", "z.txt": b"new!!", "a.txt": b"xyz"},
    )
    diff = manifest_changes(old, new)
    z_sha = new.files.get(path="z.txt").blob_id
    assert diff.added == [ManifestFile("z.txt", 5, z_sha)]
    assert diff.removed == [ManifestFile("old.txt", 4, old.files.get(path="old.txt").blob_id)]
    assert [(f.path, f.old_size, f.new_size, f.size_delta) for f in diff.changed] == [
        ("a.txt", 1, 3, 2),
        ("weights.bin", 10, 5, -5),
    ]
    assert diff.changed[0].old_sha256 == old.files.get(path="a.txt").blob_id
    assert diff.changed[0].new_sha256 == new.files.get(path="a.txt").blob_id
    assert diff.unchanged_count == 1
    assert diff.has_changes


def test_byte_totals_add_up_to_the_change_in_version_size(project, member):
    old, new = two_versions(
        project,
        member,
        {"keep.txt": b"k", "grow.txt": b"ab", "drop.bin": b"1234567"},
        {"keep.txt": b"k", "grow.txt": b"abcdef", "add.bin": b"123"},
    )
    diff = manifest_changes(old, new)
    assert (diff.added_bytes, diff.removed_bytes) == (3, 7)
    assert diff.size_delta == 3 - 7 + 4 == new.size - old.size


def test_identical_versions_have_no_manifest_changes(project, member):
    files = {"a.txt": b"a", "b/c.json": b"{}"}
    old, new = two_versions(project, member, files, files)
    diff = manifest_changes(old, new)
    assert (diff.added, diff.removed, diff.changed) == ([], [], [])
    assert diff.unchanged_count == 2
    assert not diff.has_changes
    assert diff.size_delta == 0


@pytest.mark.parametrize("file_count", [1, 40])
def test_manifest_query_count_does_not_grow_with_files(
    project, member, django_assert_num_queries, file_count
):
    """One query per version's entries: no n+1 over files, and no blob rows joined."""
    old, new = two_versions(
        project,
        member,
        {f"f{n}.txt": f"old {n}".encode() for n in range(file_count)},
        {f"f{n}.txt": f"new {n}".encode() for n in range(file_count)},
    )
    with django_assert_num_queries(2):
        diff = manifest_changes(old, new)
    assert [file.path for file in diff.changed] == sorted(f"f{n}.txt" for n in range(file_count))


def test_manifest_changes_reads_no_blob(project, member, artifact_storage):
    old, new = two_versions(project, member, {"a.txt": b"old"}, {"a.txt": b"new"})
    shutil.rmtree(artifact_storage)
    diff = manifest_changes(old, new)
    assert [file.path for file in diff.changed] == ["a.txt"]
    # The same change read for its text does need the bytes that are now gone.
    with pytest.raises(FileNotFoundError):
        text_diffs(diff.changed, old_label="v0", new_label="v1")


# Text


def test_diff_lines_are_tagged_for_colouring(project, member):
    [diff] = diffs_between(
        project, member, {"notes.txt": b"a\nb\nc\n"}, {"notes.txt": b"a\nB\nc\nd\n"}
    )
    assert tagged(diff) == [
        ("header", "--- notes.txt (v0)"),
        ("header", "+++ notes.txt (v1)"),
        ("hunk", "@@ -1,3 +1,4 @@"),
        ("context", " a"),
        ("remove", "-b"),
        ("add", "+B"),
        ("context", " c"),
        ("add", "+d"),
    ]
    assert (diff.path, diff.truncated, diff.note) == ("notes.txt", False, "")


def test_it_keeps_three_lines_of_context(project, member):
    old = b"".join(f"{n}\n".encode() for n in range(20))
    new = old.replace(b"10\n", b"ten\n")
    [diff] = diffs_between(project, member, {"n.txt": old}, {"n.txt": new})
    context = [text for tag, text in tagged(diff) if tag == "context"]
    assert context == [" 7", " 8", " 9", " 11", " 12", " 13"]


def test_a_removed_yaml_document_marker_is_not_a_header(project, member):
    [diff] = diffs_between(
        project, member, {"config.yaml": b"---\nlr: 1\n"}, {"config.yaml": b"++ x\nlr: 1\n"}
    )
    assert tagged(diff)[3:5] == [("remove", "----"), ("add", "+++ x")]


def test_a_change_to_the_final_newline_alone_is_marked(project, member):
    [diff] = diffs_between(project, member, {"a.txt": b"a\nb"}, {"a.txt": b"a\nb\n"})
    assert tagged(diff)[3:] == [
        ("context", " a"),
        ("remove", "-b"),
        ("context", "\\ No newline at end of file"),
        ("add", "+b"),
    ]


def test_bytes_the_decoder_replaces_get_a_note(project, member):
    [diff] = diffs_between(project, member, {"a.txt": b"ok \xff\n"}, {"a.txt": b"ok \xfe\n"})
    assert diff.lines == []
    assert diff.note == "Differs only in bytes that are not valid UTF-8."


def test_long_diffs_are_cut_short(project, member):
    old = b"".join(f"{n}\n".encode() for n in range(500))
    new = b"".join(f"{n}!\n".encode() for n in range(500))
    [diff] = diffs_between(project, member, {"n.txt": old}, {"n.txt": new})
    assert len(diff.lines) == DIFF_MAX_LINES
    assert diff.truncated
    assert tagged(diff)[:3] == [
        ("header", "--- n.txt (v0)"),
        ("header", "+++ n.txt (v1)"),
        ("hunk", "@@ -1,500 +1,500 @@"),
    ]


@pytest.mark.parametrize(("added_lines", "truncated"), [(397, False), (398, True)])
def test_a_diff_is_cut_only_past_the_line_cap(project, member, added_lines, truncated):
    """Two headers, one hunk line and the added lines: 397 of them make exactly the cap."""
    new = b"".join(f"{n}\n".encode() for n in range(added_lines))
    [diff] = diffs_between(project, member, {"n.txt": b""}, {"n.txt": new})
    assert len(diff.lines) == DIFF_MAX_LINES
    assert diff.truncated is truncated


def test_large_and_binary_files_are_noted_without_being_read(project, member, artifact_storage):
    old, new = two_versions(
        project,
        member,
        {"big.txt": b"small", "grown.txt": SEVENTY_KIB_OF_TEXT, "model.bin": b"\x00\x01"},
        {"big.txt": SEVENTY_KIB_OF_TEXT, "grown.txt": b"small", "model.bin": b"\x00\x02"},
    )
    changed = manifest_changes(old, new).changed
    shutil.rmtree(artifact_storage)
    diffs = text_diffs(changed, old_label="v0", new_label="v1")
    assert [(diff.path, diff.note, diff.lines) for diff in diffs] == [
        ("big.txt", "Larger than 64 KiB.", []),
        ("grown.txt", "Larger than 64 KiB.", []),
        ("model.bin", "Binary or not a text type.", []),
    ]


def test_a_file_of_exactly_64_kib_is_diffed(project, member):
    old = b"x\n" * (32 * 1024)
    [diff] = diffs_between(project, member, {"a.txt": old}, {"a.txt": old[:-2] + b"y\n"})
    assert ("add", "+y") in tagged(diff)


def test_it_diffs_at_most_max_files_text_files(project, member):
    diffs = diffs_between(
        project,
        member,
        {"a.txt": b"1", "b.bin": b"1", "c.txt": b"1", "d.txt": b"1"},
        {"a.txt": b"2", "b.bin": b"2", "c.txt": b"2", "d.txt": b"2"},
        max_files=2,
    )
    assert [(diff.path, bool(diff.lines), diff.note) for diff in diffs] == [
        ("a.txt", True, ""),
        ("b.bin", False, "Binary or not a text type."),
        ("c.txt", True, ""),
        ("d.txt", False, "Only the first 2 text files are diffed."),
    ]
