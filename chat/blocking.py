"""Difficult customers on the chat side (docs/architecture.md, "Difficult customers").

- `chat_start_for_visitor`: the public API's chat start. A blocked customer starts nothing; a
  customer let in is recorded with the browser and address they came from, so that an agent
  can block them later.
- `chat_block`: an agent ends an abusive customer's chat and blocks them, in one transaction.

The blocks themselves (rules, lookup, lifting) are the helpdesk core's: helpdesk.services and
helpdesk.selectors.
"""

from datetime import timedelta
from typing import Any

from django.db import transaction

from chat import services
from chat.models import Chat
from helpdesk.identity import customer_identified
from helpdesk.models import CustomerBlock, Topic
from helpdesk.services import (
    block_create,
    clean_block_reason,
    customer_ensure_not_blocked,
    customer_identify,
    topic_ensure_open,
)


@transaction.atomic
def chat_start_for_visitor(
    *,
    topic: Topic,
    name: str,
    email: str = "",
    first_message: str = "",
    consent_transcript: bool = False,
    consent_marketing: bool = False,
    browser_key: str = "",
    ip: str = "",
    timezone: str = "",
    external_id: str = "",
    external_id_hash: str = "",
) -> Chat:
    """A visitor of the public API opens a chat.

    Refused, with nothing stored, if they are blocked (CustomerBlocked, checked first: a
    blocked customer must not be invited to leave a message instead) or the topic is closed
    (TopicClosed). `ip` is the client address as the API's throttling sees it; only its keyed
    hash is kept. With `external_id` (a site's logged-in customer) the chat joins that
    customer's one record, if `external_id_hash` proves it (IdentityInvalid otherwise).
    """
    customer_ensure_not_blocked(email=email, browser_key=browser_key, ip=ip)
    topic_ensure_open(topic=topic)
    if external_id:
        customer = customer_identified(
            external_id=external_id,
            signature=external_id_hash,
            name=name,
            email=email,
            consent_transcript=consent_transcript,
            consent_marketing=consent_marketing,
            browser_key=browser_key,
            ip=ip,
            time_zone=timezone,
        )
        return services.chat_start(
            topic=topic, name=name, first_message=first_message, customer=customer
        )
    chat = services.chat_start(
        topic=topic,
        name=name,
        email=email,
        first_message=first_message,
        consent_transcript=consent_transcript,
        consent_marketing=consent_marketing,
    )
    # chat_start creates the customer without knowing the browser or address: record them in
    # the same transaction, so a customer row never exists without them outside it.
    if browser_key or ip or timezone:
        customer_identify(
            customer_id=chat.customer_id, browser_key=browser_key, ip=ip, time_zone=timezone
        )
    return chat


@transaction.atomic
def chat_block(
    *, chat_id: int, by: Any, reason: str, block_ip_for: timedelta | None = None
) -> CustomerBlock:
    """End the chat (close reason `blocked`) and block its customer by email and browser, and
    by address for `block_ip_for` if given. Only the chat's agent or a supervisor.

    One transaction: if the block cannot be made the chat stays open, and the close is
    published only after commit. The customer sees an ordinary end of chat ("Chat ended by
    ..."); nothing about the block reaches their socket.
    """
    # Checked before anything changes, so a bad reason is the agent's error to fix, not a
    # half-done block.
    reason = clean_block_reason(reason)
    chat = services.chat_close(
        chat_id=chat_id,
        by=services.Participant.agent(by),
        reason=Chat.CloseReason.BLOCKED,
    )
    customer = chat.customer
    return block_create(
        email=customer.email,
        browser_key=customer.browser_key,
        ip_hash=customer.ip_hash,
        block_ip_for=block_ip_for,
        reason=reason,
        chat_id=chat.pk,
        by=by,
    )
