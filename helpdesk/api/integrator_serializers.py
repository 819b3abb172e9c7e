"""Input and output shapes of the integrators' API for the helpdesk core (docs/api.md): topics,
tickets and knowledge base articles. The strict fields here are shared by the integrator
endpoints of the higher floors (they may import the core; the core imports none of them)."""

from datetime import datetime
from typing import Any

from rest_framework import serializers

from helpdesk.api.converters import MAX_ID
from helpdesk.articles import ARTICLE_BODY_MAX_LENGTH
from helpdesk.models import TICKET_BODY_MAX_LENGTH, Ticket

# --- Strict fields ------------------------------------------------------------------------------


class StrictText(serializers.CharField):
    """A JSON string and nothing else (DRF's CharField turns 123 into "123"), holding valid
    Unicode: a lone surrogate (JSON "\\ud800") is refused here rather than by the database."""

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:
            raise serializers.ValidationError("Must be valid Unicode text.") from None
        return super().to_internal_value(data)  # type: ignore[no-any-return]


class StrictBoolean(serializers.BooleanField):
    """A JSON true or false, not "yes", 1 or "on" (DRF's BooleanField takes all of those).
    For request bodies; query strings use DRF's BooleanField ("true"/"false")."""

    def to_internal_value(self, data: object) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class ApiId(serializers.IntegerField):
    """An id of ours: 1 to 2**63-1 (a larger number would overflow the database driver)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


class StrictApiId(ApiId):
    """An id in a JSON body: a number, not the string "12" nor 12.0 nor true."""

    def to_internal_value(self, data: object) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)  # type: ignore[no-any-return]


class QueryFlag(serializers.BooleanField):
    """A list's optional true/false filter in the query string: left out, it is None and the
    list is not narrowed by it (helpdesk.query_filters.filter_given)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, allow_null=True, default=None, **kwargs)


class DateRangeQuery(serializers.Serializer):
    """`created_after` (included) and `created_before` (excluded): ISO 8601 date-times; a date
    alone means its midnight and a value without an offset is read in the site's zone."""

    created_after = serializers.DateTimeField(required=False, help_text="Included.")
    created_before = serializers.DateTimeField(required=False, help_text="Excluded.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        after: datetime | None = attrs.get("created_after")
        before: datetime | None = attrs.get("created_before")
        if after and before and after >= before:
            raise serializers.ValidationError(
                {"created_before": ["Must be after created_after."]}, code="invalid"
            )
        return attrs


class OffsetDateTime(serializers.DateTimeField):
    """ISO 8601 with the value's own UTC offset (a topic's next opening in its own zone)."""

    def to_representation(self, value: datetime | None) -> str | None:
        return value.isoformat() if value else None


# --- Shared references ----------------------------------------------------------------------------


class ApiTopicRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField(help_text="Plain text: show it as text, never as HTML.")


class ApiCustomerRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="As the customer typed it: plain text, never HTML.")
    email = serializers.CharField(help_text="Blank when the customer gave none.")


class ApiUserRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="Full name, or the username without one.")


# --- Topics ---------------------------------------------------------------------------------------


class TopicListQuery(serializers.Serializer):
    active = QueryFlag(
        help_text="true: active topics only (those customers can pick); false: inactive only."
    )


class ApiBusinessHoursOutput(serializers.Serializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6, help_text="Monday 0 … Sunday 6.")
    opens = serializers.CharField(help_text="HH:MM on the topic's clock.")
    closes = serializers.CharField(help_text="HH:MM; 24:00 is midnight at the end of the day.")


