"""Demo knowledge base articles for `make run`.

Idempotent: an article whose slug exists is left as it is, so supervisors' edits survive a
rerun. Topics are looked up by slug (seed_demo's); a missing topic leaves the article without
one. Nothing secret is created, so it may run with DEBUG off too.
"""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from helpdesk import services
from helpdesk.models import Article, Topic

# (slug, title, topic slug, tags, markdown body)
ARTICLES = [
    (
        "returns-within-30-days",
        "How to return an item",
        "returns",
        "return, refund, exchange, label",
        """You can return any item within **30 days** of delivery, for a refund or an exchange.

## Before you send it

1. Make sure the item is unused and in its original packaging.
2. Print the prepaid return label from your order confirmation email.
3. Drop the parcel at any post office and keep the receipt.

## When you get your money back

We refund to the card you paid with within *5 working days* of receiving the parcel.
Questions? Write to [returns@example.com](mailto:returns@example.com).
""",
    ),
    (
        "invoice-and-vat",
        "Getting an invoice with VAT",
        "billing",
        "invoice, vat, receipt, company",
        """Every order comes with an invoice showing the VAT, sent by email when it ships.

## Company invoices

Add your company name and VAT number at checkout, under *Billing details*. For an order
already placed, reply to the order email with both and we send a corrected invoice.

> Invoices can only be changed in the month they were issued.
""",
    ),
    (
        "track-your-parcel",
        "Where is my parcel?",
        "product-questions",
        "delivery, tracking, parcel, shipping",
        """Most parcels arrive within **2 to 4 working days**.

- Your tracking link is in the shipping email (check the spam folder too).
- Tracking can take up to 24 hours to show the first scan.
- Still nothing after 7 days? Chat with us and we open an investigation with the carrier.

See the carrier's [delivery FAQ](https://www.example.com/delivery) for opening hours of
pick-up points.
""",
    ),
]


class Command(BaseCommand):
    help = "Create three demo knowledge base articles (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--quiet", action="store_true", help="Print nothing.")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        existing = set(
            Article.objects.filter(slug__in=[row[0] for row in ARTICLES]).values_list(
                "slug", flat=True
            )
        )
        topics = {topic.slug: topic for topic in Topic.objects.all()}
        created = 0
        for slug, title, topic_slug, tags, body in ARTICLES:
            if slug in existing:
                continue
            services.article_create(
                title=title, slug=slug, body=body, topic=topics.get(topic_slug), tags=tags
            )
            created += 1
        if not options["quiet"]:
            self.stdout.write(f"Knowledge base demo articles ready ({created} created).")
