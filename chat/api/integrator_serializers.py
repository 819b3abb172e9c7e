"""Input and output shapes of the integrators' chat API (/api/v1/chats/, docs/api.md).

Message bodies are checked by the chat core's own rules (`chat.services.clean_message_body`),
not here, so the API answers with the codes the console and the widget get (`body_empty`,
`body_too_long`, `body_invalid`); these serializers only make sure each field has its JSON
type.
"""

from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers

from chat.api.serializers import _TimezoneField
from chat.models import CLIENT_MSG_ID_MAX_LENGTH, Chat, Message
from helpdesk.api.converters import MAX_ID
from helpdesk.api.integrator_common import customer_ref, topic_ref, user_ref
from helpdesk.api.integrator_serializers import (
    ApiCustomerRefOutput,
    ApiId,
    ApiTopicRefOutput,
    ApiUserRefOutput,
    DateRangeQuery,
    StrictBoolean,
    StrictText,
)

MESSAGES_PAGE_SIZE = 50
MESSAGES_MAX_PAGE_SIZE = 200
TOPIC_SLUG_MAX_LENGTH = 80

# The websocket protocol's rule for client_msg_id (docs/protocol.md); \A...\Z because `$` would
# also accept a trailing newline.
_client_msg_id = RegexValidator(
    rf"\A[A-Za-z0-9_.:\-]{{1,{CLIENT_MSG_ID_MAX_LENGTH}}}\Z",
    message=f"1-{CLIENT_MSG_ID_MAX_LENGTH} characters of letters, digits, '-', '_', '.', ':'.",
    code="invalid",
)
# A topic named by its slug, here and in routing's integrator inputs.
TOPIC_SLUG = RegexValidator(r"\A[-a-zA-Z0-9_]+\Z", message="A topic's slug.", code="invalid")


