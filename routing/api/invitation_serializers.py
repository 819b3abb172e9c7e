"""Shapes of the public invitation endpoints (docs/protocol.md, "Proactive invitations")."""

from typing import Any

from rest_framework import serializers

from helpdesk.api.integrator_serializers import StrictBoolean, StrictText
from routing.invitation_selectors import InvitationOffer
from routing.invitation_services import OFFER_MAX_LENGTH
from routing.invitations import MAX_PATH_LENGTH

# A day on one page, and more pages than anyone reads in one visit: beyond, a client is lying.
MAX_SECONDS_ON_PAGE = 86_400
MAX_PAGES_IN_VISIT = 100_000
MAX_SECONDS_SINCE = 2**31 - 1


class StrictInteger(serializers.IntegerField):
    """A JSON number without a fraction: not "12", 12.5 nor true (DRF's IntegerField takes
    the first two, and true is an int in Python)."""

    def to_internal_value(self, data: object) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)  # type: ignore[no-any-return]


class _PathField(StrictText):
    def to_internal_value(self, data: object) -> str:
        value: str = super().to_internal_value(data)
        if not value.startswith("/"):
            raise serializers.ValidationError("A path starts with “/” (location.pathname).")
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise serializers.ValidationError("A path holds no control characters.")
        return value


class InvitationCheckInput(serializers.Serializer):
    path = _PathField(
        max_length=MAX_PATH_LENGTH,
        trim_whitespace=False,
        help_text="The page's path (location.pathname), without query string or fragment.",
    )
    seconds_on_page = StrictInteger(
        min_value=0, max_value=MAX_SECONDS_ON_PAGE, help_text="Seconds since the page loaded."
    )
    pages_in_visit = StrictInteger(
        min_value=1,
        max_value=MAX_PAGES_IN_VISIT,
        help_text="Pages seen in this visit (this browser tab's session), this one included.",
    )
    returning = StrictBoolean(help_text="The browser has visited the site before this visit.")
    seconds_since_last_invitation = StrictInteger(
        min_value=0,
        max_value=MAX_SECONDS_SINCE,
        allow_null=True,
        required=False,
        default=None,
        help_text="Seconds since this browser was last shown an invitation, by its own clock; "
        "null or absent: never.",
    )


class InvitationTopicOutput(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()


class InvitationOutput(serializers.Serializer):
    rule = serializers.IntegerField(help_text="The rule's id, for counting events.")
    text = serializers.CharField(help_text="Plain text: show it as text, never as HTML.")
    topic = InvitationTopicOutput(help_text="The topic the chat opens on when accepted.")
    offer = serializers.CharField(
        help_text="Signed proof of this offer, sent back when counting shown/accepted/dismissed."
    )


class InvitationCheckOutput(serializers.Serializer):
    invitation = InvitationOutput(allow_null=True, help_text="Show this now; null: nothing now.")
    check_again_in = serializers.IntegerField(
        allow_null=True,
        help_text="Ask again after this many seconds on this page; null: not on this page.",
    )


class InvitationEventInput(serializers.Serializer):
    offer = StrictText(max_length=OFFER_MAX_LENGTH, trim_whitespace=False)


class InvitationEventOutput(serializers.Serializer):
    counted = serializers.BooleanField(
        help_text="False when this offer had already counted this event (a retry): no change."
    )


def check_output(
    *, offer: InvitationOffer | None, token: str | None, check_again_in: int | None
) -> dict[str, Any]:
    invitation = (
        None
        if offer is None
        else {
            "rule": offer.rule_id,
            "text": offer.text,
            "topic": {"slug": offer.topic_slug, "name": offer.topic_name},
            "offer": token,
        }
    )
    return InvitationCheckOutput({"invitation": invitation, "check_again_in": check_again_in}).data  # type: ignore[return-value]
