"""Input and output shapes of routing's integrator endpoints (docs/api.md): transfers of a chat
and the agents as routing sees them."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from chat.api.integrator_serializers import TOPIC_SLUG, TOPIC_SLUG_MAX_LENGTH, RawText
from helpdesk.api.integrator_common import staff_name, topic_ref, user_ref
from helpdesk.api.integrator_serializers import (
    ApiTopicRefOutput,
    ApiUserRefOutput,
    QueryFlag,
    StrictApiId,
    StrictBoolean,
    StrictText,
)
from routing.api_selectors import DEFAULT_MAX_CHATS
from routing.models import AgentProfile, Transfer

# --- Transfers ------------------------------------------------------------------------------------


class ApiTransferTargetInput(serializers.Serializer):
    """Exactly one of `{"agent": <user id>}`, `{"topic": "<slug>"}`, `{"senior": true}`."""

    agent = StrictApiId(required=False, help_text="A colleague's user id: a request they answer.")
    topic = StrictText(
        required=False,
        max_length=TOPIC_SLUG_MAX_LENGTH,
        validators=[TOPIC_SLUG],
        help_text="A topic's slug: the chat goes to the front of its queue at once.",
    )
    senior = StrictBoolean(
        required=False, help_text="true: ask the least loaded senior online who handles it."
    )

    def to_internal_value(self, data: Any) -> Any:
        # Unknown keys are refused, not ignored, and never echoed: a key is the client's text
        # (it may hold anything, a lone surrogate included).
        if isinstance(data, dict) and set(data) - set(self.fields):
            raise serializers.ValidationError(
                {"non_field_errors": ["Name exactly one of agent, topic or senior."]},
                code="invalid",
            )
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if len(attrs) != 1:
            raise serializers.ValidationError(
                "Name exactly one of agent, topic or senior.", code="invalid"
            )
        if "senior" in attrs and attrs["senior"] is not True:
            raise serializers.ValidationError({"senior": ["Must be true."]}, code="invalid")
        return attrs


@extend_schema_field(ApiTransferTargetInput)
class TransferTargetField(serializers.Field):  # type: ignore[type-arg]
    """`to`, validated by ApiTransferTargetInput, its errors flattened to a list of messages:
    the API's `errors` maps each field to messages, never to a nested object."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        target = ApiTransferTargetInput(data=data)
        if not target.is_valid():
            raise serializers.ValidationError(
                [
                    str(message) if key == "non_field_errors" else f"{key}: {message}"
                    for key, messages in target.errors.items()
                    for message in messages
                ],
                code="invalid",
            )
        return dict(target.validated_data)

    def to_representation(self, value: Any) -> Any:
        return value


class ApiTransferInput(serializers.Serializer):
    to = TransferTargetField()
    note = RawText(
        help_text="For whoever receives the chat (internal, never shown to the customer): "
        "required, at most 1000 characters, plain text."
    )


class ApiTransferOutput(serializers.Serializer):
    id = serializers.IntegerField()
    chat = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Transfer.Kind.choices)
    status = serializers.ChoiceField(
        choices=Transfer.Status.choices,
        help_text="pending: a colleague or senior has until expires_at to accept (the chat "
        "stays the sender's until then); completed: moved to a topic's queue.",
    )
    from_agent = ApiUserRefOutput(help_text="Whose chat it was.")
    requested_by = ApiUserRefOutput(help_text="Who asked: the agent, or a supervisor.")
    to_agent = ApiUserRefOutput(allow_null=True)
    to_topic = ApiTopicRefOutput(allow_null=True)
    note = serializers.CharField(help_text="Internal: plain text, never HTML.")
    reason = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)


def transfer_data(transfer: Transfer) -> dict[str, Any]:
    """The caller loaded from_agent, requested_by, to_agent and to_topic (the services do)."""
    topic = transfer.to_topic
    return {
        "id": transfer.pk,
        "chat": transfer.chat_id,
        "kind": transfer.kind,
        "status": transfer.status,
        "from_agent": user_ref(transfer.from_agent),
        "requested_by": user_ref(transfer.requested_by),
        "to_agent": user_ref(transfer.to_agent),
        "to_topic": topic_ref(topic) if topic is not None else None,
        "note": transfer.note,
        "reason": transfer.reason or None,
        "created_at": transfer.created_at,
        "expires_at": transfer.expires_at,
        "decided_at": transfer.decided_at,
    }


# --- Agents ---------------------------------------------------------------------------------------


class AgentListQuery(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=AgentProfile.Status.choices, required=False, help_text="The status they chose."
    )
    present = QueryFlag(help_text="true: with a console open now; false: without.")
    topic = serializers.CharField(
        required=False,
        max_length=TOPIC_SLUG_MAX_LENGTH,
        validators=[TOPIC_SLUG],
        help_text="A topic's slug: agents who handle it (a skill, or no skills at all).",
    )


class ApiAgentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(help_text="Full name, or the username without one.")
    email = serializers.CharField()
    status = serializers.ChoiceField(
        choices=AgentProfile.Status.choices,
        help_text="What the agent chose (offline until they first choose).",
    )
    present = serializers.BooleanField(help_text="A console of theirs is open now.")
    available = serializers.BooleanField(
        help_text="Can be given a chat now: online, present and below their limit."
    )
    open_chats = serializers.IntegerField(help_text="Active chats they hold now.")
    max_chats = serializers.IntegerField(help_text="Most chats they hold at once.")
    seniority = serializers.ChoiceField(choices=AgentProfile.Seniority.choices)
    skills = ApiTopicRefOutput(many=True, help_text="Topics they are given; empty: every topic.")
    status_changed_at = serializers.DateTimeField(allow_null=True)
    last_assigned_at = serializers.DateTimeField(allow_null=True)


def agent_data(user: Any) -> dict[str, Any]:
    """A user from routing.api_selectors.agents_for_api (annotated, profile joined)."""
    profile: AgentProfile | None = getattr(user, "agent_profile", None)
    status = profile.status if profile else AgentProfile.Status.OFFLINE
    max_chats = profile.max_chats if profile else DEFAULT_MAX_CHATS
    return {
        "id": user.pk,
        "username": user.get_username(),
        "name": staff_name(user),
        "email": user.email,
        "status": status,
        "present": user.present,
        "available": status == AgentProfile.Status.ONLINE
        and user.present
        and user.open_chats < max_chats,
        "open_chats": user.open_chats,
        "max_chats": max_chats,
        "seniority": profile.seniority if profile else AgentProfile.Seniority.AGENT,
        "skills": [topic_ref(t) for t in profile.topics.all()] if profile else [],
        "status_changed_at": profile.status_changed_at if profile else None,
        "last_assigned_at": profile.last_assigned_at if profile else None,
    }
