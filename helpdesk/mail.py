"""Pieces every outgoing email shares: which failures are worth retrying, the retry delay,
header-safe names and addresses, and the domain of our Message-IDs."""

import random
import smtplib
import unicodedata
from email.utils import formataddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

# Transient delivery failures: the SMTP server refused for now, or could not be reached.
TRANSIENT_MAIL_ERRORS: tuple[type[BaseException], ...] = (
    smtplib.SMTPException,
    ConnectionError,
    TimeoutError,
)

# A display name in a header is short; a longer one is a customer's paste, not a name.
_HEADER_NAME_MAX = 78


def is_permanent_failure(exc: BaseException) -> bool:
    """A 5xx answer (bad recipient, refused content) will not improve by retrying."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def retry_delay(
    retries: int, *, base: int | None = None, maximum: int = 600, rng: random.Random | None = None
) -> float:
    """Seconds before retry number `retries + 1`: exponential (base * 2**retries, capped at
    `maximum`) with "equal jitter", half fixed and half random, so that many deliveries
    failing together (an SMTP outage) do not all come back at the same second, yet none
    retries at once. Kept far below the Redis broker's one-hour visibility timeout. The base
    is HELPDESK_MAIL_RETRY_BASE_SECONDS unless given, read at call time (a test worker
    shortens it through its environment)."""
    if base is None:
        base = settings.HELPDESK_MAIL_RETRY_BASE_SECONDS
    ceiling = min(maximum, base * 2 ** max(retries, 0))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def header_text(value: str) -> str:
    """Text safe for a header: control and format characters (CR, LF, NUL, bidi overrides, ...)
    become spaces, runs of blanks one space, and the result is clipped. Django refuses
    newlines in headers (BadHeaderError); we never let them get that far."""
    cleaned = "".join(
        " " if unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"} else char for char in value
    )
    return " ".join(cleaned.split())[:_HEADER_NAME_MAX]


def clean_address(email: str) -> str | None:
    """The address if it is one we can send to, else None (no guessing at a repair)."""
    if any(unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"} for char in email):
        return None
    email = email.strip()
    if not email or len(email) > 254:
        return None
    try:
        validate_email(email)
    except ValidationError:
        return None
    return email


def mailbox(*, name: str, email: str) -> str:
    """`"Name" <email>` with the name made header-safe and quoted/encoded by formataddr."""
    return formataddr((header_text(name), email))


def message_id_domain() -> str:
    """The right-hand side of our Message-IDs: the domain we send from."""
    address = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >")
    return header_text(address).replace(" ", "") or "localhost"
