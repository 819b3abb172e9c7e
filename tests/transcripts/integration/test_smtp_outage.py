"""With the SMTP server down the send task retries (with backoff) and delivers once it is back:
exactly one message, and the failed attempts counted on the delivery."""

import subprocess
import time
from collections.abc import Callable

import pytest

from chat import services as chat_services
from chat.services import Participant
from tests.helpers import active_chat
from tests.transcripts.integration.conftest import Inbox, wait_for
from transcripts.models import Delivery

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_task_retries_while_smtp_is_down_and_delivers_once_it_is_back(
    worker: subprocess.Popen[bytes], smtp_server: Callable[[], Inbox]
) -> None:
    chat = active_chat(email="ana@example.com")
    chat.customer.consent_transcript = True
    chat.customer.save()

    chat_services.chat_close(chat_id=chat.pk, by=Participant.customer())

    # Nothing listens on the SMTP port yet: the first attempt fails and is recorded.
    wait_for(
        lambda: Delivery.objects.filter(chat=chat, attempts__gte=1).exists(),
        "a failed attempt to be recorded",
    )
    assert Delivery.objects.get(chat=chat).status == Delivery.Status.PENDING
    inbox = smtp_server()

    wait_for(
        lambda: Delivery.objects.filter(chat=chat, status=Delivery.Status.SENT).exists(),
        "the transcript to be sent once SMTP is back",
    )
    delivery = Delivery.objects.get(chat=chat)
    assert delivery.attempts >= 2
    assert "failed: ConnectionRefusedError" in delivery.last_error
    assert len(inbox.messages) == 1
    assert delivery.message_id.encode() in inbox.messages[0]
    # No second copy follows (a duplicate would come within the worker's next poll).
    time.sleep(1)
    assert len(inbox.messages) == 1
