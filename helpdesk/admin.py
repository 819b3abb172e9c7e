from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from helpdesk.admin_roles import SupervisorsManage, SupervisorsMayRead, SupervisorsReadOnlyAdmin
from helpdesk.admin_tools import csv_response
from helpdesk.articles import article_html, article_tags_normalise
from helpdesk.hours import PACKED_HOURS, packed_hours, schedule_of, week_summary
from helpdesk.models import (
    Article,
    BusinessHours,
    Customer,
    CustomerBlock,
    Ticket,
    TicketReply,
    Topic,
    default_timezone,
)
from helpdesk.services import block_lift

TOPIC_FIELDS = [
    "name",
    "slug",
    "is_active",
    "position",
    "amber_after_seconds",
    "red_after_seconds",
    "reply_timeout_seconds",
    "timezone",
    "offer_message_after_seconds",
]


class TopicAdminForm(forms.ModelForm):
    """The no-reply timeout is optional in the form: left empty, it is off (0)."""

    class Meta:
        model = Topic
        fields = TOPIC_FIELDS

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Left empty, these are off (0) or the site's time zone.
        for name in ("reply_timeout_seconds", "offer_message_after_seconds", "timezone"):
            if name in self.fields:
                self.fields[name].required = False

    def clean_reply_timeout_seconds(self) -> int:
        return self.cleaned_data.get("reply_timeout_seconds") or 0

    def clean_offer_message_after_seconds(self) -> int:
        return self.cleaned_data.get("offer_message_after_seconds") or 0

    def clean_timezone(self) -> str:
        return (self.cleaned_data.get("timezone") or "").strip() or default_timezone()


class BusinessHoursInline(SupervisorsManage, admin.TabularInline):
    """A topic's opening intervals, in the topic's time zone; none at all: always open."""

    model = BusinessHours
    extra = 0
    fields = ["weekday", "opens", "closes"]
    ordering = ["weekday", "opens"]


@admin.register(Topic)
class TopicAdmin(SupervisorsManage, admin.ModelAdmin):
    form = TopicAdminForm
    inlines = [BusinessHoursInline]
    list_display = [*TOPIC_FIELDS, "business_hours_summary"]
    list_editable = [
        "is_active",
        "position",
        "amber_after_seconds",
        "red_after_seconds",
    ]
    fields = TOPIC_FIELDS
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "slug"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Topic]:
        # The week rides along in each row (one subquery), not a query per topic.
        return super().get_queryset(request).annotate(**{PACKED_HOURS: packed_hours("pk")})

    @admin.display(description="business hours")
    def business_hours_summary(self, topic: Topic) -> str:
        return week_summary(schedule_of(topic))


@admin.register(Customer)
class CustomerAdmin(SupervisorsMayRead, admin.ModelAdmin):
    list_display = ["name", "email", "consent_transcript", "consent_marketing", "created_at"]
    list_filter = ["consent_transcript", "consent_marketing"]
    search_fields = ["name", "email"]
    date_hierarchy = "created_at"


class TicketReplyInline(admin.TabularInline):
    model = TicketReply
    extra = 0
    can_delete = False
    fields = ["created_at", "author", "body", "sent_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Answers go through the console, which emails them.
        return False


@admin.register(Ticket)
class TicketAdmin(SupervisorsMayRead, admin.ModelAdmin):
    list_display = ["reference", "topic", "email", "status", "created_at", "answered_at"]
    list_filter = ["status", "topic", "created_at"]
    search_fields = ["reference", "email", "customer__name", "customer__email"]
    date_hierarchy = "created_at"
    list_select_related = ["topic"]
    inlines = [TicketReplyInline]
    fields = [
        "reference",
        "status",
        "topic",
        "customer",
        "email",
        "chat",
        "body",
        "created_at",
        "answered_at",
        "closed_at",
        "confirmation_sent_at",
    ]
    # Read-only: tickets change through the console (answers are emailed from there).
    readonly_fields = fields
    actions = ["export_csv"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Export CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> StreamingHttpResponse:
        columns = ["reference", "created_at", "topic__name", "email", "status", "answered_at"]
        return csv_response(
            filename="tickets.csv",
            header=["reference", "created", "topic", "email", "status", "answered"],
            rows=queryset.values_list(*columns).iterator(chunk_size=2000),
        )


# --- Knowledge base ---------------------------------------------------------------------------


class ArticleAdminForm(forms.ModelForm):
    class Meta:
        model = Article
        fields = ["title", "slug", "topic", "tags", "is_published", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 20, "class": "vLargeTextField"})}
        help_texts = {
            "body": "Markdown: headings, lists, **bold**, *italic*, `code`, > quotes and "
            "[links](https://…) to http, https or mailto addresses. HTML is shown as typed, "
            "images as their description.",
        }

    def clean_tags(self) -> str:
        return article_tags_normalise(self.cleaned_data.get("tags") or "")


