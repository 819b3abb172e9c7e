"""Shapes of the integrators' metrics endpoint (/api/v1/metrics/, docs/api.md, docs/metrics.md)."""

import datetime
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from helpdesk.api.integrator_serializers import ApiId
from routing.metrics import GROUP_BY_CHOICES
from routing.metrics_views import DEFAULT_DAYS, MAX_RANGE_DAYS

# Far enough either way for any helpdesk's history; the bounds also keep the day after `until`
# (the end of the range) a date Python can represent.
EARLIEST = datetime.date(2000, 1, 1)
LATEST = datetime.date(2999, 12, 31)


class MetricsQuery(serializers.Serializer):
    since = serializers.DateField(
        required=False, help_text=f"First day, included (default: {DEFAULT_DAYS - 1} days ago)."
    )
    until = serializers.DateField(required=False, help_text="Last day, included (default: today).")
    group_by = serializers.ChoiceField(choices=list(GROUP_BY_CHOICES), default="day")
    topic = ApiId(required=False, help_text="Only chats of this topic (an id).")
    agent = ApiId(required=False, help_text="Only chats of this agent (a user id).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        today = timezone.localdate()
        until = attrs.get("until") or today
        since = attrs.get("since") or until - datetime.timedelta(days=DEFAULT_DAYS - 1)
        errors: dict[str, list[str]] = {}
        for name, value in (("since", since), ("until", until)):
            if not EARLIEST <= value <= LATEST:
                errors[name] = [f"Must be between {EARLIEST} and {LATEST}."]
        if not errors and since > until:
            errors["until"] = ["Must be on or after since."]
        elif not errors and (until - since).days >= MAX_RANGE_DAYS:
            errors["until"] = [f"A range is at most {MAX_RANGE_DAYS} days."]
        if errors:
            raise serializers.ValidationError(errors, code="invalid")
        return {**attrs, "since": since, "until": until}


class ApiMetricsRowOutput(serializers.Serializer):
    id = serializers.IntegerField(
        allow_null=True,
        help_text="The agent's or topic's id; null for days, chats without an agent and totals.",
    )
    day = serializers.DateField(allow_null=True, help_text="With group_by=day; null otherwise.")
    label = serializers.CharField(help_text="The agent's name, the topic's name or the day.")
    chats = serializers.IntegerField()
    first_response_seconds = serializers.FloatField(
        allow_null=True, help_text="Average; null when nothing was measured."
    )
    handling_seconds = serializers.FloatField(allow_null=True)
    wait_seconds = serializers.FloatField(allow_null=True)
    abandoned = serializers.IntegerField()
    abandonment_rate = serializers.FloatField(allow_null=True, help_text="0 to 1.")
    transfers = serializers.IntegerField()
    agent_messages = serializers.IntegerField()
    canned_messages = serializers.IntegerField()
    canned_share = serializers.FloatField(allow_null=True, help_text="0 to 1.")
    tone_warnings = serializers.IntegerField()
    ratings = serializers.IntegerField()
    csat_average = serializers.FloatField(allow_null=True, help_text="1 to 5.")
    satisfied = serializers.IntegerField(help_text="Ratings of 4 or 5.")
    csat_share = serializers.FloatField(allow_null=True, help_text="0 to 1.")


class ApiMetricsOutput(serializers.Serializer):
    since = serializers.DateField()
    until = serializers.DateField()
    group_by = serializers.ChoiceField(choices=list(GROUP_BY_CHOICES))
    rows = ApiMetricsRowOutput(
        many=True, help_text="Per agent or topic (by name), or every day of the range."
    )
    totals = ApiMetricsRowOutput()
