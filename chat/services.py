"""Every state change of a chat.

Each service runs in one transaction, locks the chat row before it reads the chat's state,
checks the transition against `chat.states`, writes, records a ChatEvent, and publishes frames
and domain signals only after commit (`chat.events`).
"""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from django.contrib.auth.models import AbstractBaseUser
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from chat import events, message_store, protocol
from chat.errors import (
    BodyEmpty,
    BodyInvalid,
    BodyTooLong,
    ChatAlreadyAssigned,
    ChatClosed,
    ChatNotFound,
    ClientMessageIdConflict,
    NoteEmpty,
    NoteTooLong,
    NotYourChat,
    TransferNoteRequired,
    TransferNoteTooLong,
)
from chat.models import (
    MESSAGE_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    TRANSFER_NOTE_MAX_LENGTH,
    Chat,
    ChatEvent,
    ChatNote,
    Message,
)
from chat.selectors import last_customer_message_body
from chat.states import ChatStatus, Transition, TransitionNotAllowed, can, next_status
from chat.tallies import reply_tallies
from helpdesk.errors import DomainError, Forbidden
from helpdesk.models import Customer, Topic
from helpdesk.roles import is_agent, is_supervisor
from helpdesk.services import customer_create

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Participant:
    """Who acts on a chat: its customer (through the token), an agent, or the system."""

    kind: Literal["customer", "agent", "system"]
    user: Any = None

    @classmethod
    def customer(cls) -> "Participant":
        return cls(kind="customer")

    @classmethod
    def agent(cls, user: AbstractBaseUser) -> "Participant":
        return cls(kind="agent", user=user)

    @classmethod
    def system(cls) -> "Participant":
        return cls(kind="system")


# Checks that feature apps add to every assignment (routing: the agent's capacity and skills).
# Each runs inside chat_assign's (or chat_hand_over's) transaction with the chat row locked,
# is called as guard(chat=, agent=, assigned_by=, handover=) and raises a DomainError to refuse.
AssignmentGuard = Callable[..., None]
_assignment_guards: list[AssignmentGuard] = []


def register_assignment_guard(guard: AssignmentGuard) -> None:
    if guard not in _assignment_guards:
        _assignment_guards.append(guard)


@dataclass(frozen=True)
class PostResult:
    message: Message
    created: bool


def clean_message_body(body: str) -> str:
    if "\x00" in body:
        raise BodyInvalid()
    try:
        body.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (JSON "\ud800") is not text; the database would refuse it later.
        raise BodyInvalid("A message must be valid Unicode text.") from None
    if not body.strip():
        raise BodyEmpty()
    if len(body) > MESSAGE_MAX_LENGTH:
        raise BodyTooLong()
    return body


def clean_transfer_note(note: str) -> str:
    """The note a transfer carries to its receiver: required, plain text, at most 1000
    characters (surrounding blanks dropped)."""
    if "\x00" in note:
        raise BodyInvalid("A note cannot contain NUL characters.")
    note = note.strip()
    if not note:
        raise TransferNoteRequired()
    if len(note) > TRANSFER_NOTE_MAX_LENGTH:
        raise TransferNoteTooLong()
    try:
        note.encode("utf-8")
    except UnicodeEncodeError:
        raise BodyInvalid("A note must be valid Unicode text.") from None
    return note


def lock_chat(chat_id: int) -> Chat:
    """The chat, locked for the rest of the caller's transaction (ChatNotFound if none).

    Feature apps deciding on a chat's state (routing's transfers) take the same lock first.
    """
    try:
        return (
            Chat.objects.select_for_update(of=("self",))
            .select_related("topic", "customer", "agent", "transferred_by")
            .get(pk=chat_id)
        )
    except Chat.DoesNotExist:
        raise ChatNotFound() from None


def _check_agent_owns(chat: Chat, participant: Participant) -> None:
    """Only the chat's agent writes to it or closes it; supervisors may step into any chat."""
    if participant.kind != "agent" or chat.agent_id == participant.user.pk:
        return
    if is_supervisor(participant.user):
        return
    if chat.agent is not None:
        raise NotYourChat(
            f"This chat is with {protocol.staff_display_name(chat.agent)}; it is read-only for you."
        )
    raise NotYourChat()


