"""The widget demo's signed-in shop renders its customer's signed id on the widget tag, as a
real site's server would; signed out (or without a secret) the tag carries nothing."""

import pytest
from django.test import Client

from helpdesk.identity import (
    DEMO_IDENTITY_SECRET,
    DEMO_SHOP_CUSTOMER,
    identity_secret_create,
    identity_verify,
)

pytestmark = pytest.mark.django_db


def _hash_on_tag(html: str) -> str | None:
    marker = 'data-customer-hash="'
    if marker not in html:
        return None
    return html.split(marker, 1)[1].split('"', 1)[0]


def test_the_signed_in_shop_signs_its_customer() -> None:
    identity_secret_create(name=DEMO_IDENTITY_SECRET)

    html = Client().get("/widget-demo/?signed_in=1").content.decode()

    signature = _hash_on_tag(html)
    assert f'data-customer-id="{DEMO_SHOP_CUSTOMER["id"]}"' in html
    assert signature and identity_verify(external_id=DEMO_SHOP_CUSTOMER["id"], signature=signature)


def test_signed_out_or_without_a_secret_the_tag_carries_nothing() -> None:
    assert _hash_on_tag(Client().get("/widget-demo/?signed_in=1").content.decode()) is None
    identity_secret_create(name=DEMO_IDENTITY_SECRET)
    assert _hash_on_tag(Client().get("/widget-demo/").content.decode()) is None
