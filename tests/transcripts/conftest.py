"""Fixtures for transcripts: eager Celery, in-memory mail, and closed chats built through the
real services."""

from collections.abc import Callable
from typing import Any

import pytest

from chat import services as chat_services
from chat.models import Chat
from chat.services import Participant
from tests.helpers import active_chat


@pytest.fixture(autouse=True)
def _transcript_defaults(settings: Any) -> None:
    # The factories hash a password for every user; PBKDF2 costs ~0.4 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.HELPDESK_BRAND_NAME = "Acme Help"
    settings.DEFAULT_FROM_EMAIL = "Acme Help <support@acme.test>"
    settings.TIME_ZONE = "UTC"


@pytest.fixture
def closed_chat(
    django_capture_on_commit_callbacks: Any,
) -> Callable[..., Chat]:
    """Start, assign and close a chat; on-commit callbacks (the transcript task) run."""

    def make(**kwargs: Any) -> Chat:
        kwargs.setdefault("email", "ana@example.com")
        consent = kwargs.pop("consent_transcript", True)
        marketing = kwargs.pop("consent_marketing", False)
        tz = kwargs.pop("timezone", "")
        chat = active_chat(**kwargs)
        chat.customer.consent_transcript = consent and bool(chat.customer.email)
        chat.customer.consent_marketing = marketing and bool(chat.customer.email)
        chat.customer.timezone = tz
        chat.customer.save()
        with django_capture_on_commit_callbacks(execute=True):
            chat_services.chat_close(chat_id=chat.pk, by=Participant.customer())
        return Chat.objects.select_related("customer").get(pk=chat.pk)

    return make
