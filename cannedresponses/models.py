"""Canned responses (quick replies with placeholders), their use per agent, tone rules, and the
answer bot's settings and answers."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinValueValidator,
    ProhibitNullCharactersValidator,
)
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from cannedresponses import placeholders

TITLE_MAX_LENGTH = 120
SHORTCUT_MAX_LENGTH = 32
BODY_MAX_LENGTH = 4000
TONE_PHRASE_MAX_LENGTH = 100
TONE_NOTE_MAX_LENGTH = 300

SHORTCUT_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


def normalize_shortcut(value: str) -> str:
    """What the agent types after '/', stored without it: "/Greet " -> "greet"."""
    value = value.strip()
    if value.startswith("/"):
        value = value[1:]
    return value.lower()


def validate_shortcut(value: str) -> None:
    if not SHORTCUT_RE.fullmatch(value):
        raise ValidationError(
            "A shortcut is 1-32 characters: lowercase letters, digits, '-' and '_', starting "
            "with a letter or a digit (e.g. greet, order-status).",
            code="shortcut_invalid",
        )


def validate_text(value: str) -> None:
    """Text the database can store: no lone surrogate (JSON "\\ud800")."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError("Must be valid Unicode text.", code="text_invalid") from None


def validate_body(value: str) -> None:
    try:
        placeholders.validate(value)
    except placeholders.PlaceholderError as error:
        raise ValidationError(error.problems, code="placeholder_invalid") from None


class CannedResponse(models.Model):
    """A reply an agent inserts with /shortcut; visible to everyone, one topic, or its owner."""

    class Scope(models.TextChoices):
        SHARED = "shared", "Shared with everyone"
        TOPIC = "topic", "Shared for one topic"
        PERSONAL = "personal", "Personal"

    title = models.CharField(
        max_length=TITLE_MAX_LENGTH,
        validators=[ProhibitNullCharactersValidator(), validate_text],
    )
    shortcut = models.CharField(
        max_length=SHORTCUT_MAX_LENGTH,
        validators=[validate_shortcut],
        help_text="Typed after '/' in the composer: lowercase letters, digits, '-' and '_'.",
    )
    body = models.TextField(
        max_length=BODY_MAX_LENGTH,
        validators=[
            MaxLengthValidator(BODY_MAX_LENGTH),
            ProhibitNullCharactersValidator(),
            validate_text,
            validate_body,
        ],
        help_text="Placeholders: "
        + placeholders.allowed_list()
        + "; a fallback after '|': {customer.first_name|there}; {{ and }} for literal braces.",
    )
    scope = models.CharField(max_length=16, choices=Scope.choices, default=Scope.PERSONAL)
    topic = models.ForeignKey(
        "helpdesk.Topic",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canned_responses",
        help_text="Only for responses shared for one topic.",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canned_responses",
        help_text="Only for personal responses: the agent they belong to.",
    )
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(scope="shared", topic__isnull=True, owner__isnull=True)
                    | Q(scope="topic", topic__isnull=False, owner__isnull=True)
                    | Q(scope="personal", topic__isnull=True, owner__isnull=False)
                ),
                name="cannedresponse_scope_fields",
            ),
            # One shortcut per scope: everyone's shared ones, each topic's, each agent's own.
            # The same shortcut in two scopes is allowed (the list shows both; see docs).
            models.UniqueConstraint(
                fields=["shortcut"],
                condition=Q(scope="shared"),
                name="cannedresponse_unique_shared_shortcut",
            ),
            models.UniqueConstraint(
                fields=["topic", "shortcut"],
                condition=Q(scope="topic"),
                name="cannedresponse_unique_topic_shortcut",
            ),
            models.UniqueConstraint(
                fields=["owner", "shortcut"],
                condition=Q(scope="personal"),
                name="cannedresponse_unique_personal_shortcut",
            ),
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut} ({self.get_scope_display()})"

    def clean(self) -> None:
        # The shortcut arrives normalised (normalize_shortcut) from the services and the
        # admin form: validators run before clean(), on the stored form.
        errors: dict[str, list[str]] = {}
        if self.scope == self.Scope.TOPIC and self.topic_id is None:
            errors.setdefault("topic", []).append("A response shared for a topic needs a topic.")
        if self.scope != self.Scope.TOPIC and self.topic_id is not None:
            errors.setdefault("topic", []).append("Only responses shared for a topic have one.")
        if self.scope == self.Scope.PERSONAL and self.owner_id is None:
            errors.setdefault("owner", []).append("A personal response needs its owner.")
        if self.scope != self.Scope.PERSONAL and self.owner_id is not None:
            errors.setdefault("owner", []).append("Only personal responses have an owner.")
        if not errors and self.shortcut and self._shortcut_taken():
            errors["shortcut"] = [self.shortcut_taken_message()]
        if errors:
            raise ValidationError(errors)

    def validate_constraints(self, exclude: object = None) -> None:
        # Shortcut uniqueness is checked in clean() with a message on the field itself;
        # skipping it here avoids a second, generic "constraint violated" message. The
        # database constraints stay the guard against races.
        excluded = set(exclude or ()) | {"shortcut"}  # type: ignore[call-overload]
        super().validate_constraints(exclude=excluded)

    def _same_scope(self) -> models.QuerySet["CannedResponse"]:
        same = CannedResponse.objects.filter(scope=self.scope, shortcut=self.shortcut)
        if self.scope == self.Scope.TOPIC:
            same = same.filter(topic_id=self.topic_id)
        elif self.scope == self.Scope.PERSONAL:
            same = same.filter(owner_id=self.owner_id)
        return same.exclude(pk=self.pk) if self.pk else same

    def _shortcut_taken(self) -> bool:
        return self._same_scope().exists()

    def shortcut_taken_message(self) -> str:
        where = {
            self.Scope.SHARED: "a shared response",
            self.Scope.TOPIC: "a response of this topic",
            self.Scope.PERSONAL: "one of your personal responses",
        }[self.Scope(self.scope)]
        return f"/{self.shortcut} is already the shortcut of {where}; choose another."


