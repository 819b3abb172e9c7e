"""The customer's token: the only key to one chat. Anything but the real thing is refused."""

import pytest
from django.core import signing

from chat.models import Chat
from chat.selectors import chat_get_by_customer_token
from chat.tokens import (
    MAX_TOKEN_LENGTH,
    TokenClaim,
    customer_key_matches,
    customer_token_make,
    customer_token_read,
)
from tests.factories import ChatFactory
from tests.helpers import token_for


def _flip(char: str) -> str:
    return "B" if char != "B" else "C"


def test_a_token_round_trips_its_claim() -> None:
    token = customer_token_make(chat_id=42, customer_key="abc_DEF-123")
    assert customer_token_read(token) == TokenClaim(42, "abc_DEF-123")
    assert len(token) <= MAX_TOKEN_LENGTH


def test_tokens_of_two_chats_differ_and_do_not_reveal_the_signing_key(settings) -> None:
    one = customer_token_make(chat_id=1, customer_key="k1")
    two = customer_token_make(chat_id=2, customer_key="k2")
    assert one != two
    assert settings.SECRET_KEY not in one


@pytest.mark.parametrize("position", [0, -1, -10])
def test_a_tampered_signature_is_refused(position: int) -> None:
    token = customer_token_make(chat_id=7, customer_key="secretkey")
    value, sig = token.rsplit(":", 1)
    sig = list(sig)
    sig[position] = _flip(sig[position])
    assert customer_token_read(f"{value}:{''.join(sig)}") is None


def test_a_tampered_key_is_refused() -> None:
    token = customer_token_make(chat_id=7, customer_key="secretkey")
    assert customer_token_read(token.replace("secretkey", "secretkez")) is None


def test_another_chats_id_swapped_in_is_refused() -> None:
    token = customer_token_make(chat_id=7, customer_key="secretkey")
    assert customer_token_read("8" + token[1:]) is None
    assert customer_token_read("17" + token[1:]) is None


def test_a_token_signed_with_another_secret_is_refused() -> None:
    forged = signing.Signer(key="not-our-secret-key", salt="chat.customer-token").sign("7.key")
    assert customer_token_read(forged) is None


def test_a_value_signed_for_another_purpose_is_refused() -> None:
    # Same secret, other salt: e.g. a signed cookie value replayed as a chat token.
    other = signing.Signer(salt="django.core.signing").sign("7.key")
    assert customer_token_read(other) is None
    assert customer_token_read(signing.dumps("7.key")) is None


def test_an_unsigned_claim_is_refused() -> None:
    assert customer_token_read("7.secretkey") is None


def test_an_oversize_token_is_refused_even_when_authentic() -> None:
    token = customer_token_make(chat_id=7, customer_key="k" * MAX_TOKEN_LENGTH)
    assert signing.Signer(salt="chat.customer-token").unsign(token)  # authentic...
    assert customer_token_read(token) is None  # ...but too long to be one of ours


@pytest.mark.parametrize(
    "junk",
    [
        "",
        ":",
        "7",
        "7.",
        "7.key:",
        ":signature",
        "x" * 80,
        "7.key:" + "A" * 43,
        "\x00",
        "é.key:sig",
        " " + customer_token_make(chat_id=7, customer_key="k"),
        customer_token_make(chat_id=7, customer_key="k") + "\n",
    ],
)
def test_junk_strings_are_refused(junk: str) -> None:
    assert customer_token_read(junk) is None


@pytest.mark.parametrize("junk", [None, 7, 7.0, b"7.key:sig", ["7.key"], {"chat": 7}])
def test_non_strings_are_refused(junk: object) -> None:
    assert customer_token_read(junk) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("chat_id", "key"), [("abc", "key"), ("-7", "key"), ("7", ""), ("", "key"), ("7 ", "key")]
)
def test_an_authentic_but_malformed_claim_is_refused(chat_id: str, key: str) -> None:
    token = customer_token_make(chat_id=chat_id, customer_key=key)  # type: ignore[arg-type]
    assert customer_token_read(token) is None


def test_the_key_comparison_is_exact() -> None:
    claim = TokenClaim(1, "abc")
    assert customer_key_matches(claim=claim, customer_key="abc")
    assert not customer_key_matches(claim=claim, customer_key="abcd")
    assert not customer_key_matches(claim=claim, customer_key="ABC")
    assert not customer_key_matches(claim=claim, customer_key="")


# --- Looking the chat up by token ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_valid_token_finds_its_chat_and_only_it() -> None:
    chat, other = ChatFactory(), ChatFactory()
    found = chat_get_by_customer_token(token=token_for(chat))
    assert found is not None and found.pk == chat.pk
    assert chat_get_by_customer_token(token=token_for(other)).pk == other.pk


@pytest.mark.django_db
def test_each_chat_has_its_own_random_key() -> None:
    keys = {ChatFactory().customer_key for _ in range(5)}
    assert len(keys) == 5
    assert all(len(key) >= 32 for key in keys)


@pytest.mark.django_db
def test_rotating_the_customer_key_revokes_every_token() -> None:
    chat = ChatFactory()
    old = token_for(chat)
    Chat.objects.filter(pk=chat.pk).update(customer_key="rotated-key-0123456789")
    chat.refresh_from_db()
    assert chat_get_by_customer_token(token=old) is None
    assert chat_get_by_customer_token(token=token_for(chat)).pk == chat.pk


@pytest.mark.django_db
def test_a_token_pairing_one_chats_id_with_anothers_key_is_refused() -> None:
    chat, other = ChatFactory(), ChatFactory()
    mixed = customer_token_make(chat_id=chat.pk, customer_key=other.customer_key)
    assert chat_get_by_customer_token(token=mixed) is None


@pytest.mark.django_db
def test_an_authentic_token_for_a_chat_that_does_not_exist_is_refused() -> None:
    chat = ChatFactory()
    token = customer_token_make(chat_id=chat.pk + 1000, customer_key=chat.customer_key)
    assert chat_get_by_customer_token(token=token) is None


@pytest.mark.django_db
def test_a_token_made_under_another_secret_key_stops_working(settings) -> None:
    chat = ChatFactory()
    token = token_for(chat)
    settings.SECRET_KEY = "a-completely-different-secret-key-for-this-test-0123456789"
    assert chat_get_by_customer_token(token=token) is None
