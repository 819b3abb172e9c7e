"""chat_start: a customer opens a chat; it is queued, greeted and holds their first question."""

import pytest
from django.db import transaction
from django.utils import timezone

from chat import services
from chat.errors import BodyInvalid, BodyTooLong
from chat.models import MESSAGE_MAX_LENGTH, Chat, ChatEvent, Message
from helpdesk.models import Customer
from tests.chat.frames import assert_customer_safe
from tests.factories import TopicFactory

pytestmark = pytest.mark.django_db


def start(**kwargs):
    kwargs.setdefault("topic", TopicFactory(slug="returns", name="Returns"))
    kwargs.setdefault("name", "Ana Lima")
    return services.chat_start(**kwargs)


def test_a_new_chat_is_queued_greeted_and_holds_the_first_question() -> None:
    before = timezone.now()
    chat = start(email="ana@example.com", first_message="Where is my parcel?")
    after = timezone.now()

    chat.refresh_from_db()
    assert chat.status == Chat.Status.QUEUED
    assert chat.agent is None and chat.assigned_at is None and chat.closed_at is None
    assert chat.topic.slug == "returns"
    assert chat.customer.name == "Ana Lima" and chat.customer.email == "ana@example.com"
    messages = list(chat.messages.values_list("seq", "kind", "body", "author"))
    assert messages == [
        (1, "system", "Hi Ana, thanks for reaching out. An agent will be with you shortly.", None),
        (2, "customer", "Where is my parcel?", None),
    ]
    assert chat.last_seq == 2
    assert before <= chat.awaiting_reply_since <= after
    assert before <= chat.last_customer_message_at <= after
    assert chat.first_agent_response_at is None


def test_without_a_first_question_only_the_greeting_is_stored() -> None:
    chat = start()
    chat.refresh_from_db()
    assert list(chat.messages.values_list("seq", "kind")) == [(1, "system")]
    assert chat.last_seq == 1
    assert chat.last_customer_message_at is None
    # Queued is waiting, question or not.
    assert chat.awaiting_reply_since is not None


@pytest.mark.parametrize("blank", ["   ", "\n\t ", ""])
def test_a_first_question_of_only_blanks_is_no_question(blank: str) -> None:
    chat = start(first_message=blank)
    assert list(chat.messages.values_list("kind", flat=True)) == ["system"]


def test_a_first_question_of_exactly_the_maximum_length_is_accepted() -> None:
    body = "x" * MESSAGE_MAX_LENGTH
    chat = start(first_message=body)
    assert chat.messages.get(kind=Message.Kind.CUSTOMER).body == body


@pytest.mark.parametrize(
    ("body", "error"),
    [("x" * (MESSAGE_MAX_LENGTH + 1), BodyTooLong), ("a\x00b", BodyInvalid)],
)
def test_an_invalid_first_question_stores_nothing_at_all(body: str, error: type) -> None:
    with pytest.raises(error):
        start(email="ana@example.com", first_message=body)
    assert Chat.objects.count() == 0
    assert Customer.objects.count() == 0
    assert Message.objects.count() == 0


def test_the_queued_event_starts_the_timeline() -> None:
    chat = start()
    assert list(ChatEvent.objects.filter(chat=chat).values_list("kind", "actor", "data")) == [
        ("queued", None, {"topic": "returns"})
    ]


def test_the_customer_is_stored_with_a_normalised_email_and_consents() -> None:
    chat = start(email="  Ana@Example.COM ", consent_transcript=True, consent_marketing=True)
    customer = chat.customer
    assert customer.email == "ana@example.com"
    assert customer.consent_transcript and customer.consent_marketing


def test_consents_without_an_email_are_ignored() -> None:
    chat = start(email="", consent_transcript=True, consent_marketing=True)
    assert not chat.customer.consent_transcript
    assert not chat.customer.consent_marketing


def test_html_in_the_name_is_stored_verbatim() -> None:
    name = '<script>alert("x")</script> & <b>Bob</b>'
    chat = start(name=name)
    assert chat.customer.name == name
    greeting = chat.messages.get(seq=1).body
    assert greeting.startswith('Hi <script>alert("x")</script>, ')


def test_every_chat_gets_its_own_sequence_from_one() -> None:
    one, two = start(first_message="a"), start(first_message="b")
    assert list(one.messages.values_list("seq", flat=True)) == [1, 2]
    assert list(two.messages.values_list("seq", flat=True)) == [1, 2]


# --- Publication and signals -----------------------------------------------------------------


GREETING = "Hi Ana, thanks for reaching out. An agent will be with you shortly."


