"""Leave a message instead of waiting (docs/routing.md, "Business hours and leaving a message").

Routing owns the offer (the `queue` frame's `message_offered`); accepting it turns a queued
chat into a helpdesk Ticket linked to the chat and closes the chat, in one transaction.
"""

from django.db import transaction

from chat import services as chat_services
from chat.errors import ChatClosed, ChatNotFound
from chat.models import Chat
from chat.services import Participant
from helpdesk import services as helpdesk_services
from helpdesk.errors import EmailInvalid
from helpdesk.models import Ticket
from routing.errors import MessageAlreadyLeft, NotQueued


@transaction.atomic
def leave_message(*, chat_id: int, body: str, email: str = "") -> Ticket:
    """The customer of a queued chat leaves a message: a ticket (answered by email, to
    `email` or else the customer's address) and the chat closes as `left_message`.

    The chat row is locked first, as every chat service does, so a router assigning it and a
    double submit are ordered: the loser finds the chat active or closed and nothing changes.
    """
    chat = (
        Chat.objects.select_for_update(of=("self",))
        .select_related("topic", "customer")
        .filter(pk=chat_id)
        .first()
    )
    if chat is None:
        raise ChatNotFound()
    if chat.status != Chat.Status.QUEUED:
        reference = Ticket.objects.filter(chat_id=chat.pk).values_list("reference", flat=True)
        if reference:
            raise MessageAlreadyLeft(
                f"You already left a message for this chat (reference {reference[0]})."
            )
        if chat.status == Chat.Status.CLOSED:
            raise ChatClosed()
        raise NotQueued("An agent has joined this chat: you can tell them here.")
    email = email.strip() or chat.customer.email
    if not email:
        raise EmailInvalid("Please give your email address: we answer messages by email.")
    ticket = helpdesk_services.ticket_create(
        topic=chat.topic, body=body, email=email, customer=chat.customer, chat_id=chat.pk
    )
    chat_services.chat_close(
        chat_id=chat.pk, by=Participant.customer(), reason=Chat.CloseReason.LEFT_MESSAGE
    )
    return ticket
