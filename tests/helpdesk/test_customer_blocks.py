"""Blocked customers in the helpdesk core: making a block (its rules), lifting it (supervisors
only), and which blocks keep a customer out (active_block_for), in one query."""

from datetime import timedelta

import pytest
from django.utils import timezone

from helpdesk.addresses import address_hash, normalize_address
from helpdesk.errors import (
    BlockNamesNoOne,
    BlockReasonInvalid,
    BlockReasonRequired,
    BlockReasonTooLong,
    CustomerBlocked,
    Forbidden,
    InvalidInput,
    NotFound,
)
from helpdesk.models import Customer, CustomerBlock
from helpdesk.selectors import active_block_for
from helpdesk.services import (
    block_create,
    block_lift,
    customer_create,
    customer_ensure_not_blocked,
)
from tests.factories import (
    AgentFactory,
    CustomerBlockFactory,
    SupervisorFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

REASON = "Insulted the agent and kept spamming links."
KEY = "3f1c9a2e-5b7d-4c1a-9e8f-0a1b2c3d4e5f"


def make_block(**overrides):  # type: ignore[no-untyped-def]
    fields = {
        "email": "Troll@Example.com",
        "browser_key": KEY,
        "ip_hash": "",
        "block_ip_for": None,
        "reason": REASON,
        "chat_id": None,
        "by": AgentFactory(),
        **overrides,
    }
    return block_create(**fields)


# --- block_create ------------------------------------------------------------------------------


def test_a_block_names_the_email_and_browser_and_who_made_it() -> None:
    agent = AgentFactory()
    block = make_block(by=agent, reason=f"  {REASON}\n")
    block.refresh_from_db()
    assert (block.email, block.browser_key) == ("troll@example.com", KEY)
    assert block.reason == REASON  # surrounding blanks dropped
    assert block.created_by == agent and block.created_at is not None
    assert (block.ip_hash, block.ip_blocked_until, block.lifted_at) == ("", None, None)


def test_the_address_is_kept_only_when_it_is_blocked_and_only_for_the_time_asked() -> None:
    ip_hash = address_hash("203.0.113.7")
    without = make_block(ip_hash=ip_hash)
    assert (without.ip_hash, without.ip_blocked_until) == ("", None)

    before = timezone.now()
    block = make_block(ip_hash=ip_hash, block_ip_for=timedelta(hours=24))
    assert block.ip_hash == ip_hash
    assert (
        before + timedelta(hours=24)
        <= block.ip_blocked_until
        <= timezone.now() + timedelta(hours=24)
    )


@pytest.mark.parametrize(
    ("reason", "error"),
    [
        ("", BlockReasonRequired),
        (" \n\t ", BlockReasonRequired),
        ("x" * 501, BlockReasonTooLong),
        ("nul\x00inside", BlockReasonInvalid),
        ("lone \ud800 surrogate", BlockReasonInvalid),
    ],
    ids=["empty", "blank", "501", "nul", "surrogate"],
)
def test_a_reason_is_required_plain_text_and_at_most_500_characters(reason, error) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error):
        make_block(reason=reason)
    assert not CustomerBlock.objects.exists()


def test_a_reason_of_exactly_500_characters_is_fine_and_stored_as_typed() -> None:
    reason = "<b>" + "x" * 497
    assert make_block(reason=reason).reason == reason


@pytest.mark.parametrize(
    "duration",
    [timedelta(0), timedelta(minutes=-5), timedelta(days=7, seconds=1)],
    ids=["zero", "negative", "over-7-days"],
)
def test_an_address_is_blocked_for_a_positive_time_of_at_most_7_days(duration) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput):
        make_block(ip_hash=address_hash("203.0.113.7"), block_ip_for=duration)
    assert not CustomerBlock.objects.exists()
    assert make_block(ip_hash=address_hash("203.0.113.7"), block_ip_for=timedelta(days=7))


