"""Query-string forms of the lineage graph and the audit log."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.audit.models import AuditAction
from apps.lineage.graph import DEFAULT_DEPTH, MAX_DEPTH
from apps.registries.models import Registry


class LineageForm(forms.Form):
    depth = forms.IntegerField(min_value=1, max_value=MAX_DEPTH, required=False)
    expand = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        choices=[(layer, layer) for layer in range(-MAX_DEPTH, MAX_DEPTH + 1)],
    )
    find = forms.CharField(max_length=100, required=False, strip=True)

    @staticmethod
    def defaults() -> dict[str, Any]:
        return {"depth": DEFAULT_DEPTH, "expand": [], "find": ""}

    def clean_depth(self) -> int:
        return self.cleaned_data["depth"] or DEFAULT_DEPTH


class AuditFilterForm(forms.Form):
    actor = forms.CharField(max_length=150, required=False, label="Who (username)")
    registry = forms.ModelChoiceField(queryset=Registry.objects.none(), required=False)
    collection = forms.CharField(max_length=128, required=False)
    action = forms.ChoiceField(choices=[("", "Any action"), *AuditAction.choices], required=False)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Deleted registries stay filterable by their events' target text, not listed here.
        self.fields["registry"].queryset = Registry.objects.filter(organization=organization)
        self.fields["registry"].empty_label = "Any registry"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError("The first day comes after the last; swap them.")
        return data
