"""What the search page reads from its address: the query, one kind to page through, a cursor."""

from __future__ import annotations

from django import forms

from apps.search.compile import KINDS

KIND_LABELS = {"registry": "Registries", "collection": "Collections", "version": "Versions"}


class SearchForm(forms.Form):
    # Not stripped here: a QueryError's column counts from the query as typed.
    q = forms.CharField(required=False, max_length=500, strip=False, label="Search")
    kind = forms.ChoiceField(choices=[("", "All"), *KIND_LABELS.items()], required=False)
    cursor = forms.CharField(required=False)  # one not made here starts from the top

    def kinds(self) -> tuple[str, ...]:
        """The kinds to show: the one asked for, or all of them."""
        kind = self.cleaned_data.get("kind")
        return (kind,) if kind else KINDS
