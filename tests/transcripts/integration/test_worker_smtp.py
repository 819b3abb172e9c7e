"""A real Celery worker on the Redis broker and a real SMTP server on loopback: closing a chat
delivers its transcript exactly once."""

import subprocess
import time

import pytest

from chat import services as chat_services
from chat.services import Participant
from tests.helpers import active_chat
from tests.transcripts.integration.conftest import Inbox, wait_for
from transcripts.models import Delivery

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_closing_a_chat_delivers_one_transcript(
    worker: subprocess.Popen[bytes], smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    chat = active_chat(email="ana@example.com")
    chat.customer.consent_transcript = True
    chat.customer.save()

    chat_services.chat_close(chat_id=chat.pk, by=Participant.customer())

    wait_for(
        lambda: Delivery.objects.filter(chat=chat, status=Delivery.Status.SENT).exists(),
        "the transcript to be sent",
    )
    delivery = Delivery.objects.get(chat=chat)
    assert len(inbox.messages) == 1
    assert delivery.message_id.encode() in inbox.messages[0]
    assert delivery.attempts == 1
    # Nothing else arrives (a duplicate would come within the worker's next poll).
    time.sleep(1)
    assert len(inbox.messages) == 1
