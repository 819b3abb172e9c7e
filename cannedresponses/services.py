"""Every state change of canned responses: create, update, delete, render (which records use).

Who may do what (docs/cannedresponses.md): every agent manages their own personal responses;
responses shared with everyone or with one topic are for supervisors and superusers. Another
agent's personal response is "not found" to everyone else, never "forbidden": its existence
is not leaked.
"""

import logging
import unicodedata
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from cannedresponses import placeholders, selectors
from cannedresponses.errors import (
    BodyNoLongerValid,
    CannedResponseInvalid,
    CannedResponseNotFound,
    RenderedTooLong,
    SharedResponsesForbidden,
    ValueInvalid,
    ValuesMissing,
    WrongTopic,
)
from cannedresponses.models import CannedResponse, CannedResponseUse, normalize_shortcut
from chat.models import MESSAGE_MAX_LENGTH, Chat, ChatEvent, Message
from chat.protocol import staff_display_name
from chat.services import Participant, message_post
from helpdesk.models import Topic
from helpdesk.roles import is_supervisor

logger = logging.getLogger(__name__)

Scope = CannedResponse.Scope

VALUE_MAX_LENGTH = 200
MAX_VALUES = 20


def may_manage_shared(user: Any) -> bool:
    """Supervisors (and superusers, who run the admin) manage shared and topic responses."""
    return bool(getattr(user, "is_superuser", False)) or is_supervisor(user)


def _check_may_write(actor: Any, scope: str) -> None:
    if scope != Scope.PERSONAL and not may_manage_shared(actor):
        raise SharedResponsesForbidden()


def _check_may_change(actor: Any, response: CannedResponse) -> None:
    if response.scope == Scope.PERSONAL:
        if response.owner_id != actor.pk:
            raise CannedResponseNotFound()
        return
    if not may_manage_shared(actor):
        if not response.is_active:
            raise CannedResponseNotFound()  # agents never see inactive shared responses
        raise SharedResponsesForbidden()


def _errors_of(error: ValidationError) -> dict[str, list[str]]:
    errors = error.message_dict
    if NON_FIELD_ERRORS in errors:
        # The API's name for errors of no one field (as DRF's serializers say it).
        errors["non_field_errors"] = errors.pop(NON_FIELD_ERRORS)
    return errors


def _save(response: CannedResponse) -> CannedResponse:
    try:
        response.full_clean()
    except ValidationError as error:
        raise CannedResponseInvalid(_errors_of(error)) from None
    try:
        # A savepoint: a concurrent twin passes full_clean too, and the database's unique
        # constraint then refuses one of them; answer it like the check in clean().
        with transaction.atomic():
            response.save()
    except IntegrityError:
        raise CannedResponseInvalid({"shortcut": [response.shortcut_taken_message()]}) from None
    return response


@transaction.atomic
def canned_response_create(
    *,
    actor: Any,
    title: str,
    shortcut: str,
    body: str,
    scope: str = Scope.PERSONAL,
    topic: Topic | None = None,
    is_active: bool = True,
) -> CannedResponse:
    """A new response. Personal ones belong to `actor`; shared and topic ones need a
    supervisor. Every problem (placeholders, a shortcut taken in this scope, lengths) comes
    back at once as CannedResponseInvalid with errors per field."""
    _check_may_write(actor, scope)
    response = CannedResponse(
        title=title.strip(),
        shortcut=normalize_shortcut(shortcut),
        body=body,
        scope=scope,
        topic=topic,
        owner=actor if scope == Scope.PERSONAL else None,
        is_active=is_active,
        created_by=actor,
    )
    return _save(response)


@transaction.atomic
def canned_response_update(
    *,
    actor: Any,
    response_id: int,
    title: str | None = None,
    shortcut: str | None = None,
    body: str | None = None,
    scope: str | None = None,
    topic: Topic | None = None,
    is_active: bool | None = None,
) -> CannedResponse:
    """Change what is given (None: unchanged). Moving a response between scopes follows the
    rules of both: an agent's stays personal; a supervisor may share their own (it loses its
    owner) or move a shared one to a topic (`topic` then says which)."""
    response = CannedResponse.objects.select_for_update().filter(pk=response_id).first()
    if response is None:
        raise CannedResponseNotFound()
    _check_may_change(actor, response)
    if title is not None:
        response.title = title.strip()
    if shortcut is not None:
        response.shortcut = normalize_shortcut(shortcut)
    if body is not None:
        response.body = body
    if is_active is not None:
        response.is_active = is_active
    new_scope = scope or response.scope
    _check_may_write(actor, new_scope)
    if new_scope != response.scope or topic is not None:
        if new_scope == Scope.PERSONAL:
            response.owner = actor
        else:
            response.owner = None
        if new_scope == Scope.TOPIC:
            response.topic = topic or (response.topic if response.scope == Scope.TOPIC else None)
        else:
            # A topic given with another scope is refused by clean(), with its message.
            response.topic = topic
        response.scope = new_scope
    return _save(response)


@transaction.atomic
def canned_response_delete(*, actor: Any, response_id: int) -> None:
    response = CannedResponse.objects.select_for_update().filter(pk=response_id).first()
    if response is None:
        raise CannedResponseNotFound()
    _check_may_change(actor, response)
    response.delete()


# --- Rendering ------------------------------------------------------------------------------


def _today(zone_name: str) -> str:
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone = timezone.get_default_timezone()
    return timezone.localdate(timezone=zone).isoformat()


