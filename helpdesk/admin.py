from django import forms
from django.contrib import admin

from helpdesk.models import Customer, Topic

TOPIC_FIELDS = [
    "name",
    "slug",
    "is_active",
    "position",
    "amber_after_seconds",
    "red_after_seconds",
    "reply_timeout_seconds",
]


class TopicAdminForm(forms.ModelForm):
    """The no-reply timeout is optional in the form: left empty, it is off (0)."""

    class Meta:
        model = Topic
        fields = TOPIC_FIELDS

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if "reply_timeout_seconds" in self.fields:
            self.fields["reply_timeout_seconds"].required = False

    def clean_reply_timeout_seconds(self) -> int:
        return self.cleaned_data.get("reply_timeout_seconds") or 0


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    form = TopicAdminForm
    list_display = TOPIC_FIELDS
    list_editable = [
        "is_active",
        "position",
        "amber_after_seconds",
        "red_after_seconds",
    ]
    fields = TOPIC_FIELDS
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "slug"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "consent_transcript", "consent_marketing", "created_at"]
    list_filter = ["consent_transcript", "consent_marketing"]
    search_fields = ["name", "email"]
    date_hierarchy = "created_at"
