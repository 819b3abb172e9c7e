"""The integrators' metrics endpoint (/api/v1/metrics/): the rows of the supervisors' metrics
page (routing.metrics.metrics, docs/metrics.md) as JSON. Supervisors only: the figures are
team-wide."""

import datetime
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api.access import IntegratorApi, SupervisorsOnly
from helpdesk.api.integrator_common import COMMON_ERRORS, INVALID, error, query_of
from routing.api.metrics_serializers import ApiMetricsOutput, MetricsQuery
from routing.metrics import MetricsRow, metrics

TAG = "integrations: metrics"


def _row(row: MetricsRow, group_by: str) -> dict[str, Any]:
    key = row.key
    return {
        "id": key if group_by in ("agent", "topic") and isinstance(key, int) else None,
        "day": key if isinstance(key, datetime.date) else None,
        "label": row.label,
        "chats": row.chats,
        "first_response_seconds": row.first_response_seconds,
        "handling_seconds": row.handling_seconds,
        "wait_seconds": row.wait_seconds,
        "abandoned": row.abandoned,
        "abandonment_rate": row.abandonment_rate,
        "transfers": row.transfers,
        "agent_messages": row.agent_messages,
        "canned_messages": row.canned_messages,
        "canned_share": row.canned_share,
        "tone_warnings": row.tone_warnings,
        "ratings": row.ratings,
        "csat_average": row.csat_average,
        "satisfied": row.satisfied,
        "csat_share": row.csat_share,
    }


class MetricsApi(IntegratorApi):
    permission_classes = [*IntegratorApi.permission_classes, SupervisorsOnly]

    @extend_schema(
        tags=[TAG],
        summary="Team metrics (supervisors)",
        description="Chats created from `since` to `until` (whole days in the site's time zone, "
        "both included, at most 366 days), grouped by agent, topic or day, with totals: the "
        "figures of the metrics page (/admin/metrics/). A fixed number of queries whatever the "
        "range.",
        parameters=[MetricsQuery],
        responses={
            200: ApiMetricsOutput,
            400: INVALID,
            401: COMMON_ERRORS[401],
            403: error("`permission_denied` (not a supervisor)."),
            429: COMMON_ERRORS[429],
        },
    )
    def get(self, request: Request) -> Response:
        query = query_of(MetricsQuery, request)
        report = metrics(
            since=query["since"],
            until=query["until"],
            group_by=query["group_by"],
            topic_id=query.get("topic"),
            agent_id=query.get("agent"),
        )
        return Response(
            ApiMetricsOutput(
                {
                    "since": report.since,
                    "until": report.until,
                    "group_by": report.group_by,
                    "rows": [_row(row, report.group_by) for row in report.rows],
                    "totals": _row(report.totals, report.group_by),
                }
            ).data
        )