class RawText(serializers.CharField):
    """Any JSON string, kept exactly as sent, for text whose rules belong to a service: a
    message's (not blank, at most 4000 characters, no NUL, valid Unicode: the chat core's
    clean_message_body) or a transfer note's. The API then answers with the codes the console
    gets for the same text."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_blank=True, trim_whitespace=False, **kwargs)
        # DRF's NUL and surrogate validators would answer `invalid`; the services' own checks
        # answer `body_invalid`, as on the websocket.
        self.validators = []

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return data


# --- Chats ----------------------------------------------------------------------------------------


class ChatListQuery(DateRangeQuery):
    status = serializers.ChoiceField(choices=Chat.Status.choices, required=False)
    topic = serializers.CharField(
        required=False,
        max_length=TOPIC_SLUG_MAX_LENGTH,
        validators=[TOPIC_SLUG],
        help_text="A topic's slug.",
    )
    agent = ApiId(required=False, help_text="The id of the agent who has (or had) the chat.")
    customer_email = serializers.EmailField(
        required=False, max_length=254, help_text="The customer's email (case-insensitive)."
    )


class ApiChatTransferOutput(serializers.Serializer):
    note = serializers.CharField(help_text="Internal (staff only): plain text, never HTML.")
    by = ApiUserRefOutput(allow_null=True)
    at = serializers.DateTimeField()


class ApiChatOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Chat.Status.choices)
    topic = ApiTopicRefOutput()
    customer = ApiCustomerRefOutput()
    agent = ApiUserRefOutput(allow_null=True, help_text="Who has the chat; null while queued.")
    last_seq = serializers.IntegerField(
        help_text="The sequence number of the chat's latest message (messages: after_seq)."
    )
    created_at = serializers.DateTimeField()
    queued_at = serializers.DateTimeField(
        allow_null=True, help_text="When it last entered the queue."
    )
    assigned_at = serializers.DateTimeField(allow_null=True)
    first_agent_response_at = serializers.DateTimeField(allow_null=True)
    last_customer_message_at = serializers.DateTimeField(allow_null=True)
    awaiting_reply_since = serializers.DateTimeField(
        allow_null=True, help_text="Since when the customer waits for an answer; null: answered."
    )
    on_hold_since = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    closed_by = serializers.ChoiceField(choices=Chat.ClosedBy.choices, allow_null=True)
    close_reason = serializers.CharField(
        allow_null=True,
        help_text="Null for an ordinary close; abandoned, left_message, blocked, inactive, "
        "... (accept values added later).",
    )
    transfer_count = serializers.IntegerField()
    transfer = ApiChatTransferOutput(
        allow_null=True, help_text="The latest transfer and its internal note; null if none."
    )


def chat_data(chat: Chat) -> dict[str, Any]:
    """A chat as the API shows it; the caller loaded topic, customer, agent, transferred_by."""
    return {
        "id": chat.pk,
        "status": chat.status,
        "topic": topic_ref(chat.topic),
        "customer": customer_ref(chat.customer),
        "agent": user_ref(chat.agent),
        "last_seq": chat.last_seq,
        "created_at": chat.created_at,
        "queued_at": chat.queued_at,
        "assigned_at": chat.assigned_at,
        "first_agent_response_at": chat.first_agent_response_at,
        "last_customer_message_at": chat.last_customer_message_at,
        "awaiting_reply_since": chat.awaiting_reply_since,
        "on_hold_since": chat.on_hold_since,
        "closed_at": chat.closed_at,
        "closed_by": chat.closed_by or None,
        "close_reason": chat.close_reason or None,
        "transfer_count": chat.transfer_count,
        "transfer": (
            {
                "note": chat.transfer_note,
                "by": user_ref(chat.transferred_by),
                "at": chat.transferred_at,
            }
            if chat.transferred_at
            else None
        ),
    }


class ApiChatCreateInput(serializers.Serializer):
    topic = StrictText(
        max_length=TOPIC_SLUG_MAX_LENGTH,
        validators=[TOPIC_SLUG],
        help_text="An active topic's slug.",
    )
    name = StrictText(max_length=100, help_text="The customer's name (plain text).")
    email = serializers.EmailField(
        required=False,
        allow_blank=True,
        max_length=254,
        default="",
        help_text="The customer's email; blocks by email apply.",
    )
    message = RawText(
        required=False,
        default="",
        help_text="The customer's first question (the message rules), or blank for none.",
    )
    consent_transcript = StrictBoolean(required=False, default=False)
    consent_marketing = StrictBoolean(required=False, default=False)
    timezone = _TimezoneField()


class ApiCustomerAccessOutput(serializers.Serializer):
    token = serializers.CharField(
        help_text="The customer's credential for this one chat: hand it to the customer only. "
        "Returned once, here."
    )
    ws_url = serializers.CharField(help_text="The customer's websocket (docs/protocol.md).")
    url = serializers.CharField(
        help_text="The customer page opening this chat (/chat/#token=…): a link to send them."
    )


class ApiChatCreatedOutput(ApiChatOutput):
    customer_access = ApiCustomerAccessOutput()


# --- Messages -------------------------------------------------------------------------------------


class MessageListQuery(serializers.Serializer):
    after_seq = serializers.IntegerField(
        required=False,
        default=0,
        min_value=0,
        max_value=MAX_ID,
        help_text="Only messages with a higher sequence number (0: from the start).",
    )
    limit = serializers.IntegerField(
        required=False,
        default=MESSAGES_PAGE_SIZE,
        min_value=1,
        max_value=MESSAGES_MAX_PAGE_SIZE,
    )


class ApiMessageAuthorOutput(serializers.Serializer):
    id = serializers.IntegerField(
        allow_null=True, help_text="The staff member's user id; null for the customer."
    )
    name = serializers.CharField()


class ApiMessageOutput(serializers.Serializer):
    seq = serializers.IntegerField(help_text="1, 2, 3… per chat, without gaps.")
    kind = serializers.ChoiceField(choices=Message.Kind.choices)
    body = serializers.CharField(help_text="Plain text: show it as text, never as HTML.")
    author = ApiMessageAuthorOutput(
        allow_null=True,
        help_text="Who wrote it: the customer (id null) or the staff member; null for system "
        "messages and for the answer bot's automated answers (kind `bot`).",
    )
    created_at = serializers.DateTimeField()
    client_msg_id = serializers.CharField(allow_null=True)


def message_data(message: Message, *, customer_name: str) -> dict[str, Any]:
    """The caller loaded the message's author."""
    if message.kind == Message.Kind.CUSTOMER:
        author: dict[str, Any] | None = {"id": None, "name": customer_name}
    elif message.kind == Message.Kind.AGENT and message.author is not None:
        author = user_ref(message.author)
    else:
        author = None
    return {
        "seq": message.seq,
        "kind": message.kind,
        "body": message.body,
        "author": author,
        "created_at": message.created_at,
        "client_msg_id": message.client_msg_id or None,
    }


class ApiMessagePageOutput(serializers.Serializer):
    results = ApiMessageOutput(many=True, help_text="Oldest first.")
    next = serializers.CharField(
        allow_null=True,
        help_text="The next page (after_seq set to this page's last message), or null when "
        "there was nothing more yet: poll again later with the last seq you have.",
    )
    last_seq = serializers.IntegerField(help_text="The chat's latest sequence number now.")


class ApiMessagePostInput(serializers.Serializer):
    body = RawText(help_text="1-4000 characters, not only blanks; plain text.")
    client_msg_id = StrictText(
        required=False,
        default="",
        max_length=CLIENT_MSG_ID_MAX_LENGTH,
        # Exactly as sent, as on the websocket: "id\n" is no id, not "id".
        trim_whitespace=False,
        validators=[_client_msg_id],
        help_text="Your id for this message (a UUID is ideal): sending it again with the same "
        "body returns the stored message instead of a second one.",
    )
