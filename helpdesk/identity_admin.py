"""Identity secrets in the admin: made here, copied into the site's server configuration,
revoked when rotated (docs/widget-identity.md)."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from helpdesk.admin_roles import SupervisorsMayRead, request_is_supervisor
from helpdesk.identity import identity_secret_create, identity_secret_revoke
from helpdesk.models import IdentitySecret


class IdentitySecretForm(forms.ModelForm):
    class Meta:
        model = IdentitySecret
        fields = ["name"]


@admin.register(IdentitySecret)
class IdentitySecretAdmin(SupervisorsMayRead, admin.ModelAdmin):
    form = IdentitySecretForm
    list_display = ["name", "created_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    readonly_fields = ["secret", "created_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request_is_supervisor(request) or super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request_is_supervisor(request) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked, never deleted: which chats it verified stays explainable

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["name"] if obj is None else ["name", *self.readonly_fields]

    def save_model(
        self, request: HttpRequest, obj: IdentitySecret, form: Any, change: bool
    ) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        made = identity_secret_create(name=form.cleaned_data["name"])
        obj.pk = made.pk
        obj.secret, obj.created_at = made.secret, made.created_at
        messages.info(
            request,
            "Put this secret in your site's server configuration (never in a page): "
            "it signs your logged-in customers' ids.",
        )

    @admin.action(description="Revoke the selected secrets")
    def revoke(self, request: HttpRequest, queryset: QuerySet[IdentitySecret]) -> None:
        ids = list(queryset.filter(revoked_at__isnull=True).values_list("pk", flat=True))
        for secret_id in ids:
            identity_secret_revoke(secret_id=secret_id)
        self.message_user(request, f"{len(ids)} secret(s) revoked.", messages.SUCCESS)
