"""API tokens in the admin: made through the service, shown once, revoked by an action."""

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from helpdesk.admin_roles import SupervisorsMayRead, request_is_supervisor
from helpdesk.api_tokens import api_token_create, api_token_revoke
from helpdesk.models import ApiToken
from helpdesk.roles import AGENTS_GROUP, SUPERVISORS_GROUP


class ApiTokenAddForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["name", "user", "scope", "requests_per_minute", "expires_at"]

    def __init__(self, *args: Any, request_user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        users = (
            get_user_model()
            .objects.filter(is_active=True)
            .filter(Q(groups__name=AGENTS_GROUP) | Q(groups__name=SUPERVISORS_GROUP))
            .distinct()
            .order_by("username")
        )
        if request_user is None or not request_user.is_superuser:
            # A token is its user's power: only a superuser hands out a superuser's.
            users = users.filter(is_superuser=False)
        self.fields["user"].queryset = users  # type: ignore[attr-defined]

    def clean_requests_per_minute(self) -> int:
        return _clean_rate(self.cleaned_data["requests_per_minute"])

    def clean_expires_at(self) -> datetime | None:
        expires_at: datetime | None = self.cleaned_data.get("expires_at")
        if expires_at is not None and expires_at <= timezone.now():
            # A token made expired would only ever answer token_expired.
            raise forms.ValidationError("Choose a moment in the future, or none.")
        return expires_at


class ApiTokenChangeForm(forms.ModelForm):
    """Name, rate and expiry stay editable; who it acts as and its scope never change (make a
    new token instead, so nobody's token quietly gains power)."""

    class Meta:
        model = ApiToken
        fields = ["name", "requests_per_minute", "expires_at"]

    def clean_requests_per_minute(self) -> int:
        # The model field alone allows 0, which would refuse every request with 429.
        return _clean_rate(self.cleaned_data["requests_per_minute"])


def _clean_rate(rate: int) -> int:
    if rate < 1:
        raise forms.ValidationError("At least one request a minute.")
    return rate


@admin.register(ApiToken)
class ApiTokenAdmin(SupervisorsMayRead, admin.ModelAdmin):
    list_display = [
        "name",
        "user",
        "scope",
        "token_start",
        "requests_per_minute",
        "created_at",
        "last_used_at",
        "expires_at",
        "state",
    ]
    list_filter = ["scope", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username", "user__email"]
    list_select_related = ["user"]
    readonly_fields = ["user", "scope", "token_start", "created_at", "created_by", "last_used_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request_is_supervisor(request) or super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request_is_supervisor(request) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked, never deleted: the record of who could read what

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        if obj is None:
            form = super().get_form(request, obj, form=ApiTokenAddForm, **kwargs)

            class Bound(form):  # type: ignore[valid-type,misc]
                def __init__(self, *args: Any, **kw: Any) -> None:
                    super().__init__(*args, request_user=request.user, **kw)

            return Bound
        return super().get_form(request, obj, form=ApiTokenChangeForm, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return list(ApiTokenAddForm.Meta.fields)
        return ["name", "requests_per_minute", "expires_at", *self.readonly_fields]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if obj is None else list(self.readonly_fields)

    @admin.display(description="Token")
    def token_start(self, obj: ApiToken) -> str:
        return f"hd_{obj.prefix}_…"

    @admin.display(description="State")
    def state(self, obj: ApiToken) -> str:
        if obj.revoked_at:
            return "revoked"
        if obj.expires_at is not None and obj.expires_at <= timezone.now():
            return "expired"
        return "active"

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        # The form already holds the service's rules (eligible users, scope, rate).
        token, raw = api_token_create(
            user=data["user"],
            name=data["name"],
            scope=data["scope"],
            created_by=request.user,
            requests_per_minute=data["requests_per_minute"],
            expires_at=data.get("expires_at"),
        )
        obj.pk = token.pk
        obj.__dict__.update({k: v for k, v in token.__dict__.items() if not k.startswith("_")})
        messages.warning(
            request,
            f"Copy this token now: it is shown only once. {raw}",
        )

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = 0
        for token_id in queryset.filter(revoked_at__isnull=True).values_list("pk", flat=True):
            api_token_revoke(token_id=token_id, by=request.user)
            count += 1
        self.message_user(request, f"{count} token(s) revoked.", messages.SUCCESS)
