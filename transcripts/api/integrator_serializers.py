"""Shapes of the integrators' API for ratings, transcripts and customers (docs/api.md)."""

import re
from typing import Any

from rest_framework import serializers

from chat.models import Chat
from helpdesk.api.integrator_serializers import (
    ApiCustomerRefOutput,
    ApiId,
    ApiTopicRefOutput,
    ApiUserRefOutput,
    DateRangeQuery,
)
from helpdesk.models import Ticket

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# --- Ratings --------------------------------------------------------------------------------------


class _Score(serializers.IntegerField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=5, required=False, **kwargs)


class RatingListQuery(DateRangeQuery):
    score = _Score(help_text="Exactly this score (1 to 5).")
    min_score = _Score(help_text="At least this score.")
    max_score = _Score(help_text="At most this score (e.g. 2 for the unhappy customers).")
    agent = ApiId(required=False, help_text="The chat's agent (a user id).")
    topic = ApiId(required=False, help_text="The chat's topic (an id).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        low, high = attrs.get("min_score"), attrs.get("max_score")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError(
                {"max_score": ["Must be at least min_score."]}, code="invalid"
            )
        return attrs


class ApiRatingOutput(serializers.Serializer):
    id = serializers.IntegerField()
    chat = serializers.IntegerField(help_text="The rated chat's id.")
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(help_text="As the customer typed it: plain text, never HTML.")
    topic = ApiTopicRefOutput()
    agent = ApiUserRefOutput(allow_null=True, help_text="The chat's (latest) agent.")
    customer = ApiCustomerRefOutput()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(help_text="Customers may change a rating for a while.")


# --- Transcripts ----------------------------------------------------------------------------------


class TranscriptQuery(serializers.Serializer):
    format = serializers.ChoiceField(
        choices=[("html", "HTML page"), ("txt", "Plain text")],
        required=False,
        default="html",
        help_text="html (text/html) or txt (text/plain).",
    )


# --- Customers ------------------------------------------------------------------------------------


class CustomerListQuery(serializers.Serializer):
    email = serializers.EmailField(
        required=False, max_length=254, help_text="Ignoring case: every record with it."
    )
    external_id = serializers.CharField(
        required=False,
        max_length=255,
        help_text="Your own id of the customer (set when the widget proved who they are).",
    )

    def validate_external_id(self, value: str) -> str:
        if _CONTROL.search(value):
            raise serializers.ValidationError("An id cannot contain control characters.")
        return value


class ApiCustomerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="As typed by the customer: plain text, never HTML.")
    email = serializers.CharField(help_text="Blank when they gave none.")
    external_id = serializers.CharField(help_text="Blank unless the widget proved who they are.")
    consent_transcript = serializers.BooleanField()
    consent_marketing = serializers.BooleanField()
    timezone = serializers.CharField(help_text="As their browser reported it; may be blank.")
    created_at = serializers.DateTimeField()


class ApiChatRatingOutput(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField()
    created_at = serializers.DateTimeField()


class ApiCustomerChatOutput(serializers.Serializer):
    id = serializers.IntegerField()
    topic = ApiTopicRefOutput()
    status = serializers.ChoiceField(choices=Chat.Status.choices)
    agent = ApiUserRefOutput(allow_null=True)
    created_at = serializers.DateTimeField()
    assigned_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    rating = ApiChatRatingOutput(allow_null=True)


class ApiCustomerTicketOutput(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=Ticket.Status.choices)
    topic = ApiTopicRefOutput()
    created_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)


class ApiCustomerDetailOutput(ApiCustomerOutput):
    chats = ApiCustomerChatOutput(
        many=True,
        help_text="Newest first, at most 50: this customer's chats and those of every "
        "customer with the same email, that you may read.",
    )
    tickets = ApiCustomerTicketOutput(
        many=True, help_text="Newest first, at most 50: by this customer or to their email."
    )