def _append(
    chat: Chat,
    *,
    kind: str,
    body: str,
    author: Any = None,
    client_msg_id: str = "",
    origin: str = "",
    tone_overrides: list[str] | None = None,
    data: dict[str, Any] | None = None,
) -> Message:
    """Store the next message of a locked chat; the caller saves the chat afterwards."""
    chat.last_seq += 1
    return Message.objects.create(
        chat=chat,
        seq=chat.last_seq,
        kind=kind,
        author=author,
        body=body,
        client_msg_id=client_msg_id,
        origin=origin,
        tone_overrides=tone_overrides or [],
        data=data or {},
    )


def _publish_chat(chat: Chat, *, was_queued: bool, also_agents: tuple[int, ...] = ()) -> None:
    """Tell everyone concerned that the chat changed state.

    Consoles following the topic's queue see queued chats and their leaving the queue (an
    agent only ever takes or is routed chats of the queues they follow, so the assignee hears
    it there); an active chat's changes reach its agent's consoles only, since staff frames
    carry the customer's email. Consoles watching the chat hear every change. `also_agents`:
    agents the chat just left, who may not follow its queue.
    """
    events.publish_on_commit(
        groups=[events.customer_group(chat.pk)], frame=protocol.chat_frame_for_customer(chat)
    )
    if was_queued or chat.status == Chat.Status.QUEUED:
        staff_groups = events.queue_groups(chat.topic_id)
    elif chat.agent_id is not None:
        staff_groups = [events.agent_group(chat.agent_id)]
    else:
        staff_groups = []
    staff_groups += [events.agent_group(agent_id) for agent_id in also_agents]
    staff_groups.append(events.watch_group(chat.pk))
    staff_frame = protocol.chat_frame_for_staff(
        chat, preview=last_customer_message_body(chat_id=chat.pk)
    )
    events.publish_on_commit(groups=list(dict.fromkeys(staff_groups)), frame=staff_frame)


def _publish_staff_chat(chat: Chat) -> None:
    """A staff-only change of an active chat (e.g. its hold state): its consoles only."""
    groups = [events.agent_group(chat.agent_id)] if chat.agent_id else []
    groups.append(events.watch_group(chat.pk))
    events.publish_on_commit(
        groups=groups,
        frame=protocol.chat_frame_for_staff(
            chat, preview=last_customer_message_body(chat_id=chat.pk)
        ),
    )


def _publish_message(chat: Chat, message: Message) -> None:
    _publish_message_of(
        chat_id=chat.pk,
        status=chat.status,
        agent_id=chat.agent_id,
        topic_id=chat.topic_id,
        customer_name=chat.customer.name,
        message=message,
    )


def _publish_message_of(
    *,
    chat_id: int,
    status: str,
    agent_id: int | None,
    topic_id: int,
    customer_name: str,
    message: Message,
) -> None:
    groups = [events.customer_group(chat_id)]
    if agent_id is not None:
        groups.append(events.agent_group(agent_id))
    elif status == Chat.Status.QUEUED:
        # Agents browsing the queue see what the customer adds while waiting.
        groups += events.queue_groups(topic_id)
    groups.append(events.watch_group(chat_id))
    events.publish_on_commit(
        groups=groups, frame=protocol.message_frame(message, customer_name=customer_name)
    )
    events.send_on_commit(
        events.message_posted,
        chat_id=chat_id,
        message_id=message.pk,
        kind=message.kind,
        queued=status == Chat.Status.QUEUED,
    )


