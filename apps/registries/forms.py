"""Forms for the Registry pages: they validate and normalise; the services make the change."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.http import urlencode

from apps.accounts.models import BASELINE_ROLES, RegistryRole, Visibility
from apps.lib.validators import (
    clean_aliases,
    clean_tags,
    validate_alias,
    validate_artifact_type,
    validate_collection_name,
    validate_registry_name,
)


def split_list(value: str) -> list[str]:
    """Comma-separated input as a list: 'a, b,,c ' → ['a', 'b', 'c']."""
    return [item.strip() for item in value.split(",") if item.strip()]


class TagsField(forms.CharField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "Comma-separated, e.g. vision, cnn")
        super().__init__(**kwargs)

    def clean(self, value: str) -> list[str]:
        return clean_tags(split_list(super().clean(value)))


class AliasesField(forms.CharField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "Comma-separated, e.g. staging, candidate")
        super().__init__(**kwargs)

    def clean(self, value: str) -> list[str]:
        return clean_aliases(split_list(super().clean(value)))


class CollectionForm(forms.Form):
    name = forms.CharField(max_length=128, validators=[validate_collection_name])
    artifact_type = forms.CharField(label="Type", max_length=128)
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, help_text="Markdown."
    )
    tags = TagsField()

    def __init__(self, *args, accepted_types: list[str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if accepted_types:
            self.fields["artifact_type"] = forms.ChoiceField(
                label="Type", choices=[(t, t) for t in accepted_types]
            )
        else:
            self.fields["artifact_type"].validators.append(validate_artifact_type)


class CollectionFilterForm(forms.Form):
    SORTS = {
        "-updated": ("updated_at", True, "Recently updated"),
        "name": ("name", False, "Name A to Z"),
        "-name": ("name", True, "Name Z to A"),
        "updated": ("updated_at", False, "Least recently updated"),
    }

    q = forms.CharField(required=False, label="Search collections")
    tag = forms.CharField(required=False)
    type = forms.CharField(required=False)
    sort = forms.ChoiceField(
        required=False, choices=[(key, label) for key, (_, _, label) in SORTS.items()]
    )
    cursor = forms.CharField(required=False)

    def ordering(self) -> tuple[str, bool]:
        field, descending, _ = self.SORTS[self.cleaned_data.get("sort") or "-updated"]
        return field, descending


class MetricRangeForm(forms.Form):
    """The collection page's filter: versions whose metric lies in a range (ends included)."""

    metric = forms.CharField(required=False, max_length=255)
    min = forms.FloatField(required=False, label="From")
    max = forms.FloatField(required=False, label="To")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        low, high = data.get("min"), data.get("max")
        if not data.get("metric") and (low is not None or high is not None):
            raise forms.ValidationError("Name the metric to filter by, e.g. accuracy.")
        if low is not None and high is not None and low > high:
            raise forms.ValidationError(
                f"The range starts at {low}, above its end {high}: swap them."
            )
        return data

    @property
    def query(self) -> str:
        """The filter as query parameters ending in '&', for links that keep it; '' if none."""
        if not self.is_valid() or not self.cleaned_data["metric"]:
            return ""
        return (
            urlencode({key: value for key, value in self.data.items() if key in self.fields}) + "&"
        )


class AliasForm(forms.Form):
    alias = forms.CharField(max_length=128, validators=[validate_alias])


class TagForm(forms.Form):
    tags = TagsField(required=True, help_text="")


class DescriptionForm(forms.Form):
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), required=False)


