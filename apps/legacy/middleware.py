"""With ENABLE_REGISTRY_UI off, the Registry's pages lead to the legacy Model Registry."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.deprecation import MiddlewareMixin

from apps.accounts.models import Organization


class RegistryUISwitch(MiddlewareMixin):
    """With ENABLE_REGISTRY_UI off, `/` and every Registry page (search too) lead to the legacy
    Model Registry.

    Read per request, not at start-up, so tests can flip the setting. It acts once the URL is
    resolved and after LoginRequiredMiddleware, so anonymous visitors still go to sign in and
    the switch covers every view of the `registries` namespace, however its URLs change.
    """

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: tuple, view_kwargs: dict
    ) -> HttpResponse | None:
        if settings.ENABLE_REGISTRY_UI:
            return None
        match = request.resolver_match
        if match is None:
            return None
        if match.namespace in ("registries", "search"):  # search finds the Registry's content
            return redirect("legacy:home", org=view_kwargs["org"])
        if match.view_name == "home" and request.user.is_authenticated:
            organization = Organization.objects.for_user(request.user).first()
            if organization is not None:
                return redirect("legacy:home", org=organization.slug)
        return None