def test_the_customer_and_the_queue_hear_of_it_after_commit_only(published, committed) -> None:
    with committed():
        chat = start(email="ana@example.com", first_message="Where is my parcel?")
        assert published.calls == []  # nothing leaves before the commit
    customer_group = f"chat.{chat.pk}"
    staff_groups = [f"queue.{chat.topic_id}", "queue.all", f"watch.{chat.pk}"]

    # The chat first, to the customer then to the topic's queue groups (and consoles watching
    # it), so consoles know it when its messages arrive; then every stored message, in order,
    # to the customer, the queue groups and the watchers (the chat is queued: no agent group
    # yet).
    # Routing's `queue` frames (tests/routing/test_queue_publication.py) are not chat's.
    assert [
        (groups, frame["type"]) for groups, frame in published.calls if frame["type"] != "queue"
    ] == [
        ([customer_group], "chat"),
        (staff_groups, "chat"),
        ([customer_group, *staff_groups], "message"),
        ([customer_group, *staff_groups], "message"),
    ]
    greeting, question = published.frames("message")
    assert greeting == {
        "type": "message",
        "chat": chat.pk,
        "seq": 1,
        "kind": "system",
        "body": GREETING,
        "author": None,
        "created_at": greeting["created_at"],
        "client_msg_id": None,
    }
    assert question == {
        "type": "message",
        "chat": chat.pk,
        "seq": 2,
        "kind": "customer",
        "body": "Where is my parcel?",
        "author": "Ana Lima",
        "created_at": question["created_at"],
        "client_msg_id": None,
    }
    assert greeting["created_at"] and question["created_at"]

    # What reaches the customer's group is safe for the customer to read.
    customer_frames = [f for f in published.frames(group=customer_group) if f["type"] != "queue"]
    (customer_frame,) = published.frames("chat", group=customer_group)
    assert customer_frames == [customer_frame, greeting, question]
    for frame in customer_frames:
        assert_customer_safe(frame, email="ana@example.com")
    assert customer_frame["status"] == "queued" and customer_frame["agent"] is None
    assert customer_frame["last_seq"] == 2

    (staff_frame,) = published.frames("chat", group=f"queue.{chat.topic_id}")
    assert staff_frame["customer"] == {"name": "Ana Lima", "email": "ana@example.com"}
    assert staff_frame["status"] == "queued" and staff_frame["agent"] is None
    assert staff_frame["preview"] == "Where is my parcel?"
    assert staff_frame["last_seq"] == 2
    assert (staff_frame["transfer_count"], staff_frame["transfer"]) == (0, None)


def test_without_a_first_question_only_the_greeting_is_published(published, committed) -> None:
    with committed():
        chat = start(email="ana@example.com")
    customer_group = f"chat.{chat.pk}"
    staff_groups = [f"queue.{chat.topic_id}", "queue.all", f"watch.{chat.pk}"]
    # Routing's `queue` frames (tests/routing/test_queue_publication.py) are not chat's.
    assert [
        (groups, frame["type"]) for groups, frame in published.calls if frame["type"] != "queue"
    ] == [
        ([customer_group], "chat"),
        (staff_groups, "chat"),
        ([customer_group, *staff_groups], "message"),
    ]
    (greeting,) = published.frames("message")
    assert (greeting["seq"], greeting["kind"], greeting["body"]) == (1, "system", GREETING)
    (staff_frame,) = published.frames("chat", group=f"queue.{chat.topic_id}")
    assert (staff_frame["last_seq"], staff_frame["preview"]) == (1, None)


def test_the_staff_frame_previews_at_most_140_characters(published, committed) -> None:
    with committed():
        chat = start(first_message="y" * 500)
    (staff_frame,) = published.frames("chat", group=f"queue.{chat.topic_id}")
    assert staff_frame["preview"] == "y" * 140


def test_chat_queued_fires_once_after_commit(signals, committed) -> None:
    with committed():
        chat = start(first_message="Hello")
        assert signals.sent == []
    greeting, question = chat.messages.order_by("seq")
    assert (greeting.seq, greeting.kind, question.seq, question.body) == (
        1,
        "system",
        2,
        "Hello",
    )
    # The chat is queued first, so feature apps know it; then every stored message fires
    # message_posted, once, in order.
    assert signals.sent == [
        ("chat_queued", {"chat_id": chat.pk}),
        (
            "message_posted",
            {"chat_id": chat.pk, "message_id": greeting.pk, "kind": "system", "queued": True},
        ),
        (
            "message_posted",
            {"chat_id": chat.pk, "message_id": question.pk, "kind": "customer", "queued": True},
        ),
    ]


def test_without_a_first_question_only_the_greeting_is_posted(signals, committed) -> None:
    with committed():
        chat = start()
        assert signals.sent == []
    greeting = chat.messages.get()
    assert signals.sent == [
        ("chat_queued", {"chat_id": chat.pk}),
        (
            "message_posted",
            {"chat_id": chat.pk, "message_id": greeting.pk, "kind": "system", "queued": True},
        ),
    ]


def test_a_rolled_back_start_publishes_and_signals_nothing(published, signals, committed) -> None:
    with committed() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        start(first_message="Hello")
        raise RuntimeError("boom")
    assert callbacks == []
    assert published.calls == [] and signals.sent == []
    assert Chat.objects.count() == 0


def test_a_refused_start_publishes_nothing(published, signals, committed) -> None:
    with committed(), pytest.raises(BodyTooLong):
        start(first_message="x" * (MESSAGE_MAX_LENGTH + 1))
    assert published.calls == [] and signals.sent == []
