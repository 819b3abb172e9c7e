"""Shapes of the integrators' canned-response API (/api/v1/canned-responses/, docs/api.md).
Writes take the console's input serializers: one set of rules for both."""

import re

from rest_framework import serializers

from cannedresponses.api.serializers import CannedResponseFlags
from cannedresponses.models import CannedResponse
from helpdesk.api.integrator_serializers import ApiId, ApiTopicRefOutput, QueryFlag

SEARCH_MAX_LENGTH = 100
# Tab, newline and carriage return aside, control characters are no search (PostgreSQL refuses
# NUL outright; DRF already refuses it, the others would match nothing anyone typed).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class CannedResponseApiQuery(serializers.Serializer):
    topic = ApiId(
        required=False,
        help_text="A topic's id: what fits a chat of that topic (the shared responses, that "
        "topic's and your own).",
    )
    scope = serializers.ChoiceField(choices=CannedResponse.Scope.choices, required=False)
    active = QueryFlag(help_text="Agents only ever see active shared and topic responses.")
    q = serializers.CharField(
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        help_text="Words in the title, shortcut or body (ignoring case), 1 to 100 characters.",
    )

    def validate_q(self, value: str) -> str:
        if _CONTROL.search(value):
            raise serializers.ValidationError("A search cannot contain control characters.")
        return value


class ApiCannedResponseOutput(CannedResponseFlags, serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField(help_text="Plain text: insert it as text, never as HTML.")
    shortcut = serializers.CharField(help_text="Typed after '/' in the console.")
    scope = serializers.ChoiceField(choices=CannedResponse.Scope.choices)
    topic = ApiTopicRefOutput(allow_null=True, help_text="For scope `topic`.")
    body = serializers.CharField(help_text="With its placeholders, unrendered: plain text.")
    asks = serializers.SerializerMethodField(
        help_text="Labels of the values an agent is asked for ({ask:Label})."
    )
    is_active = serializers.BooleanField()
    editable = serializers.SerializerMethodField(
        help_text="Whether the token's user may change or delete it."
    )
    use_count = serializers.IntegerField(help_text="How often the token's user inserted it.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
