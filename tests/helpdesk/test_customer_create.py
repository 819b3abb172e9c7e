"""customer_create: who talked to us, with consents that only count with an email address."""

import pytest
from django.core.exceptions import ValidationError

from helpdesk.models import Customer
from helpdesk.services import customer_create

pytestmark = pytest.mark.django_db


def test_a_customer_is_stored_trimmed_and_with_a_lowercase_email() -> None:
    customer = customer_create(name="  Ana Lima ", email=" Ana@Example.COM ")
    customer.refresh_from_db()
    assert (customer.name, customer.email) == ("Ana Lima", "ana@example.com")
    assert str(customer) == "Ana Lima <ana@example.com>"


@pytest.mark.parametrize(("transcript", "marketing"), [(True, False), (False, True), (True, True)])
def test_consents_are_kept_with_an_email(transcript: bool, marketing: bool) -> None:
    customer = customer_create(
        name="Ana",
        email="ana@example.com",
        consent_transcript=transcript,
        consent_marketing=marketing,
    )
    assert (customer.consent_transcript, customer.consent_marketing) == (transcript, marketing)


def test_consents_without_an_email_are_dropped() -> None:
    customer = customer_create(name="Ana", consent_transcript=True, consent_marketing=True)
    assert not customer.consent_transcript and not customer.consent_marketing
    assert str(customer) == "Ana"


@pytest.mark.parametrize(
    ("name", "email"), [("", ""), ("   ", ""), ("x" * 101, ""), ("Ana", "not-an-email")]
)
def test_invalid_customers_are_not_stored(name: str, email: str) -> None:
    with pytest.raises(ValidationError):
        customer_create(name=name, email=email)
    assert Customer.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "first"), [("Ana Lima", "Ana"), ("Ana", "Ana"), ("  Ana   Maria Lima", "Ana")]
)
def test_first_name(name: str, first: str) -> None:
    assert Customer(name=name).first_name == first
