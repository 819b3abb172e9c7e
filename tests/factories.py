"""factory-boy factories. Build state through services where behaviour matters (see helpers)."""

import datetime

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from chat.models import Chat, Message
from helpdesk.models import BusinessHours, Customer, Ticket, TicketReply, Topic
from helpdesk.roles import AGENTS_GROUP, SUPERVISORS_GROUP

PASSWORD = "correct-horse-battery"


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.Sequence(lambda n: f"topic-{n}")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Faker("name")
    email = factory.Faker("email")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(PASSWORD)


def _join(group_name: str):  # type: ignore[no-untyped-def]
    def join(user, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create:
            # get_or_create: transactional tests flush the rows the data migration made.
            user.groups.add(Group.objects.get_or_create(name=group_name)[0])

    return join


class AgentFactory(UserFactory):
    username = factory.Sequence(lambda n: f"agent{n}")
    groups = factory.PostGeneration(_join(AGENTS_GROUP))


class SupervisorFactory(UserFactory):
    username = factory.Sequence(lambda n: f"supervisor{n}")
    is_staff = True
    groups = factory.PostGeneration(_join(SUPERVISORS_GROUP))


class ChatFactory(factory.django.DjangoModelFactory):
    """A bare queued chat with no messages; use tests.helpers.start_chat for a real one."""

    class Meta:
        model = Chat

    topic = factory.SubFactory(TopicFactory)
    customer = factory.SubFactory(CustomerFactory)
    status = Chat.Status.QUEUED
    queued_at = factory.LazyFunction(timezone.now)
    awaiting_reply_since = factory.LazyAttribute(lambda chat: chat.queued_at)


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    chat = factory.SubFactory(ChatFactory)
    kind = Message.Kind.CUSTOMER
    body = factory.Faker("sentence")

    @factory.lazy_attribute
    def seq(self) -> int:
        self.chat.last_seq += 1
        self.chat.save(update_fields=["last_seq"])
        return self.chat.last_seq


class BusinessHoursFactory(factory.django.DjangoModelFactory):
    """Monday 09:00-17:00 unless told otherwise (in the topic's time zone)."""

    class Meta:
        model = BusinessHours

    topic = factory.SubFactory(TopicFactory)
    weekday = BusinessHours.Weekday.MONDAY
    opens = datetime.time(9, 0)
    closes = datetime.time(17, 0)


class TicketFactory(factory.django.DjangoModelFactory):
    """An open ticket as if left from the pre-chat form (use the services for real flows)."""

    class Meta:
        model = Ticket

    topic = factory.SubFactory(TopicFactory)
    customer = factory.SubFactory(CustomerFactory)
    email = factory.LazyAttribute(lambda t: t.customer.email or "someone@example.com")
    body = factory.Faker("paragraph")


class TicketReplyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketReply

    ticket = factory.SubFactory(TicketFactory)
    author = factory.SubFactory(AgentFactory)
    body = factory.Faker("sentence")


class ConsoleSupervisorFactory(SupervisorFactory):
    """A supervisor who also opens the console (member of both groups)."""

    username = factory.Sequence(lambda n: f"lead{n}")
    agents_group = factory.PostGeneration(_join(AGENTS_GROUP))


class CannedResponseFactory(factory.django.DjangoModelFactory):
    """A shared canned response; traits `personal` (owner) and `for_topic` (topic)."""

    class Meta:
        # By label: cannedresponses sits above chat and helpdesk, imported only where used.
        model = "cannedresponses.CannedResponse"

    title = factory.Sequence(lambda n: f"Response {n}")
    shortcut = factory.Sequence(lambda n: f"resp{n}")
    body = "Hi {customer.first_name|there}, thanks for waiting."
    scope = "shared"

    class Params:
        personal = factory.Trait(scope="personal", owner=factory.SubFactory(AgentFactory))
        for_topic = factory.Trait(scope="topic", topic=factory.SubFactory(TopicFactory))


class CannedResponseUseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cannedresponses.CannedResponseUse"

    response = factory.SubFactory(CannedResponseFactory)
    agent = factory.SubFactory(AgentFactory)
    count = 1
    last_used_at = factory.LazyFunction(timezone.now)


class ToneRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cannedresponses.ToneRule"

    phrase = factory.Sequence(lambda n: f"slang{n}")
    kind = "word"
    note = "Keep it professional."


class ArticleFactory(factory.django.DjangoModelFactory):
    """A published knowledge base article with no topic."""

    class Meta:
        model = "helpdesk.Article"

    title = factory.Sequence(lambda n: f"Article {n}")
    slug = factory.Sequence(lambda n: f"article-{n}")
    body = "Some **helpful** text."
    tags = ""
    is_published = True


class CustomerBlockFactory(factory.django.DjangoModelFactory):
    """A block by email and browser, as an agent makes it (use block_create for the rules)."""

    class Meta:
        model = "helpdesk.CustomerBlock"

    email = factory.Sequence(lambda n: f"blocked{n}@example.com")
    browser_key = factory.Sequence(lambda n: f"browser-{n:04d}-key")
    reason = "Insulted the agent repeatedly."
    created_by = factory.SubFactory(AgentFactory)


class ClosedChatFactory(ChatFactory):
    """A chat an agent handled and ended (closed chats need closed_at: a check constraint)."""

    agent = factory.SubFactory(AgentFactory)
    status = Chat.Status.CLOSED
    closed_by = Chat.ClosedBy.AGENT
    closed_at = factory.LazyFunction(timezone.now)


class RatingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "transcripts.Rating"

    chat = factory.SubFactory(ClosedChatFactory)
    score = 5
    comment = ""


class DeliveryFactory(factory.django.DjangoModelFactory):
    """A pending transcript delivery (use transcripts.services for the rules)."""

    class Meta:
        model = "transcripts.Delivery"

    chat = factory.SubFactory(ChatFactory)
    kind = "transcript"
    to_email = factory.LazyAttribute(lambda d: d.chat.customer.email)
    message_id = factory.Sequence(lambda n: f"<delivery-{n}@example.com>")


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "transcripts.Subscription"

    email = factory.Sequence(lambda n: f"reader{n}@example.com")
