"""factory-boy factories. Build state through services where behaviour matters (see helpers)."""

import datetime
import functools

import factory
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.utils import timezone

from chat.models import Chat, Message
from helpdesk.models import BusinessHours, Customer, Ticket, TicketReply, Topic
from helpdesk.roles import AGENTS_GROUP, SUPERVISORS_GROUP

PASSWORD = "correct-horse-battery"


def password_hash() -> str:
    """PASSWORD hashed once per test process and hasher: the default hasher costs ~0.3 s of CPU
    per user, and some test modules switch to a fast one."""
    return _password_hash(settings.PASSWORD_HASHERS[0])


@functools.cache
def _password_hash(hasher: str) -> str:
    return make_password(PASSWORD)


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
    password = factory.LazyFunction(password_hash)


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


class TopicBotFactory(factory.django.DjangoModelFactory):
    """The answer bot of a topic, switched on (cannedresponses; by label like the others)."""

    class Meta:
        model = "cannedresponses.TopicBot"
        django_get_or_create = ("topic",)

    topic = factory.SubFactory(TopicFactory)
    is_enabled = True
    max_articles = 2
    min_match = 50


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


def api_token_for(user=None, *, scope: str = "read", **kwargs):  # type: ignore[no-untyped-def]
    """An API token made through the service (the raw token exists only at creation):
    returns (ApiToken, raw). Acts as a new supervisor unless a user is given."""
    from helpdesk.api_tokens import api_token_create

    return api_token_create(
        user=user or SupervisorFactory(),
        name=kwargs.pop("name", "Test token"),
        scope=scope,
        **kwargs,
    )


class WebhookSubscriptionFactory(factory.django.DjangoModelFactory):
    """An active subscription to every event, at a public URL (use the `url` for a server)."""

    class Meta:
        model = "helpdesk.WebhookSubscription"

    name = factory.Sequence(lambda n: f"Integration {n}")
    url = factory.Sequence(lambda n: f"https://hooks{n}.example.com/helpdesk")
    events = factory.LazyFunction(lambda: ["chat.created", "message.created", "ticket.created"])


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    """A pending delivery (use helpdesk.webhooks.emit for the rules)."""

    class Meta:
        model = "helpdesk.WebhookDelivery"

    subscription = factory.SubFactory(WebhookSubscriptionFactory)
    event = "chat.created"
    payload = factory.LazyFunction(lambda: {"chat": {"id": 1}})
    next_attempt_at = factory.LazyFunction(timezone.now)


class InvitationRuleFactory(factory.django.DjangoModelFactory):
    """An active invitation on every page after 10 s, any visitor, any time, 24 h cap."""

    class Meta:
        model = "routing.InvitationRule"

    name = factory.Sequence(lambda n: f"Invitation {n}")
    topic = factory.SubFactory(TopicFactory)
    url_patterns = "/*"
    min_seconds_on_page = 10
    text = "Questions? We're here to help."


class InvitationTallyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "routing.InvitationTally"

    rule = factory.SubFactory(InvitationRuleFactory)
    day = factory.LazyFunction(timezone.localdate)
