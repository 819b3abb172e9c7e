from collections import Counter
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import (
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce, Now
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from chat.errors import ChatClosed
from chat.models import Chat, ChatEvent, ChatNote, Message
from chat.services import Participant, chat_assign, chat_close, chat_hand_over
from helpdesk.admin_roles import SupervisorsMayRead, SupervisorsReadOnlyAdmin
from helpdesk.admin_tools import action_summary, csv_response
from helpdesk.errors import DomainError
from helpdesk.roles import AGENTS_GROUP


class MessageInline(SupervisorsMayRead, admin.TabularInline):
    model = Message
    fields = ["seq", "kind", "author", "body", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["seq"]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class ChatNoteInline(SupervisorsMayRead, admin.TabularInline):
    """The agents' internal notes: staff only, read here as written (the admin escapes them)."""

    model = ChatNote
    fields = ["created_at", "author", "body"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Notes are added from the console, through chat.services.note_add.
        return False


class ChatEventInline(SupervisorsMayRead, admin.TabularInline):
    model = ChatEvent
    fields = ["kind", "actor", "data", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


def _agents() -> QuerySet[Any]:
    return get_user_model().objects.filter(is_active=True, groups__name=AGENTS_GROUP)


class _AgentFilter(admin.SimpleListFilter):
    """Agents only (not every user of the site), without scanning the chats for their ids."""

    title = "agent"
    parameter_name = "agent"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            (str(user.pk), user.get_full_name() or user.get_username())
            for user in _agents().order_by("first_name", "username")
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Chat]) -> QuerySet[Chat]:
        value = self.value()
        # Hostile values (?agent=x) list nothing rather than raise.
        if value is None:
            return queryset
        return queryset.filter(agent_id=int(value)) if value.isdigit() else queryset.none()


class _HasRatingFilter(admin.SimpleListFilter):
    title = "rating"
    parameter_name = "rated"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Rated"), ("no", "Not rated")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Chat]) -> QuerySet[Chat]:
        if self.value() in ("yes", "no"):
            return queryset.filter(rating__isnull=self.value() == "no")
        return queryset


def _seconds(value: timedelta | None) -> int | None:
    return None if value is None else max(0, int(value.total_seconds()))


def _human(value: timedelta | None) -> str:
    seconds = _seconds(value)
    if seconds is None:
        return "—"
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


class ReassignForm(forms.Form):
    agent = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(),
        help_text="Online agents only. Active chats are handed over with the whole history; "
        "queued chats are assigned.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Online is what the agent chose in the console (routing's profile), read by name:
        # chat sits below routing and imports nothing of it.
        field = self.fields["agent"]
        field.queryset = (  # type: ignore[attr-defined]
            _agents().filter(agent_profile__status="online").order_by("first_name", "username")
        )
        field.label_from_instance = (  # type: ignore[attr-defined]
            lambda user: f"{user.get_full_name() or user.get_username()} ({user.get_username()})"
        )


CSV_HEADER = [
    "id",
    "created",
    "topic",
    "customer name",
    "customer email",
    "agent",
    "status",
    "close reason",
    "wait seconds",
    "duration seconds",
    "rating",
    "transfers",
]


@admin.register(Chat)
class ChatAdmin(SupervisorsReadOnlyAdmin):
    # Read-only, supervisors included: every state change goes through chat.services, which
    # the actions below call one chat at a time (each service call is its own transaction).
    list_display = [
        "id",
        "customer",
        "topic",
        "agent",
        "status",
        "wait",
        "duration",
        # Not "rating": that is the reverse one-to-one, which the changelist would read per row.
        "csat",
        "transfers",
        "created_at",
    ]
    list_filter = ["status", "topic", _AgentFilter, "close_reason", _HasRatingFilter]
    search_fields = ["=id", "customer__name", "customer__email", "agent__username"]
    date_hierarchy = "created_at"
    list_select_related = ["customer", "topic", "agent"]
    # The primary key follows creation and is indexed: newest first without a sort of the table.
    ordering = ["-pk"]
    readonly_fields = [
        *(f.name for f in Chat._meta.fields if f.name != "customer_key"),
        "transcript_downloads",
    ]
    exclude = ["customer_key"]
    inlines = [ChatEventInline, ChatNoteInline, MessageInline]
    actions = ["close_selected", "reassign_selected", "export_csv"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Chat]:
        first_assigned = (
            ChatEvent.objects.filter(chat=OuterRef("pk"), kind=ChatEvent.Kind.ASSIGNED)
            .order_by("created_at")
            .values("created_at")[:1]
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                # Until the first answer, or the close of a chat nobody answered, or now.
                wait_time=ExpressionWrapper(
                    Coalesce("first_agent_response_at", "closed_at", Now()) - F("created_at"),
                    output_field=DurationField(),
                ),
                # From the first assignment (assigned_at restarts at each hand-over) to the close.
                handling_time=ExpressionWrapper(
                    F("closed_at") - Subquery(first_assigned, output_field=DateTimeField()),
                    output_field=DurationField(),
                ),
                # transcripts owns Rating; the reverse one-to-one is read by name, as this
                # admin links transcripts' downloads by URL name: chat imports nothing of it.
                rating_score=F("rating__score"),
            )
        )

    @admin.display(description="wait", ordering="wait_time")
    def wait(self, chat: Chat) -> str:
        return _human(chat.wait_time)  # type: ignore[attr-defined]

    @admin.display(description="duration", ordering="handling_time")
    def duration(self, chat: Chat) -> str:
        return _human(chat.handling_time)  # type: ignore[attr-defined]

    @admin.display(description="rating", ordering="rating_score")
    def csat(self, chat: Chat) -> str:
        score = chat.rating_score  # type: ignore[attr-defined]
        return "—" if score is None else f"{score}/5"

    @admin.display(description="transfers", ordering="transfer_count")
    def transfers(self, chat: Chat) -> int:
        return chat.transfer_count

    @admin.display(description="transcript")
    def transcript_downloads(self, chat: Chat) -> str:
        # Linked by URL name only: the downloads (the customer's email, no internal notes) are
        # the transcripts app's, which checks access itself; chat imports nothing of it.
        return format_html(
            '<a href="{}">Download HTML</a> / <a href="{}">text</a>',
            reverse("transcripts:download-html", args=[chat.pk]),
            reverse("transcripts:download-text", args=[chat.pk]),
        )

    # --- Actions -----------------------------------------------------------------------------

    @admin.action(description="Close selected chats", permissions=["supervise"])
    def close_selected(self, request: HttpRequest, queryset: QuerySet[Chat]) -> None:
        by = Participant.agent(request.user)  # supervisors may close any chat
        done, skipped = 0, Counter[str]()
        for chat_id in queryset.values_list("pk", flat=True):
            try:
                chat_close(chat_id=chat_id, by=by)
            except ChatClosed:
                skipped["already closed"] += 1
            except DomainError as error:
                skipped[error.code] += 1
            else:
                done += 1
        self._summary(request, action_summary("closed", done, skipped), skipped)

    @admin.action(description="Reassign to…", permissions=["supervise"])
    def reassign_selected(
        self, request: HttpRequest, queryset: QuerySet[Chat]
    ) -> HttpResponse | None:
        form = ReassignForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            # First visit (or a bad choice): the intermediate page, posting back to this action.
            return TemplateResponse(
                request,
                "admin/chat/chat/reassign.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Reassign chats",
                    "opts": self.opts,
                    "form": form,
                    "chats": queryset,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        agent = form.cleaned_data["agent"]
        done, skipped = 0, Counter[str]()
        for chat_id, status, current_id in queryset.values_list("pk", "status", "agent_id"):
            reason = self._reassign_one(request, chat_id, status, current_id, agent)
            if reason:
                skipped[reason] += 1
            else:
                done += 1
        self._summary(request, action_summary("reassigned", done, skipped), skipped)
        return None

    def _reassign_one(
        self,
        request: HttpRequest,
        chat_id: int,
        status: str,
        current_id: int | None,
        agent: AbstractBaseUser,
    ) -> str:
        """Why the chat was not reassigned ("" when it was)."""
        if status == Chat.Status.CLOSED:
            return "already closed"
        if current_id == agent.pk:
            return "already with that agent"
        try:
            if status == Chat.Status.QUEUED:
                chat_assign(chat_id=chat_id, agent=agent, assigned_by=request.user)
            else:
                supervisor = request.user
                name = supervisor.get_full_name() or supervisor.get_username()  # type: ignore[union-attr]
                chat_hand_over(
                    chat_id=chat_id,
                    from_agent=get_user_model().objects.get(pk=current_id),
                    to_agent=agent,
                    note=f"Reassigned by {name}",
                )
        except ChatClosed:
            return "already closed"
        except DomainError as error:
            # The stable code (over_capacity, already_assigned, ...): its detail speaks to the
            # agent ("You already have ..."), not to the supervisor.
            return error.code
        return ""

    @admin.action(description="Export CSV", permissions=["supervise"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Chat]) -> StreamingHttpResponse:
        rows = queryset.values_list(
            "pk",
            "created_at",
            "topic__name",
            "customer__name",
            "customer__email",
            "agent__username",
            "status",
            "close_reason",
            "wait_time",
            "handling_time",
            "rating_score",
            "transfer_count",
        ).iterator(chunk_size=2000)
        return csv_response(
            filename="chats.csv",
            header=CSV_HEADER,
            rows=((*row[:8], _seconds(row[8]), _seconds(row[9]), *row[10:]) for row in rows),
        )

    def _summary(self, request: HttpRequest, text: str, skipped: Counter[str]) -> None:
        self.message_user(request, text, messages.WARNING if skipped else messages.SUCCESS)