@transaction.atomic
def chat_start(
    *,
    topic: Topic,
    name: str,
    email: str = "",
    first_message: str = "",
    consent_transcript: bool = False,
    consent_marketing: bool = False,
    customer: Customer | None = None,
) -> Chat:
    """A customer opens a chat: it is queued, greeted, and holds their first question.

    `customer`: a known customer's record (a verified widget identity); otherwise a new
    customer is made from `name`, `email` and the consents."""
    # An optional first question of only blanks is no question.
    first_message = clean_message_body(first_message) if first_message.strip() else ""
    customer = customer or customer_create(
        name=name,
        email=email,
        consent_transcript=consent_transcript,
        consent_marketing=consent_marketing,
    )
    now = timezone.now()
    chat = Chat.objects.create(
        topic=topic,
        customer=customer,
        status=Chat.Status.QUEUED,
        queued_at=now,
        awaiting_reply_since=now,
    )
    messages = [
        _append(
            chat,
            kind=Message.Kind.SYSTEM,
            body=f"Hi {customer.first_name}, thanks for reaching out. "
            "An agent will be with you shortly.",
        )
    ]
    if first_message:
        messages.append(_append(chat, kind=Message.Kind.CUSTOMER, body=first_message))
        chat.last_customer_message_at = now
    chat.save(update_fields=["last_seq", "last_customer_message_at"])
    ChatEvent.objects.create(chat=chat, kind=ChatEvent.Kind.QUEUED, data={"topic": topic.slug})
    # The chat first, so consoles know it when its messages arrive. The rule for feature apps:
    # every stored message is published and fires message_posted.
    _publish_chat(chat, was_queued=True)
    events.send_on_commit(events.chat_queued, chat_id=chat.pk)
    for message in messages:
        _publish_message(chat, message)
    return chat


@transaction.atomic
def chat_assign(*, chat_id: int, agent: AbstractBaseUser, assigned_by: Any = None) -> Chat:
    """Give a queued chat to an agent: the agent taking it, or (later) the router.

    Taking a chat one already holds is a no-op, so a double click is harmless.
    """
    if not is_agent(agent):
        raise Forbidden("Only agents can be assigned chats.")
    chat = lock_chat(chat_id)
    if chat.status == Chat.Status.ACTIVE:
        if chat.agent_id == agent.pk:
            return chat
        raise ChatAlreadyAssigned()
    if not can(chat.status, Transition.ASSIGN):
        raise ChatClosed()
    for guard in _assignment_guards:
        guard(chat=chat, agent=agent, assigned_by=assigned_by, handover=False)
    chat.status = next_status(chat.status, Transition.ASSIGN)
    chat.agent = agent
    chat.assigned_at = timezone.now()
    joined = _append(
        chat,
        kind=Message.Kind.SYSTEM,
        body=f"{protocol.staff_display_name(agent)} joined the chat.",
    )
    chat.save(update_fields=["status", "agent", "assigned_at", "last_seq"])
    ChatEvent.objects.create(
        chat=chat,
        kind=ChatEvent.Kind.ASSIGNED,
        actor=assigned_by,
        data={"agent": agent.pk},
    )
    # Every stored message is delivered live, or clients see a gap in `seq` on every take.
    _publish_message(chat, joined)
    # The assignee hears it in the topic's queue, unless their console opened before they
    # had this skill: their own group too (a console applies a repeated chat frame once).
    _publish_chat(chat, was_queued=True, also_agents=(agent.pk,))
    events.send_on_commit(events.chat_assigned, chat_id=chat.pk, agent_id=agent.pk)
    return chat


@dataclass(frozen=True)
class MessagePost:
    """One message to store (chat.consumers hands them to `messages_post` in batches)."""

    chat_id: int
    sender: Participant
    body: str
    client_msg_id: str = ""
    origin: str = ""
    tone_overrides: tuple[str, ...] = ()


def _kind_of(sender: Participant) -> str:
    return Message.Kind.AGENT if sender.kind == "agent" else Message.Kind.CUSTOMER


