"""Reads the answer bot's tests share."""

from chat.models import Chat, Message


def bot_messages(chat: Chat) -> list[Message]:
    return list(Message.objects.filter(chat_id=chat.pk, kind=Message.Kind.BOT).order_by("seq"))


def offered_titles(message: Message) -> list[str]:
    return [item["title"] for item in message.data["articles"]]
