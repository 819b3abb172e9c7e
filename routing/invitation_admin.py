"""Supervisors set up proactive invitations here (docs/invitations.md): the rules, with their
counts so far, and a preview of the invitation exactly as visitors see its text."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils.html import format_html

from helpdesk.admin_roles import SupervisorsManage
from helpdesk.hours import week_summary
from helpdesk.models import MIDNIGHT, BusinessHours
from routing.invitations import ALL_WEEK, active_schedule, pattern_lines
from routing.models import INVITATION_TEXT_MAX_LENGTH, InvitationRule
from routing.templatetags.metrics_format import percent


class InvitationRuleForm(forms.ModelForm):
    active_days = forms.MultipleChoiceField(
        label="Active days",
        choices=[(str(value), label) for value, label in BusinessHours.Weekday.choices],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one day."},
    )

    class Meta:
        model = InvitationRule
        fields = [
            "name",
            "is_active",
            "priority",
            "topic",
            "url_patterns",
            "min_seconds_on_page",
            "min_pages_in_visit",
            "visitors",
            "active_days",
            "active_from",
            "active_until",
            "timezone",
            "text",
            "cap_hours",
        ]
        widgets = {
            "url_patterns": forms.Textarea(attrs={"rows": 4, "cols": 60}),
            "text": forms.TextInput(attrs={"size": 80, "maxlength": INVITATION_TEXT_MAX_LENGTH}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["active_days"] = list(self.instance.active_days or ALL_WEEK)

    def clean_active_days(self) -> str:
        # Stored as the weekday digits, Monday 0 ("01234": Monday to Friday).
        return "".join(sorted(set(self.cleaned_data["active_days"])))


def active_hours_summary(rule: InvitationRule) -> str:
    """ "always", or the week in one line with its zone: "Mon-Fri 09:00-17:00 (Europe/Lisbon)"."""
    whole_day = rule.active_from in (None, MIDNIGHT) and rule.active_until in (None, MIDNIGHT)
    if set(rule.active_days) == set(ALL_WEEK) and whole_day:
        return "always"
    schedule = active_schedule(
        days=rule.active_days,
        starts=rule.active_from,
        ends=rule.active_until,
        timezone=rule.timezone,
    )
    return f"{week_summary(schedule)} ({rule.timezone})"


def conditions_summary(rule: InvitationRule) -> str:
    parts = [f"{rule.min_seconds_on_page} s on the page"]
    if rule.min_pages_in_visit > 1:
        parts.append(f"from page {rule.min_pages_in_visit} of the visit")
    if rule.visitors != InvitationRule.Visitors.ANY:
        parts.append(rule.get_visitors_display().lower())
    return ", ".join(parts)


@admin.register(InvitationRule)
class InvitationRuleAdmin(SupervisorsManage, admin.ModelAdmin):
    form = InvitationRuleForm
    list_display = [
        "name",
        "is_active",
        "priority",
        "topic",
        "patterns",
        "conditions",
        "active_hours",
        "cap",
        "shown",
        "accepted",
        "dismissed",
        "acceptance",
    ]
    list_display_links = ["name"]
    list_editable = ["is_active", "priority"]
    list_filter = ["is_active", "topic", "visitors"]
    search_fields = ["name", "text", "url_patterns"]
    list_select_related = ["topic"]
    readonly_fields = ["preview", "created_at"]
    fieldsets = [
        (None, {"fields": ["name", "is_active", "priority", "topic"]}),
        (
            "Where and when",
            {"fields": ["url_patterns", "min_seconds_on_page", "min_pages_in_visit", "visitors"]},
        ),
        ("Active hours", {"fields": ["active_days", "active_from", "active_until", "timezone"]}),
        ("What the visitor sees", {"fields": ["text", "preview"]}),
        ("How often", {"fields": ["cap_hours", "created_at"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[InvitationRule]:
        # All-time counts in the list's own query: one join and three sums, whatever the rows.
        return (
            super()
            .get_queryset(request)
            .annotate(
                shown_total=Coalesce(Sum("tallies__shown"), 0),
                accepted_total=Coalesce(Sum("tallies__accepted"), 0),
                dismissed_total=Coalesce(Sum("tallies__dismissed"), 0),
            )
        )

    @admin.display(description="pages")
    def patterns(self, obj: InvitationRule) -> str:
        return " ".join(pattern_lines(obj.url_patterns))

    @admin.display(description="after")
    def conditions(self, obj: InvitationRule) -> str:
        return conditions_summary(obj)

    @admin.display(description="active hours")
    def active_hours(self, obj: InvitationRule) -> str:
        return active_hours_summary(obj)

    @admin.display(description="cap", ordering="cap_hours")
    def cap(self, obj: InvitationRule) -> str:
        return f"1 per {obj.cap_hours} h"

    @admin.display(description="shown", ordering="shown_total")
    def shown(self, obj: InvitationRule) -> int:
        return obj.shown_total  # type: ignore[attr-defined,no-any-return]

    @admin.display(description="accepted", ordering="accepted_total")
    def accepted(self, obj: InvitationRule) -> int:
        return obj.accepted_total  # type: ignore[attr-defined,no-any-return]

    @admin.display(description="dismissed", ordering="dismissed_total")
    def dismissed(self, obj: InvitationRule) -> int:
        return obj.dismissed_total  # type: ignore[attr-defined,no-any-return]

    @admin.display(description="accepted of shown")
    def acceptance(self, obj: InvitationRule) -> str:
        # As on the metrics page: "38 %", a dash while nothing was shown.
        shown: int = obj.shown_total  # type: ignore[attr-defined]
        return percent(obj.accepted_total / shown if shown else None)  # type: ignore[attr-defined]

    @admin.display(description="preview")
    def preview(self, obj: InvitationRule | None) -> str:
        # The text is escaped here as the widget shows it with textContent: markup shows as
        # the characters typed, never as HTML.
        if obj is None or not obj.pk:
            return "Save the rule to see its invitation here."
        return format_html(
            '<div class="invitation-preview" style="max-width:320px;padding:14px 16px;'
            "border-radius:14px;background:#fff;color:#1d2433;border:1px solid #d0d5dd;"
            'box-shadow:0 8px 24px rgba(16,24,40,.18);font:15px/1.45 system-ui,sans-serif">'
            '<p style="margin:0 0 10px;white-space:pre-wrap">{}</p>'
            '<span style="display:inline-block;padding:6px 12px;border-radius:8px;'
            'background:#2b4fc7;color:#fff">Chat now</span> '
            '<span style="display:inline-block;padding:6px 12px">No thanks</span></div>',
            obj.text,
        )
