"""Demo canned responses and tone rules for `make run`.

Idempotent: what exists (same shortcut among the shared responses, same phrase among the tone
rules) is left as it is, so supervisors' edits survive a rerun. Nothing secret is created, so
it may run with DEBUG off too.
"""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models.functions import Lower

from cannedresponses.models import CannedResponse, ToneRule

# (shortcut, title, body)
RESPONSES = [
    (
        "greet",
        "Greeting",
        "Hi {customer.first_name|there}, I'm {agent.first_name|your agent}. How can I help?",
    ),
    (
        "hold",
        "Hold on",
        "Thanks, {customer.first_name|there}. Let me check that for you; I'll be back in a moment.",
    ),
    (
        "order",
        "Order status",
        "Let me look up order {ask:Order number} for you, {customer.first_name|there}.",
    ),
    (
        "bye",
        "Goodbye",
        "Is there anything else I can do for you? Thanks for contacting {brand}!",
    ),
]
# (phrase, kind, note)
TONE_RULES = [
    ("lol", ToneRule.Kind.WORD, "Keep it professional: no chat slang."),
    ("idk", ToneRule.Kind.ACRONYM, 'Say "I don\'t know yet, let me check".'),
    ("asap", ToneRule.Kind.ACRONYM, 'Give a time if you can: "within the hour".'),
    ("no worries", ToneRule.Kind.PHRASE, 'Say "You\'re welcome" or "Happy to help".'),
    ("calm down", ToneRule.Kind.PHRASE, 'Acknowledge the feeling instead: "I understand".'),
    ("obviously", ToneRule.Kind.WORD, "It may not be obvious to the customer."),
]


class Command(BaseCommand):
    help = "Create demo shared canned responses and tone rules (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--quiet", action="store_true", help="Print nothing.")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        created = 0
        for shortcut, title, body in RESPONSES:
            if CannedResponse.objects.filter(
                scope=CannedResponse.Scope.SHARED, shortcut=shortcut
            ).exists():
                continue
            response = CannedResponse(
                title=title, shortcut=shortcut, body=body, scope=CannedResponse.Scope.SHARED
            )
            response.full_clean()
            response.save()
            created += 1
        existing = set(ToneRule.objects.annotate(low=Lower("phrase")).values_list("low", flat=True))
        for phrase, kind, note in TONE_RULES:
            if phrase.lower() in existing:
                continue
            rule = ToneRule(phrase=phrase, kind=kind, note=note)
            rule.full_clean()
            rule.save()
            created += 1
        if not options["quiet"]:
            self.stdout.write(f"Canned responses demo data ready ({created} created).")
