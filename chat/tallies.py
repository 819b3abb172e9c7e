"""Reply tallies (chat.models.ReplyTally): counted as agents reply, rebuilt from the messages
when they must be (the migration that introduced them, a repair after a bulk import)."""

from collections.abc import Iterable

from django.db.models import Count, Q

from chat.models import TEMPLATED_ORIGINS, Message, ReplyTally

REBUILD_BATCH = 5000


def reply_tallies(messages: Iterable[Message]) -> list[tuple[int, int, int, int, int]]:
    """What new messages add to the reply tallies: (chat id, author id, replies, templated,
    tone-warned) per agent and chat (chat.message_store.tallies_count writes them)."""
    counts: dict[tuple[int, int], list[int]] = {}
    for message in messages:
        if message.kind != Message.Kind.AGENT or message.author_id is None:
            continue
        count = counts.setdefault((message.chat_id, message.author_id), [0, 0, 0])
        count[0] += 1
        count[1] += message.origin in TEMPLATED_ORIGINS
        count[2] += bool(message.tone_overrides)
    return [(chat_id, author_id, *count) for (chat_id, author_id), count in counts.items()]


def tallies_rebuild(
    *,
    chat_ids: Iterable[int] | None = None,
    message_model: type[Message] = Message,
    tally_model: type[ReplyTally] = ReplyTally,
) -> int:
    """Recount the tallies of these chats (every chat when None) from their messages, in one
    grouped query and batched inserts; returns the number of tallies written. A migration
    passes its historical models."""
    messages = message_model.objects.filter(kind=Message.Kind.AGENT, author__isnull=False)
    tallies = tally_model.objects.all()
    if chat_ids is not None:
        chat_ids = list(chat_ids)
        messages = messages.filter(chat_id__in=chat_ids)
        tallies = tallies.filter(chat_id__in=chat_ids)
    tallies.delete()
    rows = (
        messages.values("chat_id", "author_id")
        .order_by()
        .annotate(
            replies=Count("id"),
            templated=Count("id", filter=Q(origin__in=TEMPLATED_ORIGINS)),
            # `tone_overrides=[]` compares JSON on SQLite and PostgreSQL alike.
            tone_warned=Count("id", filter=~Q(tone_overrides=[])),
        )
    )
    written = 0
    batch: list[ReplyTally] = []
    for row in rows.iterator(chunk_size=REBUILD_BATCH):
        batch.append(
            tally_model(
                chat_id=row["chat_id"],
                author_id=row["author_id"],
                replies=row["replies"],
                templated_replies=row["templated"],
                tone_warned_replies=row["tone_warned"],
            )
        )
        if len(batch) >= REBUILD_BATCH:
            tally_model.objects.bulk_create(batch)
            written += len(batch)
            batch = []
    tally_model.objects.bulk_create(batch)
    return written + len(batch)
