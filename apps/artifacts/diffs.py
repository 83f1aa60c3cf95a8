"""What changed between two versions: metadata keys, manifest files and the lines of text files.

The caller decides who may see what. Metadata and manifest changes come from the database
alone, so a viewer who may not read file contents can still see them; only `text_diffs`
reads blob bytes.
"""

from __future__ import annotations

import difflib
import itertools
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from apps.artifacts.models import ArtifactVersion, Blob
from apps.artifacts.storage import open_blob

# The version page previews these files inline; the same files get line diffs.
PREVIEW_MAX_BYTES = 64 * 1024
PREVIEW_SUFFIXES = (".txt", ".md", ".json", ".csv", ".yaml", ".yml", ".py", ".cfg", ".toml")

DIFF_CONTEXT_LINES = 3
DIFF_MAX_LINES = 400

LineTag = Literal["header", "hunk", "add", "remove", "context"]
PREFIX_TAGS: dict[str, LineTag] = {"@": "hunk", "+": "add", "-": "remove", " ": "context"}


def is_previewable(path: str) -> bool:
    """Whether the path names a text type that is shown inline (size is checked apart)."""
    return path.lower().endswith(PREVIEW_SUFFIXES)


# Metadata


@dataclass(frozen=True)
class KeyChange:
    """A top-level metadata key; values are compact JSON, None on the side that lacks the key."""

    key: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class MetadataDiff:
    added: list[KeyChange]
    removed: list[KeyChange]
    changed: list[KeyChange]
    unchanged_count: int

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def metadata_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> MetadataDiff:
    """Top-level keys added, removed and changed, sorted by key."""
    old_json = {key: as_compact_json(value) for key, value in old.items()}
    new_json = {key: as_compact_json(value) for key, value in new.items()}
    common = sorted(old_json.keys() & new_json.keys())
    # Compared as JSON text rather than Python values, so that `true` and `1` differ.
    changed = [
        KeyChange(key, old_json[key], new_json[key])
        for key in common
        if old_json[key] != new_json[key]
    ]
    return MetadataDiff(
        added=[KeyChange(key, None, new_json[key]) for key in sorted(new_json.keys() - old_json)],
        removed=[KeyChange(key, old_json[key], None) for key in sorted(old_json.keys() - new_json)],
        changed=changed,
        unchanged_count=len(common) - len(changed),
    )


def as_compact_json(value: Any) -> str:
    """One line of JSON with sorted keys, so equal values always read the same."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# Manifest


@dataclass(frozen=True)
class ManifestFile:
    """A file present in only one of the two versions."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class ChangedFile:
    """A path in both versions whose content differs."""

    path: str
    old_size: int
    new_size: int
    old_sha256: str
    new_sha256: str

    @property
    def size_delta(self) -> int:
        return self.new_size - self.old_size


@dataclass(frozen=True)
class ManifestDiff:
    added: list[ManifestFile]
    removed: list[ManifestFile]
    changed: list[ChangedFile]
    unchanged_count: int

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    @property
    def added_bytes(self) -> int:
        return sum(file.size for file in self.added)

    @property
    def removed_bytes(self) -> int:
        return sum(file.size for file in self.removed)

    @property
    def size_delta(self) -> int:
        """How many bytes the new version has more (or, if negative, fewer) than the old."""
        changed_delta = sum(file.size_delta for file in self.changed)
        return self.added_bytes - self.removed_bytes + changed_delta


def manifest_changes(old_version: ArtifactVersion, new_version: ArtifactVersion) -> ManifestDiff:
    """Files added, removed and changed, sorted by path; one query per version, no blob read."""
    old = _manifest(old_version)
    new = _manifest(new_version)
    common = sorted(old.keys() & new.keys())
    changed = [
        ChangedFile(path, old[path][0], new[path][0], old[path][1], new[path][1])
        for path in common
        if old[path][1] != new[path][1]
    ]
    return ManifestDiff(
        added=[ManifestFile(path, *new[path]) for path in sorted(new.keys() - old)],
        removed=[ManifestFile(path, *old[path]) for path in sorted(old.keys() - new)],
        changed=changed,
        unchanged_count=len(common) - len(changed),
    )


def _manifest(version: ArtifactVersion) -> dict[str, tuple[int, str]]:
    """Each path's size and sha256; unordered, since the caller sorts."""
    rows = version.files.order_by().values_list("path", "size", "blob_id")
    return {path: (size, sha256) for path, size, sha256 in rows}


# Text


@dataclass(frozen=True)
class DiffLine:
    """One line of a unified diff, prefix included, tagged for colouring."""

    tag: LineTag
    text: str


@dataclass(frozen=True)
class TextDiff:
    """A changed file's line diff, or a note saying why there is none."""

    path: str
    lines: list[DiffLine] = field(default_factory=list)
    truncated: bool = False
    note: str = ""


def text_diffs(
    changed: Iterable[ChangedFile], *, old_label: str, new_label: str, max_files: int = 10
) -> list[TextDiff]:
    """Line diffs of the first `max_files` changed text files; every other file gets a note.

    Only this function reads blob bytes, and only those of the files it diffs.
    """
    diffs = []
    diffed = 0
    for file in changed:
        if note := _why_not_diffed(file):
            diffs.append(TextDiff(file.path, note=note))
        elif diffed >= max_files:
            note = f"Only the first {max_files} text files are diffed."
            diffs.append(TextDiff(file.path, note=note))
        else:
            diffed += 1
            diffs.append(_text_diff(file, old_label, new_label))
    return diffs


def _why_not_diffed(file: ChangedFile) -> str:
    if not is_previewable(file.path):
        return "Binary or not a text type."
    if max(file.old_size, file.new_size) > PREVIEW_MAX_BYTES:
        return f"Larger than {PREVIEW_MAX_BYTES // 1024} KiB."
    return ""


def _text_diff(file: ChangedFile, old_label: str, new_label: str) -> TextDiff:
    old_text = _read_text(file.old_sha256)
    new_text = _read_text(file.new_sha256)
    if old_text == new_text:
        # Different bytes that decode alike can only be ones the decoder replaced.
        return TextDiff(file.path, note="Differs only in bytes that are not valid UTF-8.")
    diff = difflib.unified_diff(
        old_text.splitlines(keepends=True),
        new_text.splitlines(keepends=True),
        fromfile=f"{file.path} ({old_label})",
        tofile=f"{file.path} ({new_label})",
        n=DIFF_CONTEXT_LINES,
    )
    lines = list(itertools.islice(_tagged(diff), DIFF_MAX_LINES + 1))
    return TextDiff(file.path, lines[:DIFF_MAX_LINES], truncated=len(lines) > DIFF_MAX_LINES)


def _read_text(sha256: str) -> str:
    # The manifest row names the blob; an unsaved Blob is enough to locate its bytes.
    with open_blob(Blob(sha256=sha256)) as stream:
        return stream.read(PREVIEW_MAX_BYTES).decode("utf-8", errors="replace")


def _tagged(diff: Iterable[str]) -> Iterator[DiffLine]:
    for number, line in enumerate(diff):
        # The first two lines are the file headers; tagging by prefix would mistake a removed
        # "--" line (a YAML document marker, say) for one.
        tag = "header" if number < 2 else PREFIX_TAGS[line[0]]
        text = line.splitlines()[0]
        yield DiffLine(tag, text)
        if text == line:
            # Otherwise a change to the final newline alone would show as two equal lines.
            yield DiffLine("context", "\\ No newline at end of file")
