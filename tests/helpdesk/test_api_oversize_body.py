"""A request body over Django's upload limit is refused before any view: API clients get it in
the API's error format (413 JSON), pages keep Django's own 400."""

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

HUGE = '{"name": "' + "x" * 5000 + '"}'


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
@pytest.mark.parametrize("url", ["/api/v1/public/chats/", "/api/v1/public/tickets/"])
def test_an_oversize_api_body_is_a_json_413(url: str) -> None:
    response = Client().post(url, HUGE, content_type="application/json")

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "request_too_large"


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_an_oversize_page_form_keeps_djangos_answer() -> None:
    response = Client().post("/accounts/login/", {"username": "x" * 5000, "password": "y"})

    assert response.status_code == 400
    assert not response["Content-Type"].startswith("application/json")