@admin.register(Article)
class ArticleAdmin(SupervisorsManage, admin.ModelAdmin):
    form = ArticleAdminForm
    list_display = ["title", "slug", "topic", "is_published", "updated_at"]
    list_filter = ["topic", "is_published"]
    search_fields = ["title", "slug", "tags", "body"]
    list_select_related = ["topic"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["preview", "public_link", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "topic", "tags", "is_published", "body"]}),
        ("As customers see it", {"fields": ["public_link", "preview"]}),
        (None, {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description="Preview")
    def preview(self, obj: Article) -> str:
        if obj.pk is None:
            return "Save the article to see it rendered here."
        # article_html is the sanitised rendering (an allow-list of tags); format_html keeps
        # it as markup and escapes nothing else into it.
        return format_html('<div class="kb-article-preview">{}</div>', article_html(obj))

    @admin.display(description="Public page")
    def public_link(self, obj: Article) -> str:
        if obj.pk is None:
            return "-"
        url = reverse("help:article", kwargs={"slug": obj.slug})
        if not obj.is_published:
            return f"{url} (not published: customers get a 404)"
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url)


# --- Blocked customers --------------------------------------------------------------------------


class _BlockStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:  # type: ignore[type-arg]
        return [("active", "Active"), ("lifted", "Lifted")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[CustomerBlock]
    ) -> QuerySet[CustomerBlock]:
        if self.value() == "active":
            return queryset.filter(lifted_at__isnull=True)
        if self.value() == "lifted":
            return queryset.filter(lifted_at__isnull=False)
        return queryset


@admin.register(CustomerBlock)
class CustomerBlockAdmin(SupervisorsReadOnlyAdmin):
    """Supervisors review the blocks agents made from the console and lift them. Nobody adds or
    edits one here (the console makes them, with their chat); lifting keeps the record."""

    list_display = [
        "email",
        "browser",
        "address",
        "short_reason",
        "created_by",
        "created_at",
        "lifted",
    ]
    list_filter = [_BlockStateFilter, "created_at"]
    search_fields = ["email"]
    list_select_related = ["created_by", "lifted_by"]
    date_hierarchy = "created_at"
    actions = ["lift_selected"]
    fields = [
        "email",
        "browser_key",
        "ip_blocked_until",
        "reason",
        "chat",
        "created_by",
        "created_at",
        "lifted_at",
        "lifted_by",
    ]
    readonly_fields = fields

    @admin.action(description="Lift selected blocks", permissions=["supervise"])
    def lift_selected(self, request: HttpRequest, queryset: QuerySet[CustomerBlock]) -> None:
        # Through the service, one block at a time: it checks the role and locks the row.
        ids = list(queryset.filter(lifted_at__isnull=True).values_list("pk", flat=True))
        for block_id in ids:
            block_lift(block_id=block_id, by=request.user)
        skipped = queryset.count() - len(ids)
        text = f"Lifted {len(ids)} block{'s' if len(ids) != 1 else ''}."
        if skipped:
            text += f" {skipped} already lifted."
        self.message_user(request, text)

    @admin.display(description="browser")
    def browser(self, obj: CustomerBlock) -> str:
        # A prefix tells two browsers apart at a glance; the whole key is on the block's page.
        return f"{obj.browser_key[:8]}…" if obj.browser_key else "-"

    @admin.display(description="address blocked until", ordering="ip_blocked_until")
    def address(self, obj: CustomerBlock) -> str:
        if obj.ip_blocked_until is None:
            return "-"
        until = timezone.localtime(obj.ip_blocked_until).strftime("%Y-%m-%d %H:%M")
        return until if obj.ip_blocked_until > timezone.now() else f"{until} (over)"

    @admin.display(description="reason")
    def short_reason(self, obj: CustomerBlock) -> str:
        return obj.reason if len(obj.reason) <= 80 else f"{obj.reason[:79]}…"

    @admin.display(description="lifted", ordering="lifted_at")
    def lifted(self, obj: CustomerBlock) -> str:
        if obj.lifted_at is None:
            return "-"
        when = timezone.localtime(obj.lifted_at).strftime("%Y-%m-%d %H:%M")
        return f"{when} by {obj.lifted_by}" if obj.lifted_by else when


# API tokens, webhooks, widget identity secrets: their admins live in their own modules.
from helpdesk import identity_admin, token_admin, webhook_admin  # noqa: E402, F401
