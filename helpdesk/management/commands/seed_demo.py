"""Demo data for `make run`: the four topics, one agent and one supervisor.

Idempotent; refuses to run with DEBUG off, because the demo passwords are public.
"""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from helpdesk.identity import DEMO_IDENTITY_SECRET, identity_secret_create
from helpdesk.models import IdentitySecret, Topic
from helpdesk.roles import AGENTS_GROUP, SUPERVISORS_GROUP

TOPICS = [
    ("returns", "Returns"),
    ("billing", "Billing"),
    ("complaints", "Complaints"),
    ("product-questions", "Product questions"),
]
# (username, password, first name, groups, is_staff, is_superuser)
DEMO_USERS = [
    ("agent", "agent-demo-pass", "Sam", [AGENTS_GROUP], False, False),
    ("supervisor", "supervisor-demo-pass", "Maria", [AGENTS_GROUP, SUPERVISORS_GROUP], True, True),
]


class Command(BaseCommand):
    help = "Create demo topics and staff users (development only)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--quiet", action="store_true", help="Print nothing.")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo creates users with public passwords: DEBUG only.")
        for position, (slug, name) in enumerate(TOPICS):
            Topic.objects.update_or_create(slug=slug, defaults={"name": name, "position": position})
        user_model = get_user_model()
        for username, password, first_name, groups, is_staff, is_superuser in DEMO_USERS:
            user, _ = user_model.objects.get_or_create(username=username)
            user.first_name = first_name
            user.is_staff = is_staff
            user.is_superuser = is_superuser
            user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get_or_create(name=name)[0] for name in groups])
        # The widget demo's "signed in" shop signs its customer with this (widget identity).
        if not IdentitySecret.objects.filter(name=DEMO_IDENTITY_SECRET).exists():
            identity_secret_create(name=DEMO_IDENTITY_SECRET)
        if not options["quiet"]:
            self.stdout.write("Demo data ready. Staff logins (development only):")
            for username, password, _first, groups, _staff, _su in DEMO_USERS:
                self.stdout.write(
                    f"  {username:<11} password: {password:<22} ({', '.join(groups)})"
                )