@transaction.atomic
def message_post(
    *,
    chat_id: int,
    sender: Participant,
    body: str,
    client_msg_id: str = "",
    origin: str = "",
    tone_overrides: tuple[str, ...] | list[str] = (),
) -> PostResult:
    """Store a message once, whatever the number of times it is sent.

    A resend with the same client_msg_id returns the stored message (`created=False`), even
    when the chat closed meanwhile: the client only missed the ack.
    """
    post = MessagePost(chat_id, sender, body, client_msg_id, origin, tuple(tone_overrides))
    # The hot path (chat.message_store): plain SQL, no chat model loaded unless a rare case
    # needs it.
    chat = message_store.chats_lock_for_post([chat_id]).get(chat_id)
    if chat is None:
        raise ChatNotFound()
    if sender.kind == "agent" and chat.agent_id != sender.user.pk:
        _check_agent_owns(lock_chat(chat_id), sender)
    kind = _kind_of(sender)
    if client_msg_id:
        key = (chat_id, kind, client_msg_id)
        existing_id = message_store.message_ids_by_client_msg_id([key]).get(key)
        if existing_id is not None:
            existing = Message.objects.select_related("author").get(pk=existing_id)
            if existing.body != body or (
                kind == Message.Kind.AGENT and existing.author_id != sender.user.pk
            ):
                raise ClientMessageIdConflict()
            return PostResult(message=existing, created=False)
    if chat.status == Chat.Status.CLOSED:
        raise ChatClosed()
    outcome = _messages_write({chat_id: chat}, [post])[0]
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def messages_post(posts: list[MessagePost]) -> list[PostResult | Exception]:
    """Store many messages, each as `message_post` would, and return each one's result or
    error, in order.

    A server's sockets hand over their messages together: the common ones (a new message to an
    open chat, from its customer or its agent) are stored in one transaction, a handful of
    statements whatever their number; the others (resends, closed chats, chats that are not
    the sender's, unknown chats) go through `message_post` one by one afterwards. A database
    error other than an outage sends every message through `message_post` alone, so that one
    message cannot fail the others.
    """
    outcomes: list[PostResult | Exception | None] = [None] * len(posts)
    alone: list[int] = []
    try:
        with transaction.atomic():
            chats = message_store.chats_lock_for_post([post.chat_id for post in posts])
            keys = [(post.chat_id, _kind_of(post.sender), post.client_msg_id) for post in posts]
            stored = message_store.message_ids_by_client_msg_id(keys)
            together: list[int] = []
            taken: set[tuple[int, str, str]] = set()
            for index, (post, key) in enumerate(zip(posts, keys, strict=True)):
                chat = chats.get(post.chat_id)
                if (
                    chat is None
                    or chat.status == Chat.Status.CLOSED
                    or (post.sender.kind == "agent" and chat.agent_id != post.sender.user.pk)
                    or (post.client_msg_id and (key in stored or key in taken))
                ):
                    alone.append(index)
                    continue
                if post.client_msg_id:
                    taken.add(key)
                together.append(index)
            written = _messages_write(chats, [posts[index] for index in together])
            for index, outcome in zip(together, written, strict=True):
                outcomes[index] = outcome
    except (OperationalError, InterfaceError):
        raise
    except Exception:
        logger.exception("storing %d messages together failed; storing them one by one", len(posts))
        outcomes = [None] * len(posts)
        alone = list(range(len(posts)))
    for index in alone:
        post = posts[index]
        try:
            outcomes[index] = message_post(
                chat_id=post.chat_id,
                sender=post.sender,
                body=post.body,
                client_msg_id=post.client_msg_id,
                origin=post.origin,
                tone_overrides=post.tone_overrides,
            )
        except Exception as exc:  # the caller answers each sender with its own error
            outcomes[index] = exc
    return [RuntimeError("not stored") if outcome is None else outcome for outcome in outcomes]


class _ChatProgress:
    """A locked chat as messages are added to it: their `seq` and what they change."""

    def __init__(self, chat: message_store.PostingChat) -> None:
        self.chat = chat
        self.on_hold = chat.on_hold
        self.awaiting = chat.awaiting_reply
        self.answered = chat.answered
        self.record = message_store.ChatRecord(chat_id=chat.id, last_seq=chat.last_seq)
        # Consoles need a chat frame besides the message frames (`on_hold_since`, greeting).
        self.staff_frame_due = False

    def add(self, *, kind: str, origin: str, at: Any) -> int:
        record = self.record
        record.last_seq += 1
        if kind == Message.Kind.CUSTOMER:
            record.last_customer_message_at = at
            if not self.awaiting:
                record.awaiting_reply_since = at
                self.awaiting = True
        elif origin == Message.Origin.GREETING:
            # The automatic greeting answers nothing: the customer still waits for a first
            # answer, and consoles (which take any agent message as one) must hear it.
            self.staff_frame_due = True
        else:
            if not self.answered:
                record.first_agent_response_at = at
                self.answered = True
            record.awaiting_reply_since = None
            self.awaiting = False
            # A hold reply ("let me check") puts the chat on hold; the next answer ends it.
            on_hold = origin == Message.Origin.HOLD
            if on_hold or self.on_hold:
                record.on_hold_since = at if on_hold else None
            if on_hold != self.on_hold:
                self.staff_frame_due = True
            self.on_hold = on_hold
        return record.last_seq


