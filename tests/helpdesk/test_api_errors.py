"""One error format for the whole API, and JSON (not HTML) error pages under /api/."""

import pytest
from django.test import RequestFactory
from rest_framework import exceptions

from chat.errors import ChatAlreadyAssigned, ChatClosed, ChatNotFound
from helpdesk.api.errors import exception_handler
from helpdesk.errors import DomainError, Forbidden
from helpdesk.views import not_found, server_error


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ChatClosed(), 409, "chat_closed"),
        (ChatAlreadyAssigned(), 409, "already_assigned"),
        (ChatNotFound(), 404, "chat_not_found"),
        (Forbidden("Not yours."), 403, "forbidden"),
        (DomainError(), 400, "error"),
    ],
)
def test_domain_errors_map_to_their_status_and_code(error, status: int, code: str) -> None:
    response = exception_handler(error, {})
    assert response.status_code == status
    assert response.data == {"code": code, "detail": error.detail}


def test_validation_errors_list_fields() -> None:
    response = exception_handler(exceptions.ValidationError({"name": ["Required."]}), {})
    assert response.status_code == 400
    assert response.data == {
        "code": "invalid",
        "detail": "The request has invalid fields.",
        "errors": {"name": ["Required."]},
    }


def test_non_field_validation_errors() -> None:
    response = exception_handler(exceptions.ValidationError(["Nope."]), {})
    assert response.data["errors"] == {"non_field_errors": ["Nope."]}


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (exceptions.ParseError(), 400, "parse_error"),
        (exceptions.UnsupportedMediaType("text/plain"), 415, "unsupported_media_type"),
        (exceptions.MethodNotAllowed("GET"), 405, "method_not_allowed"),
        (exceptions.Throttled(wait=30), 429, "throttled"),
        (exceptions.NotAuthenticated(), 401, "not_authenticated"),
    ],
)
def test_rest_framework_errors_get_the_same_shape(error, status: int, code: str) -> None:
    response = exception_handler(error, {})
    assert response.status_code == status
    assert set(response.data) == {"code", "detail"}
    assert response.data["code"] == code


def test_an_unexpected_exception_is_left_to_the_500_handler() -> None:
    assert exception_handler(RuntimeError("bug"), {}) is None


def test_api_404_and_500_pages_are_json() -> None:
    request = RequestFactory().get("/api/v1/whatever/")
    response = not_found(request, None)
    assert (response.status_code, response["Content-Type"]) == (404, "application/json")
    response = server_error(request)
    assert (response.status_code, response["Content-Type"]) == (500, "application/json")
    assert b"internal_error" in response.content


@pytest.mark.django_db
def test_other_404_pages_stay_html(client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
