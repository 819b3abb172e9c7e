"""The supervisors' metrics page (/admin/metrics/): a filter form, charts, a table and CSV."""

import csv
import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from helpdesk.models import Topic
from helpdesk.roles import AGENTS_GROUP, is_supervisor
from routing.bot_metrics import BotMetricsReport, BotMetricsRow, bot_metrics
from routing.invitation_metrics import InvitationReport, InvitationRow, invitation_metrics
from routing.metrics import GROUP_BY_CHOICES, MetricsReport, MetricsRow, metrics
from routing.templatetags.metrics_format import NOT_MEASURED

DEFAULT_DAYS = 7
# A year of days is already a 366-bar chart; longer ranges belong to an export job.
MAX_RANGE_DAYS = 366


class MetricsForm(forms.Form):
    since = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    group_by = forms.ChoiceField(
        label="Group by", choices=[(c, c.capitalize()) for c in GROUP_BY_CHOICES]
    )
    topic = forms.ModelChoiceField(queryset=Topic.objects.order_by("name"), required=False)
    agent = forms.ModelChoiceField(
        queryset=get_user_model()
        .objects.filter(groups__name=AGENTS_GROUP)
        .order_by("username")
        .distinct(),
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agent"].label_from_instance = (  # type: ignore[attr-defined]
            lambda u: u.get_full_name() or u.username
        )
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "metrics-form"
        self.helper.add_input(Submit("submit", "Show", css_class="default"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until:
            if since > until:
                self.add_error("until", "The end date must be on or after the start date.")
            elif (until - since).days >= MAX_RANGE_DAYS:
                self.add_error("until", f"Choose a range of at most {MAX_RANGE_DAYS} days.")
        return data


def _defaults() -> dict[str, str]:
    today = timezone.localdate()
    return {
        "since": (today - datetime.timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
        "until": today.isoformat(),
        "group_by": "day",
    }


@dataclass(frozen=True)
class Bar:
    label: str
    text: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]
    width: int
    height: int
    horizontal: bool


CHART_WIDTH = 720
LABEL_WIDTH = 180  # room for agent and topic names left of horizontal bars
ROW_HEIGHT = 22
COLUMN_AREA = 160  # height of the columns of a per-day chart
COLUMN_TOP = 14


def _chart(title: str, rows: list[MetricsRow], attr: str, fmt: str, *, per_day: bool) -> Chart:
    """Bars laid out here so the template only draws rectangles: no charting library."""
    values: list[float | None] = [getattr(r, attr) for r in rows]
    peak = max((v for v in values if v), default=0) or 1
    texts = [NOT_MEASURED if v is None else fmt.format(v) for v in values]
    if per_day:
        # Columns: a month of days fits side by side; the 2 px gap keeps neighbours distinct.
        slot = CHART_WIDTH / max(len(rows), 1)
        heights = [(v or 0) / peak * COLUMN_AREA for v in values]
        bars = [
            Bar(r.label, t, i * slot + 1, COLUMN_TOP + COLUMN_AREA - h, max(slot - 2, 1), h)
            for i, (r, t, h) in enumerate(zip(rows, texts, heights, strict=True))
        ]
        return Chart(title, bars, CHART_WIDTH, COLUMN_AREA + 34, horizontal=False)
    # Rows: names of agents and topics need the room on the left; 60 px keep the value readable.
    area = CHART_WIDTH - LABEL_WIDTH - 60
    bars = [
        Bar(r.label, t, LABEL_WIDTH, i * ROW_HEIGHT, (v or 0) / peak * area, ROW_HEIGHT - 6)
        for i, (r, t, v) in enumerate(zip(rows, texts, values, strict=True))
    ]
    return Chart(title, bars, CHART_WIDTH, max(len(rows), 1) * ROW_HEIGHT, horizontal=True)


def _charts(report: MetricsReport) -> list[Chart]:
    per = report.group_by
    per_day = per == "day"
    return [
        _chart(f"Chats per {per}", report.rows, "chats", "{:.0f}", per_day=per_day),
        _chart(
            f"First response (seconds) per {per}",
            report.rows,
            "first_response_seconds",
            "{:.0f}",
            per_day=per_day,
        ),
        _chart(
            f"CSAT (average of 5) per {per}", report.rows, "csat_average", "{:.2f}", per_day=per_day
        ),
    ]


CSV_HEADER = [
    "group",
    "chats",
    "first_response_seconds",
    "handling_seconds",
    "wait_seconds",
    "abandoned",
    "abandonment_rate",
    "transfers",
    "agent_messages",
    "canned_messages",
    "canned_share",
    "tone_warnings",
    "ratings",
    "csat_average",
    "csat_satisfied_share",
    # The answer bot in the same chats (routing/bot_metrics.py): always the row's own group.
    "bot_answered_chats",
    "bot_resolved_chats",
    "bot_resolved_share",
    "bot_answers",
    "bot_helpful_answers",
    "bot_rejected_answers",
    "bot_rejected_share",
    # Proactive invitations (routing/invitation_metrics.py): per day, or per topic (the rule's),
    # and in the totals; empty in agent rows and whenever an agent is chosen (an invitation
    # belongs to no agent).
    "invitations_shown",
    "invitations_accepted",
    "invitations_dismissed",
    "invitations_acceptance_rate",
]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    text = str(value)
    # A leading = + - @ makes Excel run the cell as a formula (CSV injection): a quote disarms
    # it. Agent and topic names are typed by people, so the label column needs it.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _csv_row(row: MetricsRow, bot: BotMetricsRow, invitations: InvitationRow | None) -> list[str]:
    """`invitations`: the same group's counts, None where they cannot be told apart (an agent's
    row) and a zero row for a group without any."""
    values: list[Any] = [
        row.label,
        row.chats,
        row.first_response_seconds,
        row.handling_seconds,
        row.wait_seconds,
        row.abandoned,
        row.abandonment_rate,
        row.transfers,
        row.agent_messages,
        row.canned_messages,
        row.canned_share,
        row.tone_warnings,
        row.ratings,
        row.csat_average,
        row.csat_share,
        bot.bot_chats,
        bot.resolved,
        bot.resolved_share,
        bot.answers,
        bot.helpful,
        bot.rejected,
        bot.rejected_share,
    ]
    if invitations is None:
        values += [None] * 4
    else:
        values += [
            invitations.shown,
            invitations.accepted,
            invitations.dismissed,
            invitations.acceptance_rate,
        ]
    return [_cell(v) for v in values]


class _Echo:
    """csv.writer wants a file; this one hands each line back to the streaming response."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(
    report: MetricsReport,
    bot: BotMetricsReport,
    invitations: InvitationReport,
    *,
    agent_chosen: bool,
) -> Iterator[str]:
    """One table: a row per group, then the totals. The bot's figures follow the report's
    rows one for one; invitations fit the day and topic groupings only (one table that every
    spreadsheet and script reads alike, rather than sections of other shapes: the page has
    the per-rule table and the articles rejected most)."""
    writer = csv.writer(_Echo())
    groups: dict[Any, InvitationRow] | None = None
    if not agent_chosen and report.group_by in ("day", "topic"):
        source = invitations.per_day if report.group_by == "day" else invitations.per_topic
        groups = {row.key: row for row in source}
    nothing = InvitationRow(None, "", 0, 0, 0)
    # The BOM tells Excel the file is UTF-8, so accented names survive.
    yield "\ufeff" + writer.writerow(CSV_HEADER)
    for row, bot_row in zip(report.rows, bot.rows, strict=True):
        counts = None if groups is None else groups.get(row.key, nothing)
        yield writer.writerow(_csv_row(row, bot_row, counts))
    totals = None if agent_chosen else invitations.totals
    yield writer.writerow(_csv_row(report.totals, bot.totals, totals))


@login_required
def metrics_page(request: HttpRequest) -> HttpResponse:
    if not is_supervisor(request.user):
        raise PermissionDenied("Metrics are for supervisors.")
    data = _defaults() | {k: v for k, v in request.GET.items() if k in MetricsForm.base_fields}
    form = MetricsForm(data)
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": "Metrics",
        "form": form,
        "report": None,
        "time_zone": timezone.get_default_timezone_name(),
    }
    if not form.is_valid():
        # The page explains what is wrong next to the field; 400 tells scripts the same.
        return render(request, "admin/metrics.html", context, status=400)
    clean = form.cleaned_data
    topic_id = clean["topic"].pk if clean["topic"] else None
    agent_id = clean["agent"].pk if clean["agent"] else None
    report = metrics(
        since=clean["since"],
        until=clean["until"],
        group_by=clean["group_by"],
        topic_id=topic_id,
        agent_id=agent_id,
    )
    # The answer bot and proactive invitations: their own sections of the page
    # (templates/admin/metrics_bot.html, metrics_invitations.html), extra CSV columns.
    bot = bot_metrics(report=report, topic_id=topic_id, agent_id=agent_id)
    invitations = invitation_metrics(since=clean["since"], until=clean["until"], topic_id=topic_id)
    if request.GET.get("format") == "csv":
        lines = _csv_lines(report, bot, invitations, agent_chosen=agent_id is not None)
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        name = f"metrics-{report.group_by}-{report.since}-{report.until}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    csv_query = request.GET.copy()
    csv_query["format"] = "csv"
    for key, value in data.items():
        csv_query.setdefault(key, value)
    context |= {
        "report": report,
        "charts": _charts(report),
        "csv_query": csv_query.urlencode(),
        "bot": bot,
        "invitations": invitations,
    }
    return render(request, "admin/metrics.html", context)