def _messages_write(
    chats: dict[int, message_store.PostingChat], posts: list[MessagePost]
) -> list[PostResult | Exception]:
    """Store new messages to open chats whose rows the caller has locked, each of them the
    sender may write to (checked by the caller): one insert, one update per chat."""
    progress: dict[int, _ChatProgress] = {}
    outcomes: list[Message | Exception] = []
    messages: list[Message] = []
    for post in posts:
        kind = _kind_of(post.sender)
        try:
            body = clean_message_body(post.body)
        except DomainError as exc:
            outcomes.append(exc)
            continue
        # How a message was written is the agents' business only.
        origin, tone_overrides = (
            (post.origin, post.tone_overrides) if kind == Message.Kind.AGENT else ("", ())
        )
        if origin not in Message.Origin.values:
            outcomes.append(ValueError(f"unknown message origin {origin!r}"))
            continue
        chat = progress.get(post.chat_id) or progress.setdefault(
            post.chat_id, _ChatProgress(chats[post.chat_id])
        )
        now = timezone.now()
        message = Message(
            chat_id=post.chat_id,
            seq=chat.add(kind=kind, origin=origin, at=now),
            kind=kind,
            author=post.sender.user if kind == Message.Kind.AGENT else None,
            body=body,
            client_msg_id=post.client_msg_id,
            origin=origin,
            tone_overrides=list(tone_overrides),
            data={},
            created_at=now,
        )
        messages.append(message)
        outcomes.append(message)
    message_store.messages_insert(messages)
    message_store.tallies_count(reply_tallies(messages))
    message_store.chats_record([chat.record for chat in progress.values()])
    for message in messages:
        chat = progress[message.chat_id].chat
        # Consoles derive the waiting timer and preview from the message frame itself
        # (docs/protocol.md), so a message costs one frame per audience and no chat frame,
        # except when the hold state changes (staff only: `on_hold_since`) or on a greeting.
        _publish_message_of(
            chat_id=chat.id,
            status=chat.status,
            agent_id=chat.agent_id,
            topic_id=chat.topic_id,
            customer_name=chat.customer_name,
            message=message,
        )
    for chat in progress.values():
        if chat.staff_frame_due:
            _publish_staff_chat(lock_chat(chat.chat.id))
    return [
        PostResult(message=outcome, created=True) if isinstance(outcome, Message) else outcome
        for outcome in outcomes
    ]


@transaction.atomic
def bot_message_post(*, chat_id: int, body: str, data: dict[str, Any] | None = None) -> Message:
    """An automated message (cannedresponses' answer bot) in an open chat, stored and
    published to the customer and to staff like any message, with its structured `data`
    (e.g. the articles offered), which the `message` frame carries as `bot`.

    It answers nothing: the customer's wait for a person (`awaiting_reply_since`, the first
    response time, the console's timer) is untouched. `chat_closed` on a closed chat. Whether
    the bot may speak now is the caller's rule: it takes `lock_chat` first in the same
    transaction and decides under that lock, so no assignment can slip in between.
    """
    chat = lock_chat(chat_id)
    if chat.status == Chat.Status.CLOSED:
        raise ChatClosed()
    body = clean_message_body(body)
    data = dict(data or {})
    # Stored as JSON and sent on the wire: refuse what would not survive either, here.
    json.dumps(data)
    message = _append(chat, kind=Message.Kind.BOT, body=body, data=data)
    chat.save(update_fields=["last_seq"])
    _publish_message(chat, message)
    return message


