"""Build realistic state through the real services (as the product does)."""

from typing import Any

from chat import services
from chat.models import Chat
from chat.tokens import customer_token_make
from tests.factories import AgentFactory, TopicFactory


def start_chat(
    *,
    topic: Any = None,
    name: str = "Ana Lima",
    message: str = "Where is my parcel?",
    email: str = "ana@example.com",
) -> Chat:
    return services.chat_start(
        topic=topic or TopicFactory(), name=name, email=email, first_message=message
    )


def active_chat(*, agent: Any = None, **kwargs: Any) -> Chat:
    chat = start_chat(**kwargs)
    return services.chat_assign(chat_id=chat.pk, agent=agent or AgentFactory())


def token_for(chat: Chat) -> str:
    return customer_token_make(chat_id=chat.pk, customer_key=chat.customer_key)