class ApiTopicOutput(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField(help_text="Plain text: show it as text, never as HTML.")
    is_active = serializers.BooleanField(help_text="Whether customers can pick it.")
    position = serializers.IntegerField(help_text="Order in the widget.")
    amber_after_seconds = serializers.IntegerField(
        help_text="A customer waiting this long for an answer turns the chat amber."
    )
    red_after_seconds = serializers.IntegerField(help_text="… and this long, red.")
    reply_timeout_seconds = serializers.IntegerField(
        help_text="Unanswered this long, the chat is offered to another agent (0: never)."
    )
    offer_message_after_seconds = serializers.IntegerField(
        help_text="Estimated wait above which a queued customer is offered to leave a message "
        "(0: not for the wait)."
    )
    timezone = serializers.CharField(help_text="IANA time zone of the business hours.")
    always_open = serializers.BooleanField(help_text="No business hours: always open.")
    business_hours = ApiBusinessHoursOutput(many=True)
    open_now = serializers.BooleanField(help_text="Within the business hours now.")
    opens_at = OffsetDateTime(
        allow_null=True,
        help_text="When a closed topic opens next (with the topic's UTC offset); null while "
        "it is open.",
    )


# --- Tickets --------------------------------------------------------------------------------------


class TicketListQuery(DateRangeQuery):
    status = serializers.ChoiceField(choices=Ticket.Status.choices, required=False)
    email = serializers.EmailField(
        required=False, max_length=254, help_text="Where answers go (case-insensitive)."
    )
    reference = serializers.RegexField(
        r"\A[A-Za-z0-9-]{1,16}\Z",
        required=False,
        max_length=16,
        help_text="The reference the customer was emailed, e.g. HD-7KQ2MX (case-insensitive).",
    )
    topic = ApiId(required=False, help_text="A topic's id.")


class ApiTicketReplyOutput(serializers.Serializer):
    id = serializers.IntegerField()
    author = ApiUserRefOutput()
    body = serializers.CharField(help_text="Plain text, as emailed.")
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(
        allow_null=True, help_text="When the email went out; null until then."
    )


class ApiTicketOutput(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=Ticket.Status.choices)
    topic = ApiTopicRefOutput()
    customer = ApiCustomerRefOutput()
    email = serializers.CharField(help_text="Where answers go.")
    body = serializers.CharField(
        help_text="The customer's message as typed: plain text, never render it as HTML."
    )
    chat = serializers.IntegerField(
        allow_null=True, help_text="The chat the message was left from, if any."
    )
    created_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)


class ApiTicketDetailOutput(ApiTicketOutput):
    replies = ApiTicketReplyOutput(many=True, help_text="Oldest first.")


class ApiTicketCreateInput(serializers.Serializer):
    topic = StrictApiId(help_text="The topic's id.")
    email = serializers.EmailField(max_length=254, help_text="Where answers go.")
    body = StrictText(max_length=TICKET_BODY_MAX_LENGTH, trim_whitespace=False)
    name = StrictText(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="The customer's name, for a new customer (ignored with `customer`).",
    )
    customer = StrictApiId(
        required=False,
        allow_null=True,
        default=None,
        help_text="An existing customer's id; without it a customer is created.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["customer"] is None and not attrs["name"].strip():
            raise serializers.ValidationError(
                {"name": ["A new customer needs a name (or give `customer`)."]}, code="required"
            )
        return attrs


class ApiTicketReplyInput(serializers.Serializer):
    body = StrictText(
        max_length=TICKET_BODY_MAX_LENGTH,
        trim_whitespace=False,
        help_text="Plain text, emailed to the customer.",
    )


# --- Knowledge base articles ----------------------------------------------------------------------


class ArticleListQuery(serializers.Serializer):
    topic = ApiId(required=False, help_text="A topic's id.")
    published = QueryFlag(
        help_text="Supervisors: false lists drafts. Agents only ever see published articles."
    )


class ApiArticleOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField(help_text="Plain text: show it as text, never as HTML.")
    slug = serializers.CharField()
    topic = ApiTopicRefOutput(allow_null=True)
    tags = serializers.ListField(child=serializers.CharField())
    is_published = serializers.BooleanField()
    url = serializers.URLField(help_text="The public page (absolute).")
    excerpt = serializers.CharField(help_text="Plain text of the first ~200 characters.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ApiArticleDetailOutput(ApiArticleOutput):
    body = serializers.CharField(help_text="The markdown source.")
    html = serializers.CharField(
        help_text="The body rendered and sanitised (an allow-list of tags, no scripts, no "
        "attributes but a link's href and title): safe to insert as HTML."
    )


class ApiArticleCreateInput(serializers.Serializer):
    title = StrictText(max_length=200)
    slug = StrictText(max_length=200, help_text="Letters, digits, '-' and '_'; unique.")
    body = StrictText(
        max_length=ARTICLE_BODY_MAX_LENGTH, trim_whitespace=False, help_text="Markdown."
    )
    topic = StrictApiId(required=False, allow_null=True, default=None)
    # A string, like the model and the admin: a list field would answer errors about its items
    # as a nested object, which is not the API's one error format.
    tags = StrictText(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="Comma-separated words that help searching (stored lower case, without repeats).",
    )
    is_published = StrictBoolean(required=False, default=True)
