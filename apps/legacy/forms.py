"""Forms for the legacy Model Registry's pages: they validate and normalise; the services in
`apps.legacy.services` make the change and check who may."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.artifacts.models import ArtifactVersion
from apps.legacy.models import LegacyRegisteredModel
from apps.lib.validators import validate_artifact_type, validate_collection_name
from apps.registries.forms import AliasesField, TagsField

# The link form offers the team's newest versions; older ones are rarely linked, and a page
# never lists an unbounded number of rows.
LINKABLE_VERSIONS = 100


class RegisterModelForm(forms.Form):
    name = forms.CharField(
        max_length=128,
        validators=[validate_collection_name],
        help_text="One model for one task, e.g. image-classifier.",
    )
    artifact_type = forms.CharField(
        label="Type", max_length=128, initial="model", validators=[validate_artifact_type]
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, help_text="Markdown."
    )
    tags = TagsField()


class LinkModelVersionForm(forms.Form):
    """A version the team logged, of the model's type and not linked in it yet."""

    version = forms.ModelChoiceField(queryset=None, label="Source version")
    aliases = AliasesField()

    def __init__(self, *args: Any, model: LegacyRegisteredModel, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        linkable = (
            ArtifactVersion.objects.committed()
            .filter(
                artifact__project__team=model.team_id, artifact__artifact_type=model.artifact_type
            )
            .exclude(legacy_links__registered_model=model)
            .select_related("artifact__project__team")
            .order_by("-committed_at", "-pk")
        )
        field = self.fields["version"]
        # Validation looks the choice up in the whole set; the select shows the newest.
        field.queryset = linkable
        field.choices = [("", "Choose a version")] + [
            (version.pk, str(version)) for version in linkable[:LINKABLE_VERSIONS]
        ]
