"""Input holding a lone surrogate ("\\ud800" is valid JSON) gets a clear 4xx JSON answer, even
when the answer quotes it back, never a 500."""

import pytest
from rest_framework.test import APIClient

from helpdesk.api.renderers import SafeJSONRenderer

pytestmark = pytest.mark.django_db


def test_an_answer_quoting_a_lone_surrogate_is_still_json() -> None:
    body = SafeJSONRenderer().render({"errors": {"topic": ["No such topic: \ud800."]}})

    assert body == b'{"errors":{"topic":["No such topic: \\ud800."]}}'


def test_ordinary_answers_stay_utf8() -> None:
    assert SafeJSONRenderer().render({"name": "Chloé"}) == '{"name":"Chloé"}'.encode()


def test_the_public_api_answers_a_lone_surrogate_with_a_4xx() -> None:
    raw = '{"name": "Ana \\ud800", "topic": "\\ud800", "message": "\\udfff"}'

    response = APIClient().post("/api/v1/public/chats/", raw, content_type="application/json")

    assert 400 <= response.status_code < 500
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"]
