import functools
import zoneinfo
from datetime import datetime
from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers

from chat.models import MESSAGE_MAX_LENGTH
from helpdesk.identity import EXTERNAL_ID_MAX_LENGTH
from helpdesk.models import TICKET_BODY_MAX_LENGTH


class _BrowserKeyField(serializers.CharField):
    """The random id the customer's browser keeps (`helpdesk.browser` in its local storage):
    optional, a JSON string of at most 64 letters, digits, '-' and '_'."""

    def __init__(self) -> None:
        super().__init__(
            required=False,
            allow_blank=True,
            default="",
            max_length=64,
            trim_whitespace=False,
            # \A...\Z: `$` would also accept a trailing newline.
            validators=[
                RegexValidator(
                    r"\A[A-Za-z0-9_-]+\Z",
                    message="Use only letters, digits, '-' and '_'.",
                    code="invalid",
                )
            ],
            help_text="A random id the customer's browser keeps (blocks can name a browser).",
        )

    def to_internal_value(self, data: object) -> str:
        # A JSON string and nothing else: CharField would turn 123 into "123".
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)  # type: ignore[no-any-return]


@functools.cache
def _known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class _TimezoneField(serializers.CharField):
    """The customer's IANA time zone as their browser reports it (emails show their times):
    optional; "" or absent for none; otherwise a name this server knows."""

    def __init__(self) -> None:
        super().__init__(
            required=False,
            allow_blank=True,
            default="",
            max_length=64,
            trim_whitespace=False,
            help_text="The browser's IANA time zone, e.g. Europe/Lisbon "
            "(Intl.DateTimeFormat().resolvedOptions().timeZone).",
        )

    def to_internal_value(self, data: object) -> str:
        # A JSON string and nothing else, then a name from the IANA database (a closed list:
        # nothing else can reach the emails' date formatting).
        if not isinstance(data, str):
            self.fail("invalid")
        value: str = super().to_internal_value(data)
        if value and value not in _known_timezones():
            raise serializers.ValidationError("Unknown time zone.", code="invalid")
        return value


class PublicChatStartInput(serializers.Serializer):
    name = serializers.CharField(max_length=100, trim_whitespace=True)
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254, default="")
    topic = serializers.SlugField(max_length=80)
    message = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MESSAGE_MAX_LENGTH,
        default="",
        trim_whitespace=False,
    )
    consent_transcript = serializers.BooleanField(required=False, default=False)
    consent_marketing = serializers.BooleanField(required=False, default=False)
    browser_key = _BrowserKeyField()
    timezone = _TimezoneField()
    external_id = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=EXTERNAL_ID_MAX_LENGTH,
        # Signed as given: " 42" and "42" are different ids.
        trim_whitespace=False,
        help_text="The customer's id on the embedding site (widget identity verification; "
        "docs/widget-identity.md). Trusted only with a matching external_id_hash.",
    )
    external_id_hash = serializers.RegexField(
        r"^[0-9a-fA-F]{64}$",
        required=False,
        allow_blank=True,
        default="",
        max_length=64,
        help_text="hex(HMAC-SHA256(identity secret, external_id)), computed by the site's "
        "server with a secret made in the admin.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs["external_id"]) != bool(attrs["external_id_hash"]):
            missing = "external_id_hash" if attrs["external_id"] else "external_id"
            raise serializers.ValidationError(
                {missing: ["external_id and external_id_hash come together."]}, code="required"
            )
        return attrs


class PublicChatStartOutput(serializers.Serializer):
    id = serializers.IntegerField()
    token = serializers.CharField()
    ws_url = serializers.CharField()
    status = serializers.CharField()


class _OffsetDateTime(serializers.DateTimeField):
    """ISO 8601 with the value's own UTC offset (a topic's opening in its own time zone)."""

    def to_representation(self, value: datetime | None) -> str | None:
        return value.isoformat() if value else None


class TopicOutput(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    open_now = serializers.BooleanField(help_text="Within the topic's business hours now.")
    opens_at = _OffsetDateTime(
        allow_null=True, help_text="When a closed topic opens next; null while it is open."
    )


class _TextField(serializers.CharField):
    """A JSON string and nothing else: DRF's CharField would turn 123 into "123"."""

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)  # type: ignore[no-any-return]


class PublicTicketCreateInput(serializers.Serializer):
    topic = serializers.SlugField(max_length=80)
    name = _TextField(max_length=100, trim_whitespace=True)
    # Required: the answer goes by email.
    email = serializers.EmailField(max_length=254)
    body = _TextField(max_length=TICKET_BODY_MAX_LENGTH, trim_whitespace=False)
    browser_key = _BrowserKeyField()


class PublicTicketCreateOutput(serializers.Serializer):
    reference = serializers.CharField()


class TopicClosedOutput(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    opens_at = serializers.DateTimeField(allow_null=True)


class ErrorOutput(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(), required=False)
