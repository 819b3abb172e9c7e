"""typing_audience: a typing notice goes to the other side of an open chat, never back."""

import pytest

from chat import services
from chat.errors import ChatClosed, ChatNotFound, NotYourChat
from chat.models import Message
from chat.services import Participant
from tests.factories import AgentFactory
from tests.helpers import active_chat, start_chat

pytestmark = pytest.mark.django_db

CUSTOMER = Participant.customer()


def audience(chat, sender: Participant) -> list[str]:
    return services.typing_audience(chat_id=chat.pk, sender=sender)


def test_the_customer_typing_reaches_only_their_agent() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    assert audience(chat, CUSTOMER) == [f"agent.{agent.pk}"]


def test_the_agent_typing_reaches_only_the_customer() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    assert audience(chat, Participant.agent(agent)) == [f"chat.{chat.pk}"]


def test_a_customer_typing_in_the_queue_reaches_nobody() -> None:
    assert audience(start_chat(), CUSTOMER) == []


@pytest.mark.parametrize("state", ["queued", "someone-elses"])
def test_an_agent_cannot_type_into_a_chat_that_is_not_theirs(state: str) -> None:
    chat = start_chat() if state == "queued" else active_chat()
    with pytest.raises(NotYourChat):
        audience(chat, Participant.agent(AgentFactory()))


def test_nobody_types_into_a_closed_chat() -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    services.chat_close(chat_id=chat.pk, by=CUSTOMER)
    for sender in (CUSTOMER, Participant.agent(agent)):
        with pytest.raises(ChatClosed):
            audience(chat, sender)


def test_typing_into_a_chat_that_does_not_exist_is_chat_not_found() -> None:
    with pytest.raises(ChatNotFound):
        services.typing_audience(chat_id=555_555, sender=CUSTOMER)


def test_typing_is_not_stored_nor_published(published, signals, committed) -> None:
    agent = AgentFactory()
    chat = active_chat(agent=agent)
    count = Message.objects.count()
    with committed() as callbacks:
        audience(chat, CUSTOMER)
        audience(chat, Participant.agent(agent))
    assert callbacks == [] and published.calls == [] and signals.sent == []
    assert Message.objects.count() == count
