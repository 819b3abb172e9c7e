"""While the database is down the API answers 503 `unavailable` in JSON, never a 500 page."""

import pytest
from django.db import InterfaceError, OperationalError

from helpdesk.api.errors import UNAVAILABLE_RETRY_AFTER_SECONDS


@pytest.mark.parametrize(
    "error", [OperationalError("server closed the connection"), InterfaceError("closed")]
)
def test_a_database_outage_is_a_json_503_with_retry_after(client, monkeypatch, error) -> None:
    def database_down() -> None:
        raise error

    monkeypatch.setattr("chat.api.views.topic_list_active_with_availability", database_down)

    response = client.get("/api/v1/public/topics/")

    assert (response.status_code, response["Content-Type"]) == (503, "application/json")
    assert response.json()["code"] == "unavailable"
    assert "server closed" not in response.json()["detail"]
    assert response["Retry-After"] == str(UNAVAILABLE_RETRY_AFTER_SECONDS)
