"""Demo invitation rule for `make run`: the widget demo page (/widget-demo/) invites the visitor
to chat about product questions after 10 seconds, when an agent is online (docs/invitations.md).

Idempotent: a rule of the same name is left as it is, so supervisors' edits survive a rerun.
Run it after seed_demo (it needs the demo topics). Nothing secret is created.
"""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from helpdesk.models import Topic
from routing.models import InvitationRule

RULE_NAME = "Demo: shop page"
TOPIC_SLUG = "product-questions"


class Command(BaseCommand):
    help = "Create the demo invitation rule of the widget demo page (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--quiet", action="store_true", help="Print nothing.")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        topic = Topic.objects.filter(slug=TOPIC_SLUG).first() or Topic.objects.first()
        if topic is None:
            if not options["quiet"]:
                self.stdout.write("No topic yet: run seed_demo first. No invitation rule made.")
            return
        rule, created = InvitationRule.objects.get_or_create(
            name=RULE_NAME,
            defaults={
                "topic": topic,
                "url_patterns": "/widget-demo/*",
                "min_seconds_on_page": 10,
                "text": "Questions about sizes or materials? We're online and happy to help.",
                "cap_hours": 1,
                "priority": 10,
            },
        )
        if not options["quiet"]:
            state = "created" if created else "already there"
            self.stdout.write(
                f"Invitation rule “{rule.name}” {state}: /widget-demo/ invites after "
                f"{rule.min_seconds_on_page} s while an agent is online."
            )
