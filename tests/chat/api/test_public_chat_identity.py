"""POST /api/v1/public/chats/ with a site's signed customer id (widget identity verification):
the chat joins that customer's record; without a valid hash no identity is trusted."""

import pytest

from chat.models import Chat
from helpdesk.identity import identity_secret_create, identity_signature
from helpdesk.models import Customer
from tests.factories import TopicFactory

URL = "/api/v1/public/chats/"


@pytest.fixture
def topic(db):  # type: ignore[no-untyped-def]
    return TopicFactory(slug="returns", name="Returns")


@pytest.fixture
def secret(db):  # type: ignore[no-untyped-def]
    return identity_secret_create(name="Shop")


def start(api, **fields):  # type: ignore[no-untyped-def]
    body = {"name": "Ana Lima", "email": "ana@example.com", "topic": "returns", **fields}
    return api.post(URL, body, format="json")


def signed(secret, external_id: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        "external_id": external_id,
        "external_id_hash": identity_signature(secret=secret.secret, external_id=external_id),
    }


def test_chats_of_a_verified_customer_share_their_record(api, topic, secret) -> None:
    first = start(api, **signed(secret, "cust-42"))
    second = start(api, name="Ana L.", **signed(secret, "cust-42"))

    assert (first.status_code, second.status_code) == (201, 201)
    customer = Customer.objects.get()
    assert customer.external_id == "cust-42" and customer.name == "Ana L."
    assert set(Chat.objects.values_list("customer_id", flat=True)) == {customer.pk}


def test_anonymous_chats_still_get_a_customer_each(api, topic, secret) -> None:
    start(api)
    start(api)

    assert Customer.objects.count() == 2
    assert not Customer.objects.exclude(external_id="").exists()


@pytest.mark.parametrize("external_id", ["cust-43", "CUST-42", "cust-42 "])
def test_a_hash_of_another_id_is_refused_and_nothing_is_stored(
    api, topic, secret, external_id
) -> None:
    forged = {**signed(secret, "cust-42"), "external_id": external_id}

    response = start(api, **forged)

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "identity_invalid"
    assert Chat.objects.count() == 0 and Customer.objects.count() == 0


def test_a_hash_from_a_revoked_secret_is_refused(api, topic, secret) -> None:
    from helpdesk.identity import identity_secret_revoke

    proof = signed(secret, "cust-42")
    identity_secret_revoke(secret_id=secret.pk)

    assert start(api, **proof).json()["code"] == "identity_invalid"


@pytest.mark.parametrize(
    "fields, field_in_error",
    [
        ({"external_id": "cust-42"}, "external_id_hash"),
        ({"external_id_hash": "a" * 64}, "external_id"),
        ({"external_id": "cust-42", "external_id_hash": "not-hex" * 9}, "external_id_hash"),
        ({"external_id": "cust-42", "external_id_hash": "a" * 65}, "external_id_hash"),
        ({"external_id": "x" * 256, "external_id_hash": "a" * 64}, "external_id"),
        ({"external_id": ["cust-42"], "external_id_hash": "a" * 64}, "external_id"),
        ({"external_id": "cust-42", "external_id_hash": {"$ne": ""}}, "external_id_hash"),
    ],
)
def test_malformed_identities_are_invalid_fields(
    api, topic, secret, fields, field_in_error
) -> None:
    response = start(api, **fields)

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid" and field_in_error in body["errors"]
    assert Chat.objects.count() == 0


def test_html_in_an_id_is_kept_as_text(api, topic, secret) -> None:
    external_id = '<img src=x onerror="alert(1)">'

    response = start(api, **signed(secret, external_id))

    assert response.status_code == 201
    assert Customer.objects.get().external_id == external_id