def render_context(*, chat: Chat, agent: Any) -> dict[str, str | None]:
    """The whitelisted values of one chat, as plain strings (None: missing, the fallback
    applies). Reads the chat's customer and topic: select them with the chat."""
    customer = chat.customer
    return {
        "customer.name": customer.name or None,
        "customer.first_name": customer.first_name or None,
        "customer.email": customer.email or None,
        "agent.first_name": agent.first_name or None,
        "agent.name": staff_display_name(agent),
        "topic.name": chat.topic.name,
        "chat.id": str(chat.pk),
        "today": _today(chat.topic.timezone),
        "brand": settings.HELPDESK_BRAND_NAME or None,
    }


def clean_values(values: Mapping[str, Any]) -> dict[str, str]:
    """The agent's answers to the asks: strings of at most 200 characters, no NUL nor other
    control characters (line breaks and tabs aside), surrounding blanks dropped. They are
    inserted literally: braces in them are text, never placeholders."""
    if len(values) > MAX_VALUES:
        raise ValueInvalid({"values": [f"At most {MAX_VALUES} values."]})
    problems: list[str] = []
    cleaned: dict[str, str] = {}
    for label, value in values.items():
        shown = placeholders.clip(str(label))
        if not isinstance(label, str) or len(label) > placeholders.ASK_LABEL_MAX_LENGTH:
            problems.append(f"“{shown}” is not a label this response asks for.")
            continue
        if not isinstance(value, str):
            problems.append(f"“{shown}”: a value must be a string.")
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            problems.append(f"“{shown}”: a value must be valid Unicode text.")
            continue
        if any(unicodedata.category(char) == "Cc" and char not in "\n\t" for char in value):
            problems.append(f"“{shown}”: control characters are not allowed.")
            continue
        value = value.strip()
        if len(value) > VALUE_MAX_LENGTH:
            problems.append(f"“{shown}”: at most {VALUE_MAX_LENGTH} characters.")
            continue
        cleaned[label] = value
    if problems:
        raise ValueInvalid({"values": problems})
    return cleaned


def canned_use_record(*, response: CannedResponse, agent: Any) -> None:
    """Count one use of `response` by `agent` (ranking and metrics)."""
    now = timezone.now()
    mine = CannedResponseUse.objects.filter(response_id=response.pk, agent_id=agent.pk)
    if mine.update(count=F("count") + 1, last_used_at=now):
        return
    try:
        with transaction.atomic():
            CannedResponseUse.objects.create(
                response=response, agent=agent, count=1, last_used_at=now
            )
    except IntegrityError:
        # The agent's other tab created the row meanwhile: count on it.
        mine.update(count=F("count") + 1, last_used_at=now)


@transaction.atomic
def canned_render(
    *, response: CannedResponse, chat: Chat, agent: Any, values: Mapping[str, Any]
) -> str:
    """The response's text for this chat, with the agent's values, and its use recorded.

    The caller has checked that the agent may see both (`selectors.response_get_for_agent`,
    `chat.selectors.chat_get_for_agent`). Nothing is sent: the console puts the text in the
    composer, where the agent may still edit it.
    """
    if response.scope == Scope.TOPIC and response.topic_id != chat.topic_id:
        raise WrongTopic()
    cleaned = clean_values(values)
    try:
        text = placeholders.render(
            response.body, context=render_context(chat=chat, agent=agent), values=cleaned
        )
    except placeholders.AsksMissing as missing:
        raise ValuesMissing(missing.labels) from None
    except placeholders.PlaceholderError:
        raise BodyNoLongerValid() from None
    if len(text) > MESSAGE_MAX_LENGTH:
        raise RenderedTooLong()
    canned_use_record(response=response, agent=agent)
    return text


def greeting_post(*, chat_id: int, agent_id: int) -> Message | None:
    """Greet the customer as the agent when their chat is assigned for the first time.

    The text is the chat topic's active `/greet` response, else the shared one, rendered for
    the chat and the agent (no use is counted: nobody chose it). Nothing is posted when the
    topic switched greetings off, when no `/greet` exists, when it asks the agent for values
    (nobody is there to answer), or when the chat is no longer this agent's first stay: it
    was assigned before (a requeue, a transfer) or an agent already wrote in it. Returns the
    message posted, if any. Idempotent: the greeting's client_msg_id is fixed per chat.
    """
    chat = Chat.objects.select_related("customer", "topic", "agent").filter(pk=chat_id).first()
    if chat is None or chat.status != Chat.Status.ACTIVE or chat.agent_id != agent_id:
        return None
    assigned = ChatEvent.objects.filter(chat=chat, kind=ChatEvent.Kind.ASSIGNED).count()
    if assigned != 1 or Message.objects.filter(chat=chat, kind=Message.Kind.AGENT).exists():
        return None
    response = selectors.greeting_response_for(topic_id=chat.topic_id)
    if response is None:
        return None
    agent = chat.agent
    try:
        text = placeholders.render(
            response.body, context=render_context(chat=chat, agent=agent), values={}
        )
    except placeholders.AsksMissing:
        logger.info("the greeting /%s asks for values: chat %s not greeted", response.pk, chat_id)
        return None
    except placeholders.PlaceholderError:
        logger.warning("the greeting response %s no longer parses", response.pk)
        return None
    if not text.strip() or len(text) > MESSAGE_MAX_LENGTH:
        return None
    result = message_post(
        chat_id=chat.pk,
        sender=Participant.agent(agent),
        body=text,
        client_msg_id=f"greeting-{chat.pk}",
        origin=Message.Origin.GREETING,
    )
    return result.message
