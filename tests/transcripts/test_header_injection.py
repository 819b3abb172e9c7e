"""Names and addresses typed by customers never inject mail headers."""

from email import message_from_bytes
from email.utils import getaddresses
from typing import Any

import pytest
from django.core import mail

from helpdesk.mail import clean_address, header_text, mailbox

pytestmark = pytest.mark.django_db

EXPECTED_HEADERS = {"Content-Type", "MIME-Version", "Subject", "From", "To", "Date", "Message-ID"}
HOSTILE_NAMES = [
    "Ana\r\nBcc: victim@evil.test",
    "Ana\nSubject: free money",
    "Ana\rX-Injected: 1",
    "Ana\x1b[31m\x07",
    "Ana\u2028Bcc: x@evil.test",
    "Ana\u202eevil",
    '"Ana" <boss@evil.test>, other@evil.test',
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_the_customer_name_cannot_add_headers(name: str, closed_chat: Any) -> None:
    closed_chat(name=name)

    (email,) = mail.outbox
    parsed = message_from_bytes(email.message().as_bytes())
    assert set(parsed.keys()) == EXPECTED_HEADERS
    assert parsed["Subject"] == "Your chat with Acme Help"
    assert [address for _, address in getaddresses(parsed.get_all("To"))] == ["ana@example.com"]
    assert "\n" not in parsed["To"].replace("\n ", "")  # folded, never a new header


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_header_text_is_one_clean_line(name: str) -> None:
    text = header_text(name)
    assert all(char.isprintable() for char in text)
    assert "\n" not in text and "\r" not in text


def test_the_display_name_is_quoted_so_it_is_one_mailbox() -> None:
    assert mailbox(name='Ana, "Boss" <x@evil.test>', email="ana@example.com") == (
        '"Ana, \\"Boss\\" <x@evil.test>" <ana@example.com>'
    )


@pytest.mark.parametrize(
    "email",
    [
        "ana@example.com\r\nBcc: x@evil.test",
        "ana@example.com\n",
        "not-an-address",
        "a" * 250 + "@example.com",
        "ana@example.com, boss@example.com",
        "",
    ],
)
def test_malformed_addresses_are_refused(email: str) -> None:
    assert clean_address(email) is None


def test_a_plain_address_is_kept() -> None:
    assert clean_address(" ana@example.com ") == "ana@example.com"