@transaction.atomic
def chat_close(*, chat_id: int, by: Participant, reason: str = "") -> Chat:
    """End a chat. Closing a closed chat is an error (`chat_closed`) the caller can ignore.

    `reason` (a `Chat.CloseReason`, e.g. "abandoned") tells an unusual close apart; it is
    stored, put in the ChatEvent's data and in the staff `chat` frame.
    """
    if reason and reason not in Chat.CloseReason.values:
        raise ValueError(f"unknown close reason {reason!r}")
    chat = lock_chat(chat_id)
    _check_agent_owns(chat, by)
    was_queued = chat.status == Chat.Status.QUEUED
    try:
        chat.status = next_status(chat.status, Transition.CLOSE)
    except TransitionNotAllowed:
        raise ChatClosed("This chat is already closed.") from None
    now = timezone.now()
    chat.closed_at = now
    chat.closed_by = {
        "customer": Chat.ClosedBy.CUSTOMER,
        "agent": Chat.ClosedBy.AGENT,
        "system": Chat.ClosedBy.SYSTEM,
    }[by.kind]
    chat.closed_by_user = by.user if by.kind == "agent" else None
    chat.close_reason = reason
    chat.awaiting_reply_since = None
    who = {
        "customer": chat.customer.first_name,
        "agent": protocol.staff_display_name(by.user) if by.user else "",
        "system": "",
    }[by.kind]
    message = _append(
        chat, kind=Message.Kind.SYSTEM, body=f"Chat ended by {who}." if who else "Chat ended."
    )
    chat.save(
        update_fields=[
            "status",
            "closed_at",
            "closed_by",
            "closed_by_user",
            "close_reason",
            "awaiting_reply_since",
            "last_seq",
        ]
    )
    data = {"by": by.kind}
    if reason:
        data["reason"] = reason
    ChatEvent.objects.create(
        chat=chat, kind=ChatEvent.Kind.CLOSED, actor=chat.closed_by_user, data=data
    )
    _publish_message(chat, message)
    _publish_chat(chat, was_queued=was_queued)
    events.send_on_commit(events.chat_closed, chat_id=chat.pk)
    return chat


@transaction.atomic
def chat_requeue(
    *,
    chat_id: int,
    reason: str,
    topic: Topic | None = None,
    note: str = "",
    by: AbstractBaseUser | None = None,
) -> Chat:
    """Put an active chat back at the front of the queue: its agent left, did not answer in
    time (`no_reply`), or transferred it to a topic's queue (`transfer`, with `topic`, the
    agent `by` and a required `note` that whoever takes it reads first).

    The customer is told and keeps the whole history; requeueing a queued chat is a no-op
    (except a transfer, which needs an active chat).
    """
    transfer = reason == "transfer"
    if transfer:
        if topic is None or by is None:
            raise ValueError("a transfer to a queue names the topic and the agent")
        note = clean_transfer_note(note)
    chat = lock_chat(chat_id)
    if chat.status == Chat.Status.QUEUED and not transfer:
        return chat
    if transfer:
        if chat.status == Chat.Status.CLOSED:
            raise ChatClosed()
        if chat.status != Chat.Status.ACTIVE:
            raise NotYourChat()
        _check_agent_owns(chat, Participant.agent(by))
    try:
        chat.status = next_status(chat.status, Transition.REQUEUE)
    except TransitionNotAllowed:
        raise ChatClosed() from None
    previous_agent = chat.agent
    previous_topic = chat.topic
    now = timezone.now()
    chat.agent = None
    chat.queued_at = now
    chat.queue_priority = 1
    chat.awaiting_reply_since = chat.awaiting_reply_since or now
    # A hold was the previous agent's promise.
    chat.on_hold_since = None
    fields = [
        "status",
        "agent",
        "queued_at",
        "queue_priority",
        "awaiting_reply_since",
        "on_hold_since",
        "last_seq",
    ]
    if transfer:
        chat.topic = topic
        chat.transfer_count += 1
        chat.transfer_note = note
        chat.transferred_at = now
        chat.transferred_by = by
        fields += ["topic", "transfer_count", "transfer_note", "transferred_at", "transferred_by"]
        body = (
            f"{protocol.staff_display_name(previous_agent)} is passing you to our "
            f"{topic.name} team, with a note of your conversation so you need not repeat "
            "yourself. You are at the front of their queue."
        )
    elif reason == "no_reply":
        # The agent did not answer in time (routing's no-reply timeout).
        body = (
            "Sorry for the wait. You keep your place at the front of the queue; "
            "another agent will be with you shortly."
        )
    else:
        body = (
            f"{protocol.staff_display_name(previous_agent)} had to step away. "
            "You keep your place at the front of the queue; another agent will be with you "
            "shortly."
        )
    message = _append(chat, kind=Message.Kind.SYSTEM, body=body)
    chat.save(update_fields=fields)
    data: dict[str, Any] = {"reason": reason, "previous_agent": previous_agent.pk}
    if transfer:
        data.update(kind="topic", from_topic=previous_topic.slug, topic=topic.slug, note=note)
    ChatEvent.objects.create(
        chat=chat,
        kind=ChatEvent.Kind.TRANSFERRED if transfer else ChatEvent.Kind.REQUEUED,
        actor=by,
        data=data,
    )
    # The previous agent's consoles see the chat leave them, whatever queues they watch; when
    # the topic changed, the old topic's queue watchers see it go too.
    _publish_chat(chat, was_queued=True, also_agents=(previous_agent.pk,))
    if previous_topic.pk != chat.topic_id:
        events.publish_on_commit(
            groups=[events.queue_group(previous_topic.pk)],
            frame=protocol.chat_frame_for_staff(chat, preview=None),
        )
    events.send_on_commit(events.chat_queued, chat_id=chat.pk, requeued=True)
    _publish_message(chat, message)
    return chat


