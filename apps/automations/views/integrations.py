"""A team's integrations: its webhooks (and Slack channels) and the secrets they use, for its
admins. Every form posts to the page, named by its `form` field, as the registry settings do."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from apps.accounts.models import Team
from apps.automations import delivery, services
from apps.automations.forms import (
    SecretForm,
    SecretValueForm,
    SendTestForm,
    WebhookEditForm,
    WebhookForm,
    add_error_in_place,
)
from apps.automations.models import TeamSecret, Webhook
from apps.automations.views.shared import team_for


@dataclass
class SecretRow:
    secret: TeamSecret
    form: SecretValueForm
    error: str = ""


@dataclass
class WebhookRow:
    webhook: Webhook
    form: WebhookEditForm
    test_form: SendTestForm
    answer: delivery.Answer | None = None
    test_error: str = ""
    error: str = ""


@dataclass
class Page:
    """Every form of the page, unbound but for the one posted."""

    team: Team
    secrets: list[SecretRow]
    webhooks: list[WebhookRow]
    secret_form: SecretForm
    webhook_form: WebhookForm

    @classmethod
    def of(cls, team: Team, data=None, which: str = "", pk: str = "") -> Page:
        secrets = list(team.secrets.all())
        webhooks = list(team.webhooks.select_related("access_token", "signing_secret"))

        def bound(name: str, row_pk: int | None = None):
            return data if which == name and (row_pk is None or str(row_pk) == pk) else None

        return cls(
            team=team,
            secrets=[
                SecretRow(s, SecretValueForm(bound("secret-value", s.pk), prefix=f"secret-{s.pk}"))
                for s in secrets
            ],
            webhooks=[
                WebhookRow(
                    w,
                    WebhookEditForm(
                        bound("webhook-edit", w.pk),
                        secrets=secrets,
                        kind=w.kind,
                        prefix=f"webhook-{w.pk}",
                        initial={
                            "name": w.name,
                            "access_token": w.access_token.name if w.access_token else "",
                            "signing_secret": w.signing_secret.name if w.signing_secret else "",
                        },
                    ),
                    SendTestForm(bound("test", w.pk), prefix=f"test-{w.pk}"),
                )
                for w in webhooks
            ],
            secret_form=SecretForm(bound("secret"), prefix="secret"),
            webhook_form=WebhookForm(bound("webhook"), secrets=secrets, prefix="webhook"),
        )

    def secret_row(self, pk: str) -> SecretRow:
        return _row(self.secrets, lambda row: row.secret, pk)

    def webhook_row(self, pk: str) -> WebhookRow:
        return _row(self.webhooks, lambda row: row.webhook, pk)

    def context(self) -> dict:
        return {
            "organization": self.team.organization,
            "team": self.team,
            "page": self,
        }


def _row(rows, thing, pk: str):
    for row in rows:
        if str(thing(row).pk) == pk:
            return row
    raise Http404("No such secret or webhook in this team.")


def _message(error: ValidationError) -> str:
    return " ".join(error.messages)


def _form_of(page: Page, which: str, pk: str) -> forms.Form | None:
    """The posted form, for those that have one (deletes have none)."""
    if which == "secret":
        return page.secret_form
    if which == "webhook":
        return page.webhook_form
    if which == "secret-value":
        return page.secret_row(pk).form
    if which == "webhook-edit":
        return page.webhook_row(pk).form
    return None


def _apply(request: HttpRequest, page: Page, which: str, pk: str) -> str | None:
    """Carry out the posted form; what was done, for the message, or None when it was refused
    (the page then shows why, in place)."""
    actor, team = request.user, page.team
    form = _form_of(page, which, pk)
    if form is not None and not form.is_valid():
        return None
    data = form.cleaned_data if form is not None else {}
    try:
        if which == "secret":
            services.create_secret(actor=actor, team=team, **data)
            return f"Saved secret {data['name']}."
        if which == "secret-value":
            secret = page.secret_row(pk).secret
            if not data["value"]:
                return f"Kept the value of secret {secret.name}."
            services.update_secret(actor=actor, secret=secret, value=data["value"])
            return f"Replaced the value of secret {secret.name}."
        if which == "secret-delete":
            secret = page.secret_row(pk).secret
            services.delete_secret(actor=actor, secret=secret)
            return f"Deleted secret {secret.name}."
        if which == "webhook":
            webhook = services.create_webhook(actor=actor, team=team, **data)
            return f"Added webhook {webhook.name}."
        if which == "webhook-edit":
            webhook = page.webhook_row(pk).webhook
            # An empty URL keeps the stored one.
            changes = {key: value for key, value in data.items() if key != "url" or value}
            try:
                services.update_webhook(actor=actor, webhook=webhook, **changes)
            except ValidationError:
                webhook.refresh_from_db()  # the service set the refused values on it
                raise
            return f"Saved webhook {webhook.name}."
        if which == "webhook-delete":
            webhook = page.webhook_row(pk).webhook
            services.delete_webhook(actor=actor, webhook=webhook)
            return f"Deleted webhook {webhook.name}."
    except ValidationError as error:
        if form is not None:
            add_error_in_place(form, error)
        else:  # a delete refused: said on its row
            row = page.secret_row(pk) if which.startswith("secret") else page.webhook_row(pk)
            row.error = _message(error)
        return None
    raise Http404("No such form.")


def _test(request: HttpRequest, page: Page, pk: str) -> HttpResponse:
    """Send a sample to a webhook and show its answer (or why nothing was sent) on its row: the
    row's fragment for htmx, else the whole page. Nothing is saved."""
    row = page.webhook_row(pk)
    status = 200
    if row.test_form.is_valid():
        try:
            row.answer = delivery.send_test(
                actor=request.user,
                webhook=row.webhook,
                payload=row.test_form.cleaned_data["payload"],
            )
        except ValidationError as error:
            row.test_error, status = _message(error), 400
    template = "automations/team_integrations.html"
    context = page.context()
    if request.htmx:
        template += "#test-result"
        context["row"] = row
    return render(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def team_integrations(request: HttpRequest, org: str, team: str) -> HttpResponse:
    """The team's webhooks and secrets; its admins (and the organization's) add, change, test
    and delete them. A secret's value is never shown again once saved."""
    found = team_for(request.user, org, team)
    if request.method == "GET":
        return render(request, "automations/team_integrations.html", Page.of(found).context())
    which, pk = request.POST.get("form", ""), request.POST.get("pk", "")
    page = Page.of(found, request.POST, which, pk)
    if which == "test":
        return _test(request, page, pk)
    done = _apply(request, page, which, pk)
    if done is not None:
        messages.success(request, done)
        return redirect(request.path)
    return render(request, "automations/team_integrations.html", page.context(), status=400)
