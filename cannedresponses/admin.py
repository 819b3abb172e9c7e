from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet, Sum
from django.http import HttpRequest

from cannedresponses import selectors, tone
from cannedresponses.models import (
    BotAnswer,
    BotAnswerArticle,
    CannedResponse,
    CannedResponseUse,
    ToneRule,
    TopicBot,
    TopicGreeting,
    normalize_shortcut,
)
from helpdesk.admin import TopicAdmin
from helpdesk.admin_roles import (
    SupervisorsManage,
    SupervisorsReadOnlyAdmin,
    request_is_supervisor,
)
from helpdesk.models import Topic


class CannedResponseForm(forms.ModelForm):
    class Meta:
        model = CannedResponse
        fields = ["title", "shortcut", "scope", "topic", "owner", "body", "is_active"]
        widgets = {"body": forms.Textarea(attrs={"rows": 6})}

    def clean_shortcut(self) -> str:
        # Normalised before the model validates it, as the services do ("/Greet" -> "greet").
        return normalize_shortcut(self.cleaned_data.get("shortcut") or "")


class CannedResponseUseInline(admin.TabularInline):
    model = CannedResponseUse
    extra = 0
    can_delete = False
    fields = ["agent", "count", "last_used_at"]
    readonly_fields = fields
    ordering = ["-count"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request_is_supervisor(request) or super().has_view_permission(request, obj)


@admin.register(CannedResponse)
class CannedResponseAdmin(SupervisorsManage, admin.ModelAdmin):
    """Shared and topic responses are managed here; personal ones are their agents' (read
    only here, except for superusers). The placeholder parser's problems show on the body."""

    form = CannedResponseForm
    inlines = [CannedResponseUseInline]
    list_display = ["shortcut", "title", "scope", "topic", "owner", "is_active", "total_uses"]
    list_filter = ["scope", "topic", "is_active"]
    search_fields = ["title", "shortcut", "body"]
    list_select_related = ["topic", "owner"]
    raw_id_fields = ["owner"]
    readonly_fields = ["created_by", "created_at", "updated_at"]
    actions = ["deactivate"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CannedResponse]:
        return super().get_queryset(request).annotate(total=Sum("uses__count"))

    @admin.display(description="uses", ordering="total")
    def total_uses(self, obj: CannedResponse) -> int:
        return getattr(obj, "total", None) or 0

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.scope == CannedResponse.Scope.PERSONAL:
            return bool(request.user.is_superuser)  # type: ignore[union-attr]
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.scope == CannedResponse.Scope.PERSONAL:
            return bool(request.user.is_superuser)  # type: ignore[union-attr]
        return super().has_delete_permission(request, obj)

    def save_model(
        self, request: HttpRequest, obj: CannedResponse, form: Any, change: bool
    ) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    @admin.action(description="Deactivate the selected responses")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[CannedResponse]) -> None:
        count = queryset.update(is_active=False)
        self.message_user(request, f"{count} responses deactivated.", messages.SUCCESS)


@admin.register(CannedResponseUse)
class CannedResponseUseAdmin(SupervisorsManage, admin.ModelAdmin):
    """How often each agent used each response. Written by the console only."""

    list_display = ["response", "agent", "count", "last_used_at"]
    list_filter = ["response__scope"]
    search_fields = ["response__shortcut", "response__title", "agent__username"]
    list_select_related = ["response", "agent"]
    ordering = ["-count"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ToneRule)
class ToneRuleAdmin(SupervisorsManage, admin.ModelAdmin):
    list_display = ["phrase", "kind", "note", "is_active", "updated_at"]
    list_filter = ["kind", "is_active"]
    list_editable = ["is_active"]
    search_fields = ["phrase", "note"]
    actions = ["deactivate"]

    @admin.action(description="Deactivate the selected rules")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[ToneRule]) -> None:
        count = queryset.update(is_active=False)
        # update() sends no signal: invalidate the compiled pattern here.
        transaction.on_commit(tone.invalidate)
        self.message_user(request, f"{count} rules deactivated.", messages.SUCCESS)


@admin.register(TopicGreeting)
class TopicGreetingAdmin(SupervisorsManage, admin.ModelAdmin):
    """Per topic, whether a chat gets the automatic /greet message when first assigned. A
    topic without a row is greeted: add one with "enabled" off to switch it off."""

    list_display = ["topic", "enabled"]
    list_editable = ["enabled"]
    list_filter = ["enabled"]
    list_select_related = ["topic"]
    search_fields = ["topic__name", "topic__slug"]


class GreetingTopicAdmin(TopicAdmin):
    """The topics list with whether new chats get the automatic greeting. helpdesk sits below
    cannedresponses and knows nothing of greetings, so this app registers the subclass in
    helpdesk's place (its admin module imports helpdesk's, which registers first)."""

    list_display = [*TopicAdmin.list_display, "greeting"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Topic]:
        return selectors.topics_with_greeting(super().get_queryset(request))

    @admin.display(description="automatic greeting")
    def greeting(self, topic: Topic) -> str:
        # The order of selectors.greeting_response_for: switched off, the topic's own, shared.
        if topic.greeting_off:  # type: ignore[attr-defined]
            return "off"
        if topic.greeting_own:  # type: ignore[attr-defined]
            return "on (the topic's /greet)"
        if topic.greeting_shared:  # type: ignore[attr-defined]
            return "on (the shared /greet)"
        return "off (no /greet response)"


admin.site.unregister(Topic)
admin.site.register(Topic, GreetingTopicAdmin)


# --- The answer bot (docs/knowledge-base.md, "Answer bot") ----------------------------------------


@admin.register(TopicBot)
class TopicBotAdmin(SupervisorsManage, admin.ModelAdmin):
    """Per topic, whether the answer bot offers articles to customers waiting in the queue.
    A topic without a row has no bot."""

    list_display = ["topic", "is_enabled", "max_articles", "min_match"]
    list_editable = ["is_enabled", "max_articles", "min_match"]
    list_filter = ["is_enabled"]
    list_select_related = ["topic"]
    search_fields = ["topic__name", "topic__slug"]


class BotAnswerArticleInline(admin.TabularInline):
    model = BotAnswerArticle
    extra = 0
    can_delete = False
    fields = ["position", "title", "article"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request_is_supervisor(request) or super().has_view_permission(request, obj)


@admin.register(BotAnswer)
class BotAnswerAdmin(SupervisorsReadOnlyAdmin):
    """What the bot answered and what customers said of it: filter on "Did not answer it" to
    find the articles to improve. Written by the bot only."""

    list_display = ["created_at", "chat", "question", "articles", "feedback"]
    list_filter = ["feedback", ("chat__topic", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["question", "offered__title"]
    list_select_related = ["chat"]
    readonly_fields = ["chat", "message", "question_seq", "question", "feedback", "feedback_at"]
    fields = readonly_fields
    inlines = [BotAnswerArticleInline]
    date_hierarchy = "created_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[BotAnswer]:
        # The offered titles of a page of answers in one more query, not one per row.
        return super().get_queryset(request).prefetch_related("offered")

    @admin.display(description="articles offered")
    def articles(self, answer: BotAnswer) -> str:
        # Plain text: the admin escapes it like any value (titles are typed by people).
        return " · ".join(item.title for item in answer.offered.all())
