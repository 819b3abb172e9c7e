"""POST /api/v1/public/chats/ `timezone`: the browser's IANA zone, stored on the customer so
the emails show their times; anything but a known name is a 400 and creates nothing."""

import pytest
from rest_framework.test import APIClient

from chat.models import Chat
from tests.factories import TopicFactory

URL = "/api/v1/public/chats/"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _topic() -> None:
    TopicFactory(slug="returns")


def start(**extra: object):  # type: ignore[no-untyped-def]
    body = {"name": "Ana", "topic": "returns", **extra}
    return APIClient().post(URL, body, format="json")


@pytest.mark.parametrize(("given", "stored"), [("Europe/Lisbon", "Europe/Lisbon"), ("", "")])
def test_a_known_zone_is_stored_on_the_customer(given: str, stored: str) -> None:
    response = start(timezone=given)
    assert response.status_code == 201, response.content
    assert Chat.objects.get(pk=response.json()["id"]).customer.timezone == stored


def test_absent_is_none() -> None:
    response = start()
    assert response.status_code == 201
    assert Chat.objects.get().customer.timezone == ""


@pytest.mark.parametrize(
    "zone",
    [
        "Mars/Olympus",
        "europe/lisbon",
        "../../etc/passwd",
        "UTC\n",
        "x" * 65,
        1,
        None,
        ["UTC"],
        "Europe/Lisbon\x00",
    ],
)
def test_anything_else_is_a_400(zone: object) -> None:
    response = start(timezone=zone)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid" and "timezone" in body["errors"]
    assert not Chat.objects.exists()
