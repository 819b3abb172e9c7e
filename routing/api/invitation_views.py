"""The widget's invitation endpoints under /api/v1/public/ (docs/protocol.md, "Proactive
invitations"): anonymous like the rest of the public API, throttled per address, cross-origin
for HELPDESK_WIDGET_ORIGINS (helpdesk.middleware). No cookie is set and nothing about the
visitor is stored: only counters per rule and day."""

from typing import ClassVar

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from chat.api.serializers import ErrorOutput
from chat.api.views import _PublicApi
from routing.api.invitation_serializers import (
    InvitationCheckInput,
    InvitationCheckOutput,
    InvitationEventInput,
    InvitationEventOutput,
    check_output,
)
from routing.invitation_selectors import invitation_for_visit
from routing.invitation_services import InvitationEvent, invitation_event_record, offer_make
from routing.invitations import Visit

TAGS = ["public: invitations"]


class InvitationCheckApi(_PublicApi):
    throttle_scope = "public_invitation_check"

    @extend_schema(
        tags=TAGS,
        request=InvitationCheckInput,
        responses={200: InvitationCheckOutput, 400: ErrorOutput, 429: ErrorOutput},
        summary="Should the widget invite this visitor to chat now?",
        description="The widget sends what the invitation rules need, nothing personal. The "
        "answer is the invitation to show now (the highest-priority rule that fits the page, "
        "the visit, its active hours and cap, whose topic is open and has an agent available), "
        "or null with `check_again_in`: ask again after that many more seconds on this page.",
    )
    def post(self, request: Request) -> Response:
        data = InvitationCheckInput(data=request.data)
        data.is_valid(raise_exception=True)
        visit = Visit(**data.validated_data)
        offer, check_again_in = invitation_for_visit(visit=visit)
        token = offer_make(rule_id=offer.rule_id) if offer else None
        return Response(check_output(offer=offer, token=token, check_again_in=check_again_in))


_RULE_ID = OpenApiParameter(
    "rule_id", int, OpenApiParameter.PATH, description="The `rule` of the invitation."
)


class _InvitationEventApi(_PublicApi):
    throttle_scope = "public_invitation_event"
    event: ClassVar[str]

    def post(self, request: Request, rule_id: int) -> Response:
        data = InvitationEventInput(data=request.data)
        data.is_valid(raise_exception=True)
        counted = invitation_event_record(
            rule_id=rule_id, event=self.event, offer=data.validated_data["offer"]
        )
        return Response(InvitationEventOutput({"counted": counted}).data)


def _event_schema(what: str) -> dict[str, object]:
    return {
        "tags": TAGS,
        "request": InvitationEventInput,
        "parameters": [_RULE_ID],
        "responses": {
            200: InvitationEventOutput,
            400: ErrorOutput,
            404: ErrorOutput,
            429: ErrorOutput,
        },
        "summary": f"Count an invitation {what}",
        "description": "`offer` is the one the check returned with the invitation. Each offer "
        "counts once as shown and once as accepted or dismissed; a repeat answers "
        "`counted: false`. An unknown rule: 404 `invitation_not_found`; an offer not made for "
        "this rule (or older than a day): 400 `offer_invalid`.",
    }


class InvitationShownApi(_InvitationEventApi):
    event = InvitationEvent.SHOWN

    @extend_schema(**_event_schema("shown"))  # type: ignore[arg-type]
    def post(self, request: Request, rule_id: int) -> Response:
        return super().post(request, rule_id)


class InvitationAcceptedApi(_InvitationEventApi):
    event = InvitationEvent.ACCEPTED

    @extend_schema(**_event_schema("accepted"))  # type: ignore[arg-type]
    def post(self, request: Request, rule_id: int) -> Response:
        return super().post(request, rule_id)


class InvitationDismissedApi(_InvitationEventApi):
    event = InvitationEvent.DISMISSED

    @extend_schema(**_event_schema("dismissed"))  # type: ignore[arg-type]
    def post(self, request: Request, rule_id: int) -> Response:
        return super().post(request, rule_id)
