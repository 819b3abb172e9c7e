"""Input and output shapes of the console's canned-response API (docs/cannedresponses.md)."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cannedresponses import placeholders
from cannedresponses.models import (
    BODY_MAX_LENGTH,
    SHORTCUT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    CannedResponse,
    ToneRule,
)
from cannedresponses.services import MAX_VALUES
from cannedresponses.tone import js_pattern
from chat.models import MESSAGE_MAX_LENGTH
from helpdesk.api.integrator_serializers import ApiId, StrictBoolean, StrictText

# --- Canned responses -----------------------------------------------------------------------


class CannedResponseListQuery(serializers.Serializer):
    chat = ApiId(required=False, help_text="The chat the list is for: its topic's responses.")


class CannedResponseCreateInput(serializers.Serializer):
    title = StrictText(max_length=TITLE_MAX_LENGTH)
    shortcut = StrictText(
        max_length=SHORTCUT_MAX_LENGTH + 1,  # a leading '/' is allowed and dropped
        help_text="What is typed after '/': lowercase letters, digits, '-' and '_' "
        "(a leading '/' and capitals are normalised).",
    )
    body = StrictText(
        max_length=BODY_MAX_LENGTH, help_text="Text with placeholders (see the docs)."
    )
    scope = serializers.ChoiceField(
        choices=CannedResponse.Scope.choices,
        default=CannedResponse.Scope.PERSONAL,
        help_text="shared and topic: supervisors only.",
    )
    topic = ApiId(required=False, allow_null=True, help_text="The topic's id, for scope topic.")
    is_active = StrictBoolean(default=True)


class CannedResponseUpdateInput(serializers.Serializer):
    title = StrictText(max_length=TITLE_MAX_LENGTH, required=False)
    shortcut = StrictText(max_length=SHORTCUT_MAX_LENGTH + 1, required=False)
    body = StrictText(max_length=BODY_MAX_LENGTH, required=False)
    scope = serializers.ChoiceField(choices=CannedResponse.Scope.choices, required=False)
    topic = ApiId(required=False, allow_null=True)
    is_active = StrictBoolean(required=False)


class TopicRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


# `asks` and `editable` of a canned response, for the console's output and the integrators'
# (each declares the two fields, in its own place and words); `editable` needs
# `may_manage_shared` in the serializer's context. A comment, not a docstring: the schema would
# show a docstring as the description of both outputs.
class CannedResponseFlags:
    context: dict[str, Any]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_asks(self, obj: CannedResponse) -> list[str]:
        return placeholders.asks_or_empty(obj.body)

    @extend_schema_field(serializers.BooleanField())
    def get_editable(self, obj: CannedResponse) -> bool:
        if obj.scope == CannedResponse.Scope.PERSONAL:
            return True  # only its owner ever reads a personal response
        return bool(self.context.get("may_manage_shared", False))


class CannedResponseOutput(CannedResponseFlags, serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField(help_text="Plain text: insert it as text, never as HTML.")
    shortcut = serializers.CharField(help_text="Without the leading '/'.")
    scope = serializers.ChoiceField(choices=CannedResponse.Scope.choices)
    topic = TopicRefOutput(allow_null=True)
    body = serializers.CharField(help_text="The body with its placeholders, unrendered.")
    asks = serializers.SerializerMethodField(
        help_text="Labels of the values the agent is asked for before sending ({ask:Label})."
    )
    editable = serializers.SerializerMethodField(
        help_text="Whether this agent may change or delete it."
    )
    use_count = serializers.SerializerMethodField(help_text="How often this agent used it.")
    is_active = serializers.BooleanField()

    @extend_schema_field(serializers.IntegerField())
    def get_use_count(self, obj: CannedResponse) -> int:
        return int(getattr(obj, "use_count", 0) or 0)


class RenderInput(serializers.Serializer):
    chat = ApiId()
    values = serializers.DictField(
        required=False,
        default=dict,
        help_text="Answers to the response's asks: {label: text}, each at most 200 characters.",
    )

    def validate_values(self, value: dict[str, Any]) -> dict[str, Any]:
        # The types and lengths of the values are the service's to check (one place, one
        # message per value); only the size of the object is bounded here.
        if len(value) > MAX_VALUES:
            raise serializers.ValidationError(f"At most {MAX_VALUES} values.")
        return value


class RenderOutput(serializers.Serializer):
    text = serializers.CharField(help_text="Plain text for the composer; nothing was sent.")


class PlaceholderOutput(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()


# --- Phrase suggestions ---------------------------------------------------------------------


class PhraseQuery(serializers.Serializer):
    prefix = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text="What the agent typed of the current sentence.",
    )
    limit = serializers.IntegerField(min_value=1, max_value=20, default=5)


class PhraseOutput(serializers.Serializer):
    phrase = serializers.CharField(help_text="The whole opening, as the agent wrote it before.")
    count = serializers.IntegerField(help_text="In how many of the agent's messages it appears.")


# --- Tone guard -----------------------------------------------------------------------------


class ToneRuleOutput(serializers.Serializer):
    id = serializers.IntegerField()
    phrase = serializers.CharField()
    kind = serializers.ChoiceField(choices=ToneRule.Kind.choices)
    note = serializers.CharField()
    pattern = serializers.SerializerMethodField(
        help_text='A JavaScript regular expression source: use new RegExp(pattern, "giu").'
    )

    @extend_schema_field(serializers.CharField())
    def get_pattern(self, obj: ToneRule) -> str:
        return js_pattern(obj.phrase, obj.kind)


class ToneCheckInput(serializers.Serializer):
    text = StrictText(max_length=MESSAGE_MAX_LENGTH, allow_blank=True, trim_whitespace=False)


class ToneMatchOutput(serializers.Serializer):
    phrase = serializers.CharField(help_text="The rule's phrase.")
    kind = serializers.ChoiceField(choices=ToneRule.Kind.choices)
    note = serializers.CharField()
    start = serializers.IntegerField(help_text="Offset in Unicode code points.")
    end = serializers.IntegerField()
    text = serializers.CharField(help_text="The matched text as written.")


class ToneCheckOutput(serializers.Serializer):
    matches = ToneMatchOutput(many=True)
