from django.contrib import admin

from helpdesk.models import Customer, Topic


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "is_active",
        "position",
        "amber_after_seconds",
        "red_after_seconds",
    ]
    list_editable = ["is_active", "position", "amber_after_seconds", "red_after_seconds"]
    fields = ["name", "slug", "is_active", "position", "amber_after_seconds", "red_after_seconds"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "slug"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "consent_transcript", "consent_marketing", "created_at"]
    list_filter = ["consent_transcript", "consent_marketing"]
    search_fields = ["name", "email"]
    date_hierarchy = "created_at"