def test_a_customer_with_nothing_to_name_them_needs_the_address_blocked() -> None:
    with pytest.raises(BlockNamesNoOne):
        make_block(email="", browser_key="", ip_hash=address_hash("203.0.113.7"))
    with pytest.raises(BlockNamesNoOne):
        # No address known for them: nothing at all to block.
        make_block(email="", browser_key="", block_ip_for=timedelta(hours=1))
    assert not CustomerBlock.objects.exists()
    block = make_block(
        email="", browser_key="", ip_hash=address_hash("203.0.113.7"), block_ip_for=timedelta(1)
    )
    assert block.ip_hash


@pytest.mark.parametrize("who", ["customer-like user", "inactive agent"])
def test_only_agents_block(who) -> None:  # type: ignore[no-untyped-def]
    user = UserFactory() if who == "customer-like user" else AgentFactory(is_active=False)
    with pytest.raises(Forbidden):
        make_block(by=user)
    assert not CustomerBlock.objects.exists()


# --- block_lift --------------------------------------------------------------------------------


def test_a_supervisor_lifts_a_block_and_a_second_lift_changes_nothing() -> None:
    block = CustomerBlockFactory()
    lead, other = SupervisorFactory(), SupervisorFactory()
    lifted = block_lift(block_id=block.pk, by=lead)
    assert lifted.lifted_by == lead and lifted.lifted_at is not None
    first_lift = lifted.lifted_at

    again = block_lift(block_id=block.pk, by=other)
    again.refresh_from_db()
    assert (again.lifted_by, again.lifted_at) == (lead, first_lift)


def test_agents_do_not_lift_blocks_and_an_unknown_block_is_not_found() -> None:
    block = CustomerBlockFactory()
    with pytest.raises(Forbidden):
        block_lift(block_id=block.pk, by=AgentFactory())
    block.refresh_from_db()
    assert block.lifted_at is None and block.lifted_by is None
    with pytest.raises(NotFound):
        block_lift(block_id=block.pk + 1000, by=SupervisorFactory())


# --- active_block_for ----------------------------------------------------------------------------

IP = "203.0.113.7"


def _lookup(**who: str) -> dict[str, str]:
    return {"email": "", "browser_key": "", "ip": "", **who}


@pytest.mark.parametrize(
    ("block", "lookup", "blocked"),
    [
        # By email, whatever its case, with or without blanks around it.
        ({"email": "troll@example.com"}, _lookup(email="troll@example.com"), True),
        ({"email": "troll@example.com"}, _lookup(email="TROLL@Example.COM"), True),
        ({"email": "troll@example.com"}, _lookup(email=" troll@example.com "), True),
        ({"email": "troll@example.com"}, _lookup(email="troll2@example.com"), False),
        # By browser: exact.
        ({"browser_key": KEY}, _lookup(browser_key=KEY), True),
        ({"browser_key": KEY}, _lookup(browser_key=KEY.upper()), False),
        ({"browser_key": KEY}, _lookup(browser_key=KEY[:-1]), False),
        # Any one of them is enough.
        ({"email": "troll@example.com"}, _lookup(email="troll@example.com", browser_key="b"), True),
        ({"browser_key": KEY}, _lookup(email="new@example.com", browser_key=KEY, ip=IP), True),
        # Blank values name nobody: a block without an email does not catch customers
        # without one.
        ({"email": "", "browser_key": KEY}, _lookup(email="", browser_key="other"), False),
        ({"email": "troll@example.com", "browser_key": ""}, _lookup(browser_key=""), False),
        # By address, only while its time lasts.
        ({"ip": IP, "for": timedelta(hours=1)}, _lookup(ip=IP), True),
        ({"ip": IP, "for": timedelta(hours=1)}, _lookup(ip="203.0.113.8"), False),
        ({"ip": IP, "for": timedelta(hours=-1)}, _lookup(ip=IP), False),
        ({"ip": IP, "for": timedelta(0)}, _lookup(ip=IP), False),
        # An expired address block still blocks the email and browser.
        (
            {"ip": IP, "for": timedelta(hours=-1), "browser_key": KEY},
            _lookup(browser_key=KEY),
            True,
        ),
        # Lifted: nothing counts any more.
        ({"email": "troll@example.com", "lifted": True}, _lookup(email="troll@example.com"), False),
        ({"browser_key": KEY, "lifted": True}, _lookup(browser_key=KEY), False),
        ({"ip": IP, "for": timedelta(hours=1), "lifted": True}, _lookup(ip=IP), False),
    ],
)
def test_which_blocks_keep_a_customer_out(block, lookup, blocked) -> None:  # type: ignore[no-untyped-def]
    fields = {"email": "", "browser_key": ""}
    fields.update({k: v for k, v in block.items() if k in ("email", "browser_key")})
    if "ip" in block:
        fields["ip_hash"] = address_hash(block["ip"])
        fields["ip_blocked_until"] = timezone.now() + block["for"]
    if block.get("lifted"):
        fields.update(lifted_at=timezone.now(), lifted_by=SupervisorFactory())
    made = CustomerBlockFactory(**fields)
    found = active_block_for(**lookup)
    assert (found == made) if blocked else (found is None)


