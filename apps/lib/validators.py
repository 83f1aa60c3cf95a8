"""The naming and size rules of the registry, in one place.

Each validator raises ValidationError with a code and a message that names the rule broken and
how to fix it. Models, forms, services and the API all call these.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.text import slugify

REGISTRY_NAME_MAX = 113
REGISTRY_NAME_FORBIDDEN = set("/\\#?%:\r\n")
COLLECTION_NAME_MAX = 128
ALIAS_MAX = 128
TAG_MAX = 64
ARTIFACT_NAME_MAX = 128
ARTIFACT_TYPE_MAX = 128
METADATA_MAX_KEYS = 100
FILE_PATH_MAX = 1024
# What a signed 64-bit column holds: the widest integer any number here is stored in.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
WHOLE_NUMBER_RE = re.compile(r"-?[0-9]{1,19}")

LATEST = "latest"
# `<team>/model-registry/<model>` paths name a team's legacy Model Registry, so no registry may
# take this slug: a path through it would be ambiguous.
LEGACY_REGISTRY_SLUG = "model-registry"
# Collection URLs sit beside the registry's own pages, so these names are taken.
RESERVED_COLLECTION_NAMES = frozenset({"settings", "star", "link"})
TAG_PATTERN = r"^[-\w]+( +[-\w]+)*$"
TAG_RE = re.compile(TAG_PATTERN)
VERSION_REF_RE = re.compile(r"^v(\d+)$")
# Artifact names and types: letters, digits, underscores, hyphens and dots.
ARTIFACT_WORD_RE = re.compile(r"^[\w.-]+$")


def _require_text(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{what} cannot be empty.", code="required")
    if value != value.strip():
        raise ValidationError(
            f"{what} {value!r} starts or ends with spaces; remove them.", code="whitespace"
        )
    return value


def _refuse_dot_segment(value: str, what: str) -> None:
    """`.` and `..` are path steps, not names: browsers, proxies and URL libraries fold them
    away (even percent-encoded), so a URL holding one would reach something else."""
    if value in (".", ".."):
        raise ValidationError(
            f"{what} {value!r} cannot be used: URLs read it as a step to the same or the parent "
            "folder. Choose a name with at least one other character.",
            code="dot_segment",
        )


def validate_registry_name(name: str) -> str:
    _require_text(name, "A registry name")
    if len(name) > REGISTRY_NAME_MAX:
        raise ValidationError(
            f"Registry name is {len(name)} characters; it must be {REGISTRY_NAME_MAX} or fewer.",
            code="too_long",
        )
    if bad := sorted(REGISTRY_NAME_FORBIDDEN.intersection(name)):
        shown = " ".join(repr(c) for c in bad)
        raise ValidationError(
            f"Registry name {name!r} contains {shown}; it may not contain / \\ # ? % : "
            "or a line break.",
            code="invalid_character",
        )
    if slugify(name, allow_unicode=True) == LEGACY_REGISTRY_SLUG:
        raise ValidationError(
            f"Registry name {name!r} is reserved: paths such as "
            f"<team>/{LEGACY_REGISTRY_SLUG}/<model> name a team's legacy Model Registry. "
            "Choose another name, e.g. 'Team Models'.",
            code="reserved_name",
        )
    return name


def validate_collection_name(name: str) -> str:
    _require_text(name, "A collection name")
    if len(name) > COLLECTION_NAME_MAX:
        raise ValidationError(
            f"Collection name is {len(name)} characters; it must be {COLLECTION_NAME_MAX} "
            "or fewer.",
            code="too_long",
        )
    if "/" in name or ":" in name or "\n" in name or "\r" in name:
        raise ValidationError(
            f"Collection name {name!r} may not contain '/', ':' or a line break.",
            code="invalid_character",
        )
    _refuse_dot_segment(name, "Collection name")
    if name in RESERVED_COLLECTION_NAMES:
        raise ValidationError(
            f"{name!r} is reserved for the registry's own pages; choose another collection name.",
            code="reserved_name",
        )
    return name


def validate_alias(name: str) -> str:
    """An alias a person may set: not `latest` (it moves by itself) and not `vN` (an index)."""
    _require_text(name, "An alias")
    if len(name) > ALIAS_MAX:
        raise ValidationError(
            f"Alias is {len(name)} characters; it must be {ALIAS_MAX} or fewer.", code="too_long"
        )
    if "/" in name or ":" in name:
        raise ValidationError(
            f"Alias {name!r} may not contain '/' or ':'.", code="invalid_character"
        )
    if name == LATEST:
        raise ValidationError(
            "'latest' is reserved: it always sits on the newest version and moves by itself.",
            code="reserved_alias",
        )
    if VERSION_REF_RE.match(name):
        raise ValidationError(
            f"{name!r} is reserved: v followed by digits selects a version by its number.",
            code="reserved_alias",
        )
    return name


def validate_tag(tag: str) -> str:
    _require_text(tag, "A tag")
    if len(tag) > TAG_MAX:
        raise ValidationError(
            f"Tag is {len(tag)} characters; it must be {TAG_MAX} or fewer.", code="too_long"
        )
    if not TAG_RE.match(tag):
        raise ValidationError(
            f"Tag {tag!r} is invalid: tags must only contain letters, digits and underscores, "
            "joined by hyphens, underscores or spaces.",
            code="invalid_tag",
        )
    return tag


def clean_tags(tags: Iterable[str]) -> list[str]:
    """Validate tags and drop duplicates, keeping first-seen order."""
    return list(dict.fromkeys(validate_tag(tag) for tag in tags))


def clean_aliases(aliases: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(validate_alias(alias) for alias in aliases))


def _validate_artifact_word(value: str, what: str, limit: int) -> str:
    _require_text(value, what)
    if len(value) > limit:
        raise ValidationError(
            f"{what} is {len(value)} characters; it must be {limit} or fewer.", code="too_long"
        )
    if not ARTIFACT_WORD_RE.match(value):
        raise ValidationError(
            f"{what} {value!r} is invalid: use letters, digits, underscores, hyphens and dots.",
            code="invalid_character",
        )
    _refuse_dot_segment(value, what)
    return value


def validate_artifact_name(name: str) -> str:
    return _validate_artifact_word(name, "Artifact name", ARTIFACT_NAME_MAX)


def validate_artifact_type(artifact_type: str) -> str:
    return _validate_artifact_word(artifact_type, "Artifact type", ARTIFACT_TYPE_MAX)


def validate_project_name(name: str) -> str:
    return _validate_artifact_word(name, "Project name", ARTIFACT_NAME_MAX)


def _reject_non_finite(value: Any, where: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(
            f"{where} is {value}; NaN and infinities are not allowed in JSON metadata.",
            code="non_finite",
        )
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationError(f"{where} has a non-string key {key!r}.", code="bad_key")
            _reject_non_finite(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _reject_non_finite(item, f"{where}[{index}]")


def validate_metadata(metadata: Any) -> dict:
    if not isinstance(metadata, dict):
        raise ValidationError("Metadata must be a JSON object.", code="not_object")
    if len(metadata) > METADATA_MAX_KEYS:
        raise ValidationError(
            f"Metadata has {len(metadata)} top-level keys; at most {METADATA_MAX_KEYS} "
            "are allowed. Nest related values under one key.",
            code="too_many_keys",
        )
    _reject_non_finite(metadata, "metadata")
    return metadata


def validate_metrics(metrics: Any) -> dict[str, float]:
    """Metrics are a flat map of name to finite number."""
    if not isinstance(metrics, dict):
        raise ValidationError("Metrics must be a JSON object of name → number.", code="not_object")
    for name, value in metrics.items():
        if not isinstance(name, str) or not name.strip():
            raise ValidationError("Metric names must be non-empty strings.", code="bad_key")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError(
                f"Metric {name!r} is {value!r}; metrics must be numbers.", code="not_number"
            )
        if not math.isfinite(value):
            raise ValidationError(
                f"Metric {name!r} is {value}; NaN and infinities are not allowed.",
                code="non_finite",
            )
    return metrics


# Characters that let one file name pass for another: line breaks a list would split on, and
# bidirectional controls that reorder what is shown (`evil\u202eexe.txt` reads `evil.txt.exe`).
PATH_CONTROL_CHARACTERS = {
    **{chr(c): f"a control character (U+{c:04X})" for c in [*range(0x20), *range(0x7F, 0xA0)]},
    "\u2028": "a line separator (U+2028)",
    "\u2029": "a paragraph separator (U+2029)",
    **{
        c: f"a bidirectional control (U+{ord(c):04X})"
        for c in "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    },
}
DRIVE_LETTER_RE = re.compile(r"^[A-Za-z]:")


def validate_file_path(path: str) -> str:
    """A file path inside a version: relative, forward slashes, no '..' or empty parts, nothing
    that would read differently on screen or mean something else on Windows."""
    # Before the whitespace rule, which would call a leading U+2028 a space.
    if isinstance(path, str) and (bad := next(filter(PATH_CONTROL_CHARACTERS.get, path), None)):
        raise ValidationError(
            f"File path {path!r} contains {PATH_CONTROL_CHARACTERS[bad]}, which could make "
            "one file name look like another; rename the file without it.",
            code="invalid_path",
        )
    _require_text(path, "A file path")
    if len(path) > FILE_PATH_MAX:
        raise ValidationError(
            f"File path is {len(path)} characters; it must be {FILE_PATH_MAX} or fewer.",
            code="too_long",
        )
    parts = path.split("/")
    if path.startswith("/") or "\\" in path or any(p in ("", ".", "..") for p in parts):
        raise ValidationError(
            f"File path {path!r} must be relative, use '/' between parts and contain no "
            "empty, '.' or '..' parts.",
            code="invalid_path",
        )
    if part := next((p for p in parts if DRIVE_LETTER_RE.match(p)), None):
        raise ValidationError(
            f"File path {path!r} has a part beginning with a drive letter ({part[:2]!r}), "
            "which Windows reads as another disk; rename that part.",
            code="invalid_path",
        )
    return path


def validate_manifest_paths(paths: Iterable[str]) -> None:
    """The paths of one version together: files must stay apart on every file system.

    Two paths that differ only in case (or Unicode normalization) are one file on macOS and
    Windows, and a file cannot also be a folder (`a` beside `a/b`)."""
    files: dict[str, str] = {}
    folders: dict[str, str] = {}
    for path in paths:
        key = _path_key(path)
        if (other := files.get(key)) is not None and other != path:
            raise ValidationError(
                f"File paths {other!r} and {path!r} differ only in case or Unicode form; they "
                "would be one file on macOS and Windows. Rename one of them.",
                code="case_clash",
            )
        files[key] = path
        parts = key.split("/")
        for depth in range(1, len(parts)):
            folders.setdefault("/".join(parts[:depth]), path)
    for key, path in files.items():
        if (inside := folders.get(key)) is not None:
            raise ValidationError(
                f"File path {path!r} is a file, but {inside!r} uses it as a folder; a path "
                "cannot be both. Rename one of them.",
                code="file_folder_clash",
            )


def _path_key(path: str) -> str:
    return unicodedata.normalize("NFC", path).casefold()


def parse_whole_number(raw: str, what: str, *, minimum: int = 0, maximum: int = INT64_MAX) -> int:
    """Text such as a query parameter as a whole number from `minimum` to `maximum`.

    Only ASCII digits are read, at most 19, so neither a superscript digit nor a 5,000-digit
    string reaches int(), and no number a 64-bit column cannot hold reaches the database."""
    number = int(raw) if WHOLE_NUMBER_RE.fullmatch(raw) else None
    if number is None or not minimum <= number <= maximum:
        shown = raw if len(raw) <= 30 else raw[:30] + "…"
        raise ValidationError(
            f"{what} must be a whole number from {minimum} to {maximum}; {shown!r} is not.",
            code="invalid_number",
        )
    return number


def validate_sha256(digest: str) -> str:
    if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ValidationError(
            f"{digest!r} is not a sha256 digest: expected 64 lower-case hex characters.",
            code="invalid_digest",
        )
    return digest
