"""CORS: only /api/v1/public/ answers cross-origin, only to HELPDESK_WIDGET_ORIGINS, and never
with credentials."""

import pytest

from tests.factories import TopicFactory

WIDGET = "https://shop.example.com"
CHATS = "/api/v1/public/chats/"
TOPICS = "/api/v1/public/topics/"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _widget_origins(settings) -> None:
    settings.HELPDESK_WIDGET_ORIGINS = [WIDGET]


def preflight(api, path: str, origin: str):
    return api.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )


@pytest.mark.parametrize("path", [CHATS, TOPICS])
def test_a_preflight_from_the_widget_origin_is_allowed(api, path: str) -> None:
    response = preflight(api, path, WIDGET)
    assert response.status_code in {200, 204}
    assert response["Access-Control-Allow-Origin"] == WIDGET
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "content-type" in response["Access-Control-Allow-Headers"].lower()
    assert "Origin" in response["Vary"]
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.parametrize(
    "origin", ["https://evil.example.com", "http://shop.example.com", "null", WIDGET + ".evil.net"]
)
def test_a_preflight_from_a_foreign_origin_gets_no_cors_headers(api, origin: str) -> None:
    response = preflight(api, CHATS, origin)
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Methods" not in response


def test_the_actual_cross_origin_post_is_readable_by_the_widget(api) -> None:
    TopicFactory(slug="returns")
    response = api.post(
        CHATS, {"name": "Ana", "topic": "returns"}, format="json", HTTP_ORIGIN=WIDGET
    )
    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == WIDGET
    assert "Access-Control-Allow-Credentials" not in response


def test_errors_are_readable_by_the_widget_too(api) -> None:
    response = api.post(CHATS, {}, format="json", HTTP_ORIGIN=WIDGET)
    assert response.status_code == 400
    assert response["Access-Control-Allow-Origin"] == WIDGET


def test_a_foreign_origin_post_gets_no_cors_headers(api) -> None:
    TopicFactory(slug="returns")
    response = api.post(
        CHATS, {"name": "Ana", "topic": "returns"}, format="json", HTTP_ORIGIN="https://evil.test"
    )
    assert "Access-Control-Allow-Origin" not in response


@pytest.mark.parametrize("path", ["/api/schema/", "/admin/login/", "/console/"])
def test_nothing_outside_the_public_api_answers_cross_origin(api, path: str) -> None:
    response = api.options(path, HTTP_ORIGIN=WIDGET, HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    assert "Access-Control-Allow-Origin" not in response
    response = api.get(path, HTTP_ORIGIN=WIDGET)
    assert "Access-Control-Allow-Origin" not in response


def test_without_configured_widget_origins_nothing_answers_cross_origin(api, settings) -> None:
    settings.HELPDESK_WIDGET_ORIGINS = []
    assert "Access-Control-Allow-Origin" not in preflight(api, CHATS, WIDGET)