@transaction.atomic
def chat_hand_over(
    *,
    chat_id: int,
    from_agent: AbstractBaseUser,
    to_agent: AbstractBaseUser,
    note: str,
    kind: Literal["agent", "senior"] = "agent",
) -> Chat:
    """An active chat passes from one agent to another (an accepted transfer or escalation).

    The receiver gets the whole history and the note; the customer is told. The assignment
    guards apply (the receiver's capacity). Refused when the chat is no longer with
    `from_agent` (closed, requeued, taken over meanwhile).
    """
    if not is_agent(to_agent):
        raise Forbidden("Only agents can be given chats.")
    if to_agent.pk == from_agent.pk:
        raise Forbidden("A chat cannot be transferred to the agent who has it.")
    note = clean_transfer_note(note)
    chat = lock_chat(chat_id)
    if chat.status == Chat.Status.CLOSED:
        raise ChatClosed()
    if chat.status != Chat.Status.ACTIVE or chat.agent_id != from_agent.pk:
        raise NotYourChat("This chat is no longer with the agent who transferred it.")
    for guard in _assignment_guards:
        guard(chat=chat, agent=to_agent, assigned_by=to_agent, handover=True)
    now = timezone.now()
    chat.agent = to_agent
    # The no-reply timeout counts the new agent's time from now.
    chat.assigned_at = now
    chat.transfer_count += 1
    chat.transfer_note = note
    chat.transferred_at = now
    chat.transferred_by = from_agent
    chat.on_hold_since = None
    message = _append(
        chat,
        kind=Message.Kind.SYSTEM,
        body=(
            f"{protocol.staff_display_name(from_agent)} passed your chat to "
            f"{protocol.staff_display_name(to_agent)}, who can see the whole conversation."
        ),
    )
    chat.save(
        update_fields=[
            "agent",
            "assigned_at",
            "transfer_count",
            "transfer_note",
            "transferred_at",
            "transferred_by",
            "on_hold_since",
            "last_seq",
        ]
    )
    ChatEvent.objects.create(
        chat=chat,
        kind=ChatEvent.Kind.TRANSFERRED,
        actor=from_agent,
        data={"kind": kind, "previous_agent": from_agent.pk, "agent": to_agent.pk, "note": note},
    )
    # The receiver learns of the chat (and reads the note) before its next message arrives.
    _publish_chat(chat, was_queued=False, also_agents=(from_agent.pk,))
    _publish_message(chat, message)
    events.send_on_commit(
        events.chat_handed_over,
        chat_id=chat.pk,
        from_agent_id=from_agent.pk,
        to_agent_id=to_agent.pk,
    )
    return chat


