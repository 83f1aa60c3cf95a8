from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from apps.accounts.forms import SignInForm
from apps.accounts.models import ApiToken, Organization


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Send a signed-in user to their organization's registry."""
    organization = Organization.objects.for_user(request.user).first()
    if organization is None:
        return render(request, "accounts/no_organization.html")
    return redirect("registries:landing", org=organization.slug)


class SignInView(LoginView):
    """Django's sign-in page; a throttled client is answered 429 with Retry-After."""

    authentication_form = SignInForm

    def form_invalid(self, form: SignInForm) -> HttpResponse:
        response = super().form_invalid(form)
        if form.retry_after is not None:
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What will use it, e.g. 'CI on main'.")
    expires_in_days = forms.IntegerField(
        label="Expires in (days)",
        required=False,
        min_value=1,
        max_value=3650,
        help_text="Leave empty for a token that lasts until revoked.",
    )


def _account_context(request: HttpRequest, form: TokenForm) -> dict:
    return {
        "form": form,
        "tokens": request.user.api_tokens.all(),
        "organization": Organization.objects.for_user(request.user).first(),
    }


@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    """The user's API tokens: create one (shown once, stored hashed) or revoke one."""
    if request.method == "POST" and (revoke := request.POST.get("revoke")):
        token = get_object_or_404(request.user.api_tokens, pk=revoke)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            messages.success(request, f"Revoked {token.name}.")
        return redirect("account")
    form = TokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires_in_days"]
        expires_at = timezone.now() + timedelta(days=days) if days else None
        row, token = ApiToken.issue(request.user, form.cleaned_data["name"], expires_at)
        context = _account_context(request, TokenForm())
        context.update({"new_token": token, "new_token_row": row})
        return render(request, "accounts/account.html", context)
    status = 400 if form.errors else 200
    return render(request, "accounts/account.html", _account_context(request, form), status=status)
