"""The console endpoints are documented in the OpenAPI schema served at /api/schema/."""

from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PATHS = {
    "/api/v1/console/canned-responses/": {"get", "post"},
    "/api/v1/console/canned-responses/{response_id}/": {"get", "patch", "delete"},
    "/api/v1/console/canned-responses/{response_id}/render/": {"post"},
    "/api/v1/console/canned-responses/placeholders/": {"get"},
    "/api/v1/console/phrases/": {"get"},
    "/api/v1/console/tone-rules/": {"get"},
    "/api/v1/console/tone-check/": {"post"},
}


def test_every_endpoint_is_in_the_schema_with_its_errors() -> None:
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path, methods in PATHS.items():
        assert set(paths[path]) >= methods, path
        for method in methods:
            codes = set(paths[path][method]["responses"])
            assert {"400", "403"} <= codes, (path, method, codes)
    listing = paths["/api/v1/console/canned-responses/"]["get"]
    assert [p["name"] for p in listing["parameters"]] == ["chat"]
    phrases = paths["/api/v1/console/phrases/"]["get"]
    assert {p["name"] for p in phrases["parameters"]} == {"prefix", "limit"}


def test_the_schema_generates_without_warnings(tmp_path: Any, capsys: Any) -> None:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(out), "--validate")
    captured = capsys.readouterr()
    mine = [
        line
        for line in (captured.err + captured.out).splitlines()
        if "cannedresponses" in line or "console" in line
    ]
    assert mine == []
