"""Widget identity verification: an id is trusted only with the HMAC of a live secret."""

import pytest

from helpdesk.identity import (
    IdentityInvalid,
    customer_identified,
    identity_secret_create,
    identity_secret_revoke,
    identity_signature,
    identity_verify,
)
from helpdesk.models import Customer

pytestmark = pytest.mark.django_db


def _signed(secret, external_id: str = "cust-42") -> str:  # type: ignore[no-untyped-def]
    return identity_signature(secret=secret.secret, external_id=external_id)


def test_the_hash_made_with_a_live_secret_proves_the_id() -> None:
    secret = identity_secret_create(name="Shop")

    assert identity_verify(external_id="cust-42", signature=_signed(secret))
    assert identity_verify(external_id="cust-42", signature=_signed(secret).upper())


@pytest.mark.parametrize(
    "external_id, signature",
    [
        ("cust-43", "SIGNED-FOR-42"),  # the hash of another id
        ("cust-42", "0" * 64),
        ("cust-42", ""),
        ("cust-42", "abc"),
        ("", "SIGNED-FOR-42"),
        ("x" * 256, "SIGNED-FOR-42"),
    ],
)
def test_anything_else_proves_nothing(external_id: str, signature: str) -> None:
    secret = identity_secret_create(name="Shop")
    signature = signature.replace("SIGNED-FOR-42", _signed(secret))

    assert not identity_verify(external_id=external_id, signature=signature)


def test_a_revoked_secret_proves_nothing_and_a_rotation_has_no_gap() -> None:
    old = identity_secret_create(name="Shop 2025")
    new = identity_secret_create(name="Shop 2026")
    assert identity_verify(external_id="cust-42", signature=_signed(old))

    identity_secret_revoke(secret_id=old.pk)

    assert not identity_verify(external_id="cust-42", signature=_signed(old))
    assert identity_verify(external_id="cust-42", signature=_signed(new))


def test_no_secret_at_all_proves_nothing() -> None:
    assert not identity_verify(external_id="cust-42", signature="a" * 64)


def test_a_verified_customer_has_one_record_kept_up_to_date() -> None:
    secret = identity_secret_create(name="Shop")
    first = customer_identified(
        external_id="cust-42",
        signature=_signed(secret),
        name="Ana",
        email="ANA@example.com",
        consent_marketing=True,
    )
    again = customer_identified(
        external_id="cust-42",
        signature=_signed(secret),
        name="Ana Lima",
        email="ana.lima@example.com",
        consent_marketing=False,
    )

    assert again.pk == first.pk and Customer.objects.count() == 1
    again.refresh_from_db()
    assert (again.name, again.email) == ("Ana Lima", "ana.lima@example.com")
    # Withdrawn by unsubscribing, never by leaving a box unticked once.
    assert again.consent_marketing is True


def test_a_bad_hash_stores_nothing() -> None:
    identity_secret_create(name="Shop")

    with pytest.raises(IdentityInvalid):
        customer_identified(external_id="cust-42", signature="f" * 64, name="Mallory")

    assert Customer.objects.count() == 0


def test_a_secret_needs_a_name() -> None:
    from helpdesk.errors import InvalidInput

    with pytest.raises(InvalidInput):
        identity_secret_create(name="   ")