def console_opened(*, agent: AbstractBaseUser, channel_name: str) -> None:
    """An agent's console socket is open (presence is routing's business, not chat's)."""
    events.agent_connected.send(
        sender=events.agent_connected, agent_id=agent.pk, channel_name=channel_name
    )


def console_alive(*, agent: AbstractBaseUser, channel_name: str) -> None:
    """An open console socket is still there (sent periodically while it stays open)."""
    events.agent_heartbeat.send(
        sender=events.agent_heartbeat, agent_id=agent.pk, channel_name=channel_name
    )


def console_closed(*, agent: AbstractBaseUser, channel_name: str) -> None:
    events.agent_disconnected.send(
        sender=events.agent_disconnected, agent_id=agent.pk, channel_name=channel_name
    )


# --- Customer sockets: presence of the customer (routing closes a queued chat they left) -----


def _customer_seen(chat_id: int, signal: Any, channel_name: str) -> None:
    # A plain timestamp, written without the chat's row lock: it changes no state, and a
    # service deciding on it (routing's abandoned sweep) re-reads it under that lock.
    Chat.objects.filter(pk=chat_id).update(customer_last_seen_at=timezone.now())
    events.send_on_commit(signal, chat_id=chat_id, channel_name=channel_name)


@transaction.atomic
def customer_socket_opened(*, chat_id: int, channel_name: str) -> None:
    """A customer socket of the chat opened."""
    _customer_seen(chat_id, events.customer_connected, channel_name)


@transaction.atomic
def customer_socket_alive(*, chat_id: int, channel_name: str) -> None:
    """An open customer socket is still there (sent periodically while it stays open)."""
    _customer_seen(chat_id, events.customer_heartbeat, channel_name)


@transaction.atomic
def customer_socket_closed(*, chat_id: int, channel_name: str) -> None:
    """A customer socket closed: the customer was there until now."""
    _customer_seen(chat_id, events.customer_disconnected, channel_name)


def typing_audience(*, chat_id: int, sender: Participant) -> list[str]:
    """Where a typing notice goes: to the other side of an open chat, never back."""
    chat = message_store.chat_status_and_agent(chat_id)
    if chat is None:
        raise ChatNotFound()
    status, agent_id = chat
    if status == ChatStatus.CLOSED:
        raise ChatClosed()
    if sender.kind == "agent":
        if agent_id != sender.user.pk:
            raise NotYourChat()
        return [events.customer_group(chat_id)]
    if agent_id is None:
        return []
    return [events.agent_group(agent_id)]


@transaction.atomic
def note_add(*, chat_id: int, author: AbstractBaseUser, body: str) -> ChatNote:
    """An internal note on a chat, by its agent or a supervisor: staff only, never the
    customer's. Published to the chat's agent and the consoles watching it."""
    body = clean_note_body(body)
    chat = lock_chat(chat_id)
    _check_agent_owns(chat, Participant.agent(author))
    if chat.status == Chat.Status.QUEUED:
        raise NotYourChat("Take the chat before adding notes to it.")
    note = ChatNote.objects.create(chat=chat, author=author, body=body)
    groups = [events.agent_group(chat.agent_id)] if chat.agent_id else []
    groups += [events.agent_group(author.pk), events.watch_group(chat.pk)]
    events.publish_on_commit(groups=list(dict.fromkeys(groups)), frame=protocol.note_frame(note))
    return note


def clean_note_body(body: str) -> str:
    if "\x00" in body:
        raise BodyInvalid("A note cannot contain NUL characters.")
    body = body.strip()
    if not body:
        raise NoteEmpty()
    if len(body) > NOTE_MAX_LENGTH:
        raise NoteTooLong()
    try:
        body.encode("utf-8")
    except UnicodeEncodeError:
        raise BodyInvalid("A note must be valid Unicode text.") from None
    return body
