"""The OpenAPI document is gathered from the endpoints: each describes its own methods."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import JsonResponse
from django.test import RequestFactory
from django.urls import path

from apps.lib.api import api_view
from apps.lib.openapi import EVERY_ENDPOINT_ERRORS, Operation
from registry_site.api import OPENAPI, document

DESCRIBED = Operation("Read", "Reads.", response={"type": "object"}, errors=(401,))


def test_every_operation_lists_the_errors_any_endpoint_may_answer():
    for route, item in OPENAPI["paths"].items():
        for method, operation in item.items():
            missing = {str(status) for status in EVERY_ENDPOINT_ERRORS} - set(
                operation["responses"]
            )
            assert not missing, (method, route, missing)


def test_the_shared_schemas_are_components():
    # Components are gathered from the references, so what is listed is what is referred to.
    schemas = {"Error", "Version", "Collection", "LinkedVersion", "Registry", "Run"}
    schemas |= {"Automation", "Execution"}
    assert set(OPENAPI["components"]["schemas"]) == schemas


def test_a_route_to_an_undescribed_view_is_refused():
    def undescribed(request):
        return JsonResponse({})

    with pytest.raises(ImproperlyConfigured, match="plain/"):
        document([path("plain/", undescribed)])


def test_an_endpoint_describes_each_method_it_answers():
    with pytest.raises(TypeError):
        api_view()


def test_only_the_described_methods_are_allowed():
    @api_view(get=DESCRIBED, patch=DESCRIBED)
    def endpoint(request):
        return JsonResponse({})

    response = endpoint(RequestFactory().post("/"))
    assert response.status_code == 405 and response["Allow"] == "GET, PATCH"
    assert json.loads(response.content)["error"]["message"] == "Use GET or PATCH here."