class CannedResponseUse(models.Model):
    """How often one agent used one response, for ranking their list and for metrics."""

    response = models.ForeignKey(CannedResponse, on_delete=models.CASCADE, related_name="uses")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="canned_response_uses"
    )
    count = models.PositiveIntegerField(default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "agent"], name="cannedresponseuse_unique")
        ]

    def __str__(self) -> str:
        return f"{self.agent} used {self.response} {self.count} times"


def normalize_phrase(value: str) -> str:
    return " ".join(value.split())


class ToneRule(models.Model):
    """A word, phrase or acronym off the brand's voice: the composer warns before sending it."""

    class Kind(models.TextChoices):
        WORD = "word", "Word"
        PHRASE = "phrase", "Phrase (several words)"
        # Letters that may also be written with dots: "asap" matches "A.S.A.P." too.
        ACRONYM = "acronym", "Acronym"

    phrase = models.CharField(
        max_length=TONE_PHRASE_MAX_LENGTH,
        validators=[ProhibitNullCharactersValidator(), validate_text],
        help_text="Matched as whole words, ignoring case.",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.WORD)
    note = models.CharField(
        max_length=TONE_NOTE_MAX_LENGTH,
        blank=True,
        validators=[ProhibitNullCharactersValidator(), validate_text],
        help_text='Shown to the agent, e.g. Say "I don\'t know yet, let me check".',
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["phrase"]
        constraints = [
            models.UniqueConstraint(
                Lower("phrase"),
                name="tonerule_unique_phrase",
                violation_error_message="There is already a rule for this phrase.",
            )
        ]

    def __str__(self) -> str:
        return self.phrase

    def clean(self) -> None:
        self.phrase = normalize_phrase(self.phrase or "")
        if not self.phrase:
            raise ValidationError({"phrase": ["A rule needs a word or a phrase."]})
        words = self.phrase.split(" ")
        if self.kind == self.Kind.PHRASE and len(words) < 2:
            raise ValidationError({"kind": ["A phrase has several words; use Word for one."]})
        if self.kind != self.Kind.PHRASE and len(words) > 1:
            raise ValidationError({"kind": ["Several words make a phrase: choose Phrase."]})
        if self.kind == self.Kind.ACRONYM and not self.phrase.replace(".", "").isalnum():
            raise ValidationError({"phrase": ["An acronym is letters and digits, e.g. asap."]})
        if self.kind == self.Kind.ACRONYM:
            # Stored without dots: "A.S.A.P." and "asap" are one rule matching both spellings.
            self.phrase = self.phrase.replace(".", "")


class TopicGreeting(models.Model):
    """Whether chats of a topic get the automatic greeting when first assigned.

    A topic without a row is greeted (when a `/greet` response exists): supervisors add a row
    with `enabled` off to switch the greeting off for that topic.
    """

    topic = models.OneToOneField(
        "helpdesk.Topic", on_delete=models.CASCADE, related_name="greeting_setting"
    )
    enabled = models.BooleanField(
        default=True,
        help_text="Post the /greet response as the agent when a chat of this topic is first "
        "assigned.",
    )

    class Meta:
        verbose_name = "automatic greeting of a topic"
        verbose_name_plural = "automatic greetings per topic"
        ordering = ["topic__name"]

    def __str__(self) -> str:
        return f"{self.topic}: greeting {'on' if self.enabled else 'off'}"


# --- The answer bot (docs/knowledge-base.md, "Answer bot") -------------------------------------

BOT_MAX_ARTICLES = 2
BOT_DEFAULT_MIN_MATCH = 50


class TopicBot(models.Model):
    """The answer bot of one topic: while a chat of the topic waits in the queue, the bot
    offers knowledge base articles matching the customer's questions. A topic without a row,
    or with `is_enabled` off, has no bot."""

    topic = models.OneToOneField(
        "helpdesk.Topic", on_delete=models.CASCADE, related_name="bot_setting"
    )
    is_enabled = models.BooleanField(
        default=False,
        help_text="While a chat of this topic waits for an agent, offer knowledge base "
        "articles that match the customer's questions.",
    )
    max_articles = models.PositiveSmallIntegerField(
        default=BOT_MAX_ARTICLES,
        choices=[(1, "1"), (2, "2")],
        help_text="Articles offered per answer, best first.",
    )
    min_match = models.PositiveSmallIntegerField(
        default=BOT_DEFAULT_MIN_MATCH,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Percent of the question's keywords (common words like 'how', 'my', 'the' "
        "aside) an article must contain to be offered. Higher: fewer, surer answers.",
    )

    class Meta:
        verbose_name = "answer bot of a topic"
        verbose_name_plural = "answer bots per topic"
        ordering = ["topic__name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_articles__gte=1, max_articles__lte=BOT_MAX_ARTICLES),
                name="topicbot_max_articles_1_2",
            ),
            models.CheckConstraint(
                condition=Q(min_match__gte=1, min_match__lte=100),
                name="topicbot_min_match_percent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic}: answer bot {'on' if self.is_enabled else 'off'}"


class BotChat(models.Model):
    """The bot's state in one chat: whether the customer asked for a person (then the bot
    stepped aside for good). An assignment needs no row: `Chat.assigned_at` says it."""

    chat = models.OneToOneField(
        "chat.Chat", on_delete=models.CASCADE, primary_key=True, related_name="bot_state"
    )
    human_requested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "answer bot in a chat"

    def __str__(self) -> str:
        return f"bot of chat {self.chat_id}"


class BotAnswer(models.Model):
    """One automated answer: the bot message, the customer message it answered, the articles
    it offered, and what the customer said of it (the metrics count rejections per article)."""

    class Feedback(models.TextChoices):
        NONE = "", "Not answered"
        HELPFUL = "helpful", "Answered the question"
        REJECTED = "rejected", "Did not answer it"

    chat = models.ForeignKey("chat.Chat", on_delete=models.CASCADE, related_name="bot_answers")
    message = models.OneToOneField(
        "chat.Message", on_delete=models.CASCADE, related_name="bot_answer"
    )
    # The seq of the customer message it answers: one answer per question, whatever the
    # number of times the task runs.
    question_seq = models.PositiveIntegerField()
    question = models.TextField(max_length=4000)
    feedback = models.CharField(
        max_length=16, choices=Feedback.choices, blank=True, default=Feedback.NONE
    )
    feedback_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "answer bot answer"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["chat", "question_seq"], name="botanswer_one_per_question"
            )
        ]

    def __str__(self) -> str:
        return f"bot answer #{self.pk} in chat {self.chat_id}"


class BotAnswerArticle(models.Model):
    """An article one answer offered, in its place (1: best)."""

    answer = models.ForeignKey(BotAnswer, on_delete=models.CASCADE, related_name="offered")
    # Kept when the article is deleted: the metrics still name it by its title as offered.
    article = models.ForeignKey(
        "helpdesk.Article", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    title = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["answer", "position"]
        constraints = [
            models.UniqueConstraint(fields=["answer", "position"], name="botanswerarticle_place")
        ]

    def __str__(self) -> str:
        return self.title
