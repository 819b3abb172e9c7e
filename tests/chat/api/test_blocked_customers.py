"""A blocked customer starts nothing: POST /api/v1/public/chats/ and /tickets/ answer a polite
403 `blocked` (no reason given) and store nothing. Customers let in are recorded with the
browser key they sent and the hash of their address; the address is the one the throttling
uses, so a forged X-Forwarded-For neither slips past a block nor frames someone else."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from chat.models import Chat, Message
from helpdesk.addresses import address_hash
from helpdesk.models import Customer, Ticket
from tests.chat.api.conftest import throttle_keys
from tests.factories import (
    BusinessHoursFactory,
    CustomerBlockFactory,
    SupervisorFactory,
    TopicFactory,
)

CHATS = "/api/v1/public/chats/"
TICKETS = "/api/v1/public/tickets/"
KEY = "0b7e4c1d-2f3a-4b5c-8d9e-a1b2c3d4e5f6"
REASON = "Threatened the agent."
# Addresses the tests connect from or forge (documentation ranges, RFC 5737).
ADDRESSES = ("10.0.0.9", "198.51.100.4", "203.0.113.5", "1.2.3.4")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle_for_our_addresses(settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    # Only our keys: the cache may be a Redis shared with other processes, never flushed.
    keys = [key for ip in ADDRESSES for key in throttle_keys(ip)]
    cache.delete_many(keys)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    yield
    cache.delete_many(keys)


@pytest.fixture(autouse=True)
def topic(db):  # type: ignore[no-untyped-def]
    return TopicFactory(slug="returns", name="Returns")


def chat_body(**overrides: object) -> dict[str, object]:
    return {
        "name": "Ana Lima",
        "email": "ana@example.com",
        "topic": "returns",
        "message": "Hello?",
        "browser_key": KEY,
        **overrides,
    }


def ticket_body(**overrides: object) -> dict[str, object]:
    return {
        "topic": "returns",
        "name": "Ana Lima",
        "email": "ana@example.com",
        "body": "Call me back.",
        "browser_key": KEY,
        **overrides,
    }


def block_address(ip: str, *, for_: timedelta = timedelta(hours=1)):  # type: ignore[no-untyped-def]
    return CustomerBlockFactory(
        email="someone-else@example.com",
        browser_key="another-browser",
        ip_hash=address_hash(ip),
        ip_blocked_until=timezone.now() + for_,
        reason=REASON,
    )


def assert_refused(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 403, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"code", "detail"}
    assert body["code"] == "blocked"
    assert body["detail"].startswith("We're sorry, we can't")
    # Nothing tells why, nor which of email, browser or address matched.
    assert REASON not in body["detail"]
    for word in ("email", "browser", "address", "block"):
        assert word not in body["detail"].lower()


def assert_nothing_created() -> None:
    assert not Chat.objects.exists()
    assert not Message.objects.exists()
    assert not Ticket.objects.exists()
    assert not Customer.objects.exists()
    assert mail.outbox == []


# --- Refused -------------------------------------------------------------------------------------

BY_EMAIL = {"email": "ana@example.com", "browser_key": ""}
BY_BROWSER = {"email": "", "browser_key": KEY}
BLOCKS = [BY_EMAIL, BY_BROWSER]


@pytest.mark.parametrize("block", BLOCKS, ids=["email", "browser"])
def test_a_blocked_customer_starts_no_chat(api, block) -> None:  # type: ignore[no-untyped-def]
    CustomerBlockFactory(reason=REASON, **block)
    assert_refused(api.post(CHATS, chat_body(email="ANA@Example.com"), format="json"))
    assert_nothing_created()


@pytest.mark.parametrize("block", BLOCKS, ids=["email", "browser"])
def test_a_blocked_customer_leaves_no_message(api, block) -> None:  # type: ignore[no-untyped-def]
    CustomerBlockFactory(reason=REASON, **block)
    response = api.post(TICKETS, ticket_body(email="ANA@Example.com"), format="json")
    assert_refused(response)
    assert "message" in response.json()["detail"]
    assert_nothing_created()


def test_another_email_from_a_blocked_browser_is_refused_too(api) -> None:  # type: ignore[no-untyped-def]
    CustomerBlockFactory(**BY_BROWSER)
    assert_refused(api.post(CHATS, chat_body(email="brand-new@example.com"), format="json"))
    assert_nothing_created()


@pytest.mark.parametrize("url,body", [(CHATS, chat_body), (TICKETS, ticket_body)])
def test_a_blocked_address_is_refused_while_its_block_lasts(api, url, body) -> None:  # type: ignore[no-untyped-def]
    block_address("127.0.0.1")  # the test client's address
    assert_refused(api.post(url, body(email="new@example.com", browser_key="new"), format="json"))
    assert_nothing_created()


def test_the_refusal_comes_before_the_topic_hours(api, topic) -> None:  # type: ignore[no-untyped-def]
    # Closed all day today: a customer let in would get 409 and an invitation to leave a
    # message, which a blocked customer cannot do.
    BusinessHoursFactory(topic=topic, weekday=(timezone.localdate().weekday() + 3) % 7)
    CustomerBlockFactory(**BY_EMAIL)
    assert_refused(api.post(CHATS, chat_body(), format="json"))
    assert_nothing_created()


# --- Let in --------------------------------------------------------------------------------------


def test_a_lifted_block_or_an_expired_address_block_lets_the_customer_in(api) -> None:  # type: ignore[no-untyped-def]
    lead = SupervisorFactory()
    CustomerBlockFactory(**BY_EMAIL, lifted_at=timezone.now(), lifted_by=lead)
    block_address("127.0.0.1", for_=timedelta(seconds=-1))
    assert api.post(CHATS, chat_body(), format="json").status_code == 201
    assert api.post(TICKETS, ticket_body(), format="json").status_code == 201


@pytest.mark.parametrize("url,body", [(CHATS, chat_body), (TICKETS, ticket_body)])
def test_the_customer_is_recorded_with_their_browser_and_the_hash_of_their_address(
    api, url, body
) -> None:  # type: ignore[no-untyped-def]
    assert api.post(url, body(), format="json").status_code == 201
    customer = Customer.objects.get()
    assert customer.browser_key == KEY
    assert customer.ip_hash == address_hash("127.0.0.1")


@pytest.mark.parametrize("url,body", [(CHATS, chat_body), (TICKETS, ticket_body)])
def test_the_browser_key_is_optional(api, url, body) -> None:  # type: ignore[no-untyped-def]
    payload = body()
    del payload["browser_key"]
    assert api.post(url, payload, format="json").status_code == 201
    assert (
        api.post(url, body(browser_key="", email="b@example.com"), format="json").status_code == 201
    )
    assert list(Customer.objects.values_list("browser_key", flat=True)) == ["", ""]


@pytest.mark.parametrize(
    "value",
    [
        "x" * 65,
        "has space",
        "<script>",
        "dots.are.out",
        "new\nline",
        "trailing\n",
        "é",
        123,
        True,
        None,
        ["a"],
    ],
)
@pytest.mark.parametrize("url,body", [(CHATS, chat_body), (TICKETS, ticket_body)])
def test_a_bad_browser_key_is_a_400_that_stores_nothing(api, url, body, value) -> None:  # type: ignore[no-untyped-def]
    response = api.post(url, body(browser_key=value), format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert set(response.json()["errors"]) == {"browser_key"}
    assert_nothing_created()


def test_a_64_character_browser_key_is_fine(api) -> None:  # type: ignore[no-untyped-def]
    key = "A-z_0" * 12 + "abcd"
    assert len(key) == 64
    assert api.post(CHATS, chat_body(browser_key=key), format="json").status_code == 201
    assert Customer.objects.get().browser_key == key


# --- The client's address: the throttling's, not the client's word ------------------------------


def test_without_proxies_a_forged_forwarded_for_frames_nobody(api) -> None:  # type: ignore[no-untyped-def]
    block_address("10.0.0.9")
    response = api.post(
        CHATS,
        chat_body(),
        format="json",
        REMOTE_ADDR="198.51.100.4",
        HTTP_X_FORWARDED_FOR="10.0.0.9",
    )
    assert response.status_code == 201
    assert Customer.objects.get().ip_hash == address_hash("198.51.100.4")


def test_without_proxies_a_forged_forwarded_for_does_not_slip_past_a_block(api) -> None:  # type: ignore[no-untyped-def]
    block_address("10.0.0.9")
    for url, body in ((CHATS, chat_body), (TICKETS, ticket_body)):
        response = api.post(
            url,
            body(email="new@example.com", browser_key="new"),
            format="json",
            REMOTE_ADDR="10.0.0.9",
            HTTP_X_FORWARDED_FOR="1.2.3.4",
        )
        assert_refused(response)
    assert_nothing_created()


@pytest.fixture
def one_proxy(settings):  # type: ignore[no-untyped-def]
    """Behind one reverse proxy (HELPDESK_NUM_PROXIES=1), which appends the address it saw."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}


def test_behind_a_proxy_the_address_the_proxy_saw_is_the_client(api, one_proxy) -> None:  # type: ignore[no-untyped-def]
    block_address("203.0.113.5")
    # The client put a fake address first; the proxy appended the real one.
    response = api.post(
        CHATS,
        chat_body(email="new@example.com", browser_key="new"),
        format="json",
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.5",
    )
    assert_refused(response)
    assert_nothing_created()


def test_behind_a_proxy_a_forged_first_address_frames_nobody(api, one_proxy) -> None:  # type: ignore[no-untyped-def]
    block_address("10.0.0.9")
    response = api.post(
        CHATS,
        chat_body(),
        format="json",
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="10.0.0.9, 198.51.100.4",
    )
    assert response.status_code == 201
    assert Customer.objects.get().ip_hash == address_hash("198.51.100.4")