class ConfirmNameForm(forms.Form):
    """Typing the name guards an irreversible delete against a slip of the mouse."""

    confirm = forms.CharField(label="Type the name to confirm")

    def __init__(self, *args, expected: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.expected = expected

    def clean_confirm(self) -> str:
        if self.cleaned_data["confirm"] != self.expected:
            raise ValidationError(f"Type {self.expected!r} exactly to confirm.")
        return self.cleaned_data["confirm"]


def add_service_error(form: forms.Form, error: ValidationError, field: str | None = None) -> None:
    """Show a service's refusal next to the field it concerns, or above the form."""
    for message in error.messages:
        form.add_error(field, message)


class LinkVersionForm(forms.Form):
    """Pick project, then artifact, then version; each choice narrows the next select."""

    project = forms.ModelChoiceField(queryset=None)
    artifact = forms.ModelChoiceField(queryset=None, required=False)
    version = forms.ModelChoiceField(queryset=None, required=False)
    collection = forms.CharField(
        label="Collection",
        max_length=128,
        validators=[validate_collection_name],
        widget=forms.TextInput(attrs={"list": "collection-names"}),
        help_text="An existing collection, or a new name to create one.",
    )
    aliases = AliasesField()

    def __init__(self, *args, projects, accepted_types: list[str] | None, **kwargs) -> None:
        from apps.artifacts.models import Artifact, ArtifactVersion

        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects.select_related("team")
        self.fields["project"].label_from_instance = lambda p: f"{p.team.name} / {p.name}"
        project_id = self._chosen("project")
        artifacts = Artifact.objects.filter(project_id=project_id, project__in=projects)
        if accepted_types:
            artifacts = artifacts.filter(artifact_type__in=accepted_types)
        self.fields["artifact"].queryset = artifacts
        self.fields["artifact"].label_from_instance = lambda a: f"{a.name} ({a.artifact_type})"
        versions = ArtifactVersion.objects.committed().filter(
            artifact_id=self._chosen("artifact"), artifact__in=artifacts
        )
        self.fields["version"].queryset = versions.order_by("-number")
        self.fields["version"].label_from_instance = lambda v: f"v{v.number}"

    def _chosen(self, name: str) -> int | None:
        value = (self.data or self.initial).get(name)
        return int(value) if str(value or "").isdigit() else None

    def clean(self) -> dict:
        data = super().clean()
        if data.get("project") and not data.get("artifact"):
            self.add_error("artifact", "Choose an artifact of this project.")
        elif data.get("artifact") and not data.get("version"):
            self.add_error("version", "Choose a version of this artifact.")
        return data


class RegistryForm(forms.Form):
    name = forms.CharField(max_length=113, validators=[validate_registry_name])
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    visibility = forms.ChoiceField(
        choices=Visibility.choices,
        initial=Visibility.ORGANIZATION,
        help_text="Restricted: only people and teams you invite (and organization admins).",
    )
    artifact_types = forms.CharField(
        label="Accepted types",
        required=False,
        help_text="Comma-separated, e.g. model, onnx. Leave empty to accept all types.",
    )

    def clean_artifact_types(self) -> list[str]:
        return [validate_artifact_type(t) for t in split_list(self.cleaned_data["artifact_types"])]


class RegistryDetailsForm(forms.Form):
    name = forms.CharField(max_length=113, validators=[validate_registry_name])
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class AccessForm(forms.Form):
    visibility = forms.ChoiceField(choices=Visibility.choices)
    # Not sent for a restricted registry, which has none (its settings page offers none).
    baseline_role = forms.ChoiceField(
        label="Baseline role",
        choices=[(role.value, role.label) for role in BASELINE_ROLES],
        required=False,
        help_text="What every organization member may do on an organization-visible registry.",
    )


class AcceptedTypesForm(forms.Form):
    artifact_types = forms.CharField(
        label="Add types", required=False, help_text="Comma-separated. Saved types stay."
    )
    accept_all = forms.BooleanField(label="Accept all types", required=False)

    def clean_artifact_types(self) -> list[str]:
        return [validate_artifact_type(t) for t in split_list(self.cleaned_data["artifact_types"])]


class ProtectedAliasForm(forms.Form):
    alias = forms.CharField(label="Protect an alias", max_length=128, validators=[validate_alias])


class MemberForm(forms.Form):
    """A person of the organization, by username or email, and the role to give them."""

    who = forms.CharField(label="Username or email")
    role = forms.ChoiceField(choices=RegistryRole.choices, initial=RegistryRole.VIEWER)

    def __init__(self, *args, organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization

    def clean_who(self):
        who = self.cleaned_data["who"].strip()
        membership = (
            self.organization.memberships.select_related("user")
            .filter(Q(user__username__iexact=who) | Q(user__email__iexact=who))
            .first()
        )
        if membership is None:
            raise ValidationError(
                f"Nobody in {self.organization.name} has the username or email {who!r}."
            )
        return membership.user


class TeamGrantForm(forms.Form):
    team = forms.ModelChoiceField(queryset=None)
    role = forms.ChoiceField(choices=RegistryRole.choices, initial=RegistryRole.VIEWER)

    def __init__(self, *args, organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = organization.teams.all()


class GrantRoleForm(forms.Form):
    grant = forms.IntegerField(widget=forms.HiddenInput)
    role = forms.ChoiceField(choices=RegistryRole.choices)
