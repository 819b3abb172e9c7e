"""Demo canned responses, tone rules and answer bots for `make run`.

Idempotent: what exists (same shortcut among the shared responses, same phrase among the tone
rules, a topic's bot row) is left as it is, so supervisors' edits survive a rerun (a bot
switched off stays off). Nothing secret is created, so it may run with DEBUG off too.

The answer bot is switched on for seed_demo's topics that have a published knowledge base
article (docs/knowledge-base.md, "Answer bot"): run it after seed_demo and
helpdesk_seed_articles (the Makefile's order); a topic without articles gets no bot, since it
would have nothing to offer. Only the demo topics: a real topic's bot is a supervisor's choice.
"""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models.functions import Lower

from cannedresponses.models import CannedResponse, ToneRule, TopicBot
from helpdesk.management.commands.seed_demo import TOPICS as DEMO_TOPICS
from helpdesk.models import Topic

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
    help = (
        "Create demo shared canned responses and tone rules, and switch the answer bot on for "
        "the demo topics with articles (idempotent)."
    )

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
        bots = self._bots()
        if not options["quiet"]:
            self.stdout.write(f"Canned responses demo data ready ({created} created).")
            if bots:
                self.stdout.write(f"Answer bot on for: {', '.join(bots)}.")
            else:
                self.stdout.write(
                    "No answer bot: no demo topic has articles yet (run helpdesk_seed_articles "
                    "first, then this again)."
                )

    def _bots(self) -> list[str]:
        """Switch the bot on for the demo topics with a published article; the names of the
        topics whose bot is on (already or now)."""
        topics = (
            Topic.objects.filter(
                slug__in=[slug for slug, _name in DEMO_TOPICS], articles__is_published=True
            )
            .distinct()
            .order_by("position", "name")
        )
        names = []
        for topic in topics:
            bot, _created = TopicBot.objects.get_or_create(
                topic=topic, defaults={"is_enabled": True}
            )
            if bot.is_enabled:
                names.append(topic.name)
        return names
