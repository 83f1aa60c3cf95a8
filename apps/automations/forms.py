"""Forms for the automations pages: they validate and normalise; the services check the rest
(regexes, payload variables, addresses) and make the change."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from apps.automations.models import (
    ALIAS_EVENTS,
    TAG_EVENTS,
    Event,
    ExecutionStatus,
    TeamSecret,
    Webhook,
    WebhookKind,
)
from apps.automations.payloads import GITHUB_DISPATCH_EXAMPLE
from apps.registries.forms import add_service_error

# Which field a service's refusal concerns, by its code; the rest show above the form.
FIELD_OF_CODE = {
    "duplicate": "name",
    "invalid_event": "event",
    "foreign_webhook": "webhook",
    "unknown_variable": "payload",
    "invalid_json": "payload",
    "required": "payload",  # the form asks for the name itself; the service for the payload
    "invalid_rate_limit": "rate_limit_per_hour",
    "invalid_secret_name": "name",
    "invalid_secret": "value",
    "invalid_url": "url",
    "credentials_in_url": "url",
    "private_address": "url",
    "invalid_kind": "kind",
    "slack_secret": "access_token",
    "foreign_secret": "access_token",
}


def add_error_in_place(form: forms.Form, error: ValidationError) -> None:
    """Show a service's refusal next to the field it concerns, if the form has that field."""
    field = FIELD_OF_CODE.get(error.code or "")
    if error.code in ("invalid_regex", "regex_not_applicable"):
        event = form.cleaned_data.get("event")
        field = "alias_regex" if event in ALIAS_EVENTS else "tag_regex"
    add_service_error(form, error, field if field in form.fields else None)


class WebhookSelect(forms.Select):
    """Each option says its webhook's kind, so the page's stylesheet hides the payload for
    Slack, whose message the product writes."""

    def create_option(self, *args: Any, **kwargs: Any) -> dict:
        option = super().create_option(*args, **kwargs)
        if instance := getattr(option["value"], "instance", None):
            option["attrs"]["data-kind"] = instance.kind
        return option


class WebhookChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, webhook: Webhook) -> str:
        kind = "Slack" if webhook.kind == WebhookKind.SLACK else "webhook"
        return f"{webhook.name} ({kind} of team {webhook.team.name})"


class AutomationForm(forms.Form):
    """What an automation watches and sends; its scope comes from where it was opened."""

    event = forms.ChoiceField(choices=Event.choices)
    alias_regex = forms.CharField(
        label="Alias regex",
        max_length=256,
        required=False,
        help_text="For alias events: only aliases it matches (searched, so ^production$ is "
        "exact); empty matches every alias.",
    )
    tag_regex = forms.CharField(
        label="Tag regex",
        max_length=256,
        required=False,
        help_text="For tag events: only tags it matches, e.g. ^europe; empty matches every tag.",
    )
    webhook = WebhookChoiceField(
        queryset=Webhook.objects.none(),
        widget=WebhookSelect,
        empty_label=None,
        help_text="Your teams' webhooks and Slack channels; team admins add them in the team's "
        "integrations.",
    )
    payload = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false", "class": "code"}),
        required=False,
        strip=False,
        help_text="JSON with ${variables} (listed below), each inside a string. Slack "
        "destinations get a message the registry writes instead.",
    )
    name = forms.CharField(max_length=128)
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )
    rate_limit_per_hour = forms.IntegerField(
        label="Rate limit per hour",
        min_value=1,
        max_value=100_000,
        initial=60,
        help_text="Executions past it within an hour are recorded as skipped.",
    )
    cooldown_seconds = forms.IntegerField(
        label="Cooldown (seconds)",
        min_value=0,
        max_value=7 * 24 * 3600,
        initial=0,
        help_text="None sooner than this after the last; 0 for no cooldown.",
    )

    def __init__(self, *args: Any, webhooks: QuerySet[Webhook], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"payload": GITHUB_DISPATCH_EXAMPLE})
        super().__init__(*args, **kwargs)
        self.fields["webhook"].queryset = webhooks

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # The stylesheet hides the regex that does not apply to the chosen event; a value typed
        # there before the event changed is dropped, not refused.
        event = data.get("event")
        if event not in ALIAS_EVENTS:
            data["alias_regex"] = ""
        if event not in TAG_EVENTS:
            data["tag_regex"] = ""
        return data


class HistoryFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "Any status"), *ExecutionStatus.choices], required=False
    )
    cursor = forms.CharField(required=False)


class AutomationFilterForm(forms.Form):
    SORTS = {
        "name": ("name", False, "Name A to Z"),
        "-triggered": ("last_triggered", True, "Last triggered"),
    }

    q = forms.CharField(required=False, label="Search", max_length=128)
    sort = forms.ChoiceField(
        required=False, choices=[(key, label) for key, (_, _, label) in SORTS.items()]
    )
    cursor = forms.CharField(required=False)

    def ordering(self) -> tuple[str, bool]:
        field, descending, _ = self.SORTS[self.cleaned_data.get("sort") or "name"]
        return field, descending


# Team integrations --------------------------------------------------------------------------


class SecretField(forms.ChoiceField):
    """One of the team's secrets by name (names are unique in a team), or none; the choices are
    read once per page, not once per form."""

    def __init__(self, secrets: list[TeamSecret], **kwargs: Any) -> None:
        self.by_name = {secret.name: secret for secret in secrets}
        choices = [("", "None"), *((name, name) for name in self.by_name)]
        super().__init__(choices=choices, required=False, **kwargs)

    def clean(self, value: Any) -> TeamSecret | None:
        return self.by_name.get(super().clean(value))


class SecretForm(forms.Form):
    name = forms.CharField(
        max_length=64, help_text="Capitals, digits and underscores, e.g. GITHUB_TOKEN."
    )
    value = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        strip=False,
        help_text="Stored encrypted; never shown again.",
    )


class SecretValueForm(forms.Form):
    value = forms.CharField(
        label="New value",
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        strip=False,
        required=False,
        help_text="Replaces the stored value; leave empty to keep it.",
    )


class WebhookForm(forms.Form):
    name = forms.CharField(max_length=128)
    kind = forms.ChoiceField(choices=WebhookKind.choices, initial=WebhookKind.WEBHOOK)
    url = forms.CharField(label="URL", max_length=2048, help_text="https://host/path")

    def __init__(self, *args: Any, secrets: list[TeamSecret], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["access_token"] = SecretField(
            secrets,
            label="Access token",
            help_text="Sent as Authorization: Bearer, and as ${ACCESS_TOKEN} in payloads.",
        )
        self.fields["signing_secret"] = SecretField(
            secrets,
            label="Signing secret",
            help_text="Signs each body (X-Wandb-Signature and the Standard Webhooks headers).",
        )


class WebhookEditForm(WebhookForm):
    """As WebhookForm, but the kind stays and an empty URL keeps the stored one, which the page
    never shows in full; a Slack webhook takes no secrets."""

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["kind"]
        if kind == WebhookKind.SLACK:
            del self.fields["access_token"], self.fields["signing_secret"]
        self.fields["url"].required = False
        self.fields["url"].label = "New URL"
        self.fields["url"].help_text = "Leave empty to keep the current one."


class SendTestForm(forms.Form):
    payload = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "class": "code"}),
        required=False,
        strip=False,
        help_text="Optional, not saved; empty sends the GitHub example with sample values.",
    )