def test_one_query_whatever_matches_and_none_without_anything_to_look_for(
    django_assert_num_queries,
) -> None:
    CustomerBlockFactory(email="troll@example.com")
    CustomerBlockFactory(browser_key=KEY, ip_hash=address_hash(IP))
    with django_assert_num_queries(1):
        assert active_block_for(email="troll@example.com", browser_key=KEY, ip=IP)
    with django_assert_num_queries(0):
        assert active_block_for(email="", browser_key="", ip="") is None


def test_the_newest_of_several_matching_blocks_is_the_answer() -> None:
    CustomerBlockFactory(email="troll@example.com")
    newer = CustomerBlockFactory(browser_key=KEY)
    CustomerBlock.objects.filter(pk=newer.pk).update(
        created_at=timezone.now() + timedelta(seconds=1)
    )
    assert active_block_for(email="troll@example.com", browser_key=KEY, ip="") == newer


def test_customer_ensure_not_blocked_refuses_politely_without_a_reason() -> None:
    CustomerBlockFactory(browser_key=KEY, reason="Called the agent an idiot.")
    with pytest.raises(CustomerBlocked) as refused:
        customer_ensure_not_blocked(email="", browser_key=KEY, ip="")
    assert refused.value.code == "blocked" and refused.value.status == 403
    assert "sorry" in refused.value.detail and "idiot" not in refused.value.detail
    customer_ensure_not_blocked(email="someone@example.com", browser_key="other", ip=IP)


# --- Addresses ----------------------------------------------------------------------------------


def test_an_address_is_kept_as_a_keyed_hash(settings) -> None:  # type: ignore[no-untyped-def]
    digest = address_hash(IP)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert IP not in digest and digest != address_hash("203.0.113.8")
    assert address_hash(f" {IP} ") == digest
    assert address_hash("") == "" and address_hash("  ") == ""
    settings.SECRET_KEY = "another-secret-key-for-this-test-0123456789-abcdefghijklmnop"
    assert address_hash(IP) != digest


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        # An IPv6 customer picks any address of their /64 at will: the /64 names them.
        ("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:fffe", True),
        ("2001:db8:1:2::1", "2001:db8:1:3::1", False),
        ("2001:DB8:1:2:0:0:0:1", "2001:db8:1:2::1", True),
        # An IPv4 address seen through an IPv6 socket is the same client.
        ("::ffff:203.0.113.7", "203.0.113.7", True),
        ("203.0.113.7", "203.0.113.70", False),
    ],
)
def test_addresses_that_name_the_same_client_hash_alike(one, other, same) -> None:  # type: ignore[no-untyped-def]
    assert (address_hash(one) == address_hash(other)) is same


def test_something_that_is_not_an_address_is_hashed_as_given() -> None:
    assert normalize_address(" unknown ") == "unknown"
    assert address_hash("unknown") != address_hash("unknown2")


# --- The customer's browser and address -----------------------------------------------------------


def test_customer_create_keeps_the_browser_and_only_the_hash_of_the_address() -> None:
    customer = customer_create(name="Ana", email="ana@example.com", browser_key=KEY, ip=IP)
    customer.refresh_from_db()
    assert (customer.browser_key, customer.ip_hash) == (KEY, address_hash(IP))
    assert not Customer.objects.filter(ip_hash__contains="203.0").exists()


def test_without_them_a_customer_has_neither() -> None:
    customer = customer_create(name="Ana")
    assert (customer.browser_key, customer.ip_hash) == ("", "")
