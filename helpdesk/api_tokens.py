"""API tokens: made, checked and revoked here (the admin and the API's authentication call in).

A token reads `hd_<prefix>_<secret>`. The prefix finds the row with an index; the whole token
is compared by its SHA-256 in constant time. A fast hash is right here: the secret is 32
random bytes, so there is nothing to guess that a slow hash would protect (unlike a password).
"""

import hashlib
import hmac
import secrets
import string
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from helpdesk.errors import DomainError, Forbidden, InvalidInput, NotFound
from helpdesk.models import API_TOKEN_PREFIX, ApiToken
from helpdesk.roles import is_agent, is_supervisor

# The prefix is letters and digits only: it is cut from the token at its first "_", so an
# url-safe prefix (which may hold "_") would make about one token in eight unusable.
PREFIX_ALPHABET = string.ascii_letters + string.digits
PREFIX_LENGTH = 8  # 62**8: about 2**47, and a collision is retried
SECRET_BYTES = 32
# Writing last_used_at on every request would turn every read into a write.
LAST_USED_PRECISION = timedelta(minutes=1)


class TokenInvalid(DomainError):
    code = "token_invalid"
    status = 401
    default_detail = "This API token is not valid."


class TokenRevoked(TokenInvalid):
    code = "token_revoked"
    default_detail = "This API token was revoked."


class TokenExpired(TokenInvalid):
    code = "token_expired"
    default_detail = "This API token has expired."


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _new_prefix() -> str:
    return "".join(secrets.choice(PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))


def _user_may_hold_token(user: Any) -> bool:
    return bool(user.is_active) and (is_agent(user) or is_supervisor(user))


@transaction.atomic
def api_token_create(
    *,
    user: Any,
    name: str,
    scope: str = ApiToken.Scope.READ,
    created_by: Any = None,
    requests_per_minute: int = 600,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Make a token acting as `user`; returns it with the raw token, which is never stored."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("A token needs a name of 1 to 100 characters.")
    if scope not in ApiToken.Scope.values:
        raise InvalidInput("The scope is read or write.")
    if not _user_may_hold_token(user):
        raise InvalidInput("A token acts as an active agent or supervisor.")
    if requests_per_minute < 1:
        raise InvalidInput("A token needs a rate of at least one request a minute.")
    if user.is_superuser and created_by is not None and not created_by.is_superuser:
        # A token is its user's power: only a superuser hands out a superuser's.
        raise Forbidden("Only a superuser can make a token that acts as a superuser.")
    prefix = _new_prefix()
    while ApiToken.objects.filter(prefix=prefix).exists():  # 47 bits: practically never
        prefix = _new_prefix()
    raw = f"{API_TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    token = ApiToken.objects.create(
        user=user,
        name=name,
        scope=scope,
        prefix=prefix,
        key_hash=_digest(raw),
        created_by=created_by,
        requests_per_minute=requests_per_minute,
        expires_at=expires_at,
    )
    return token, raw


def api_token_revoke(*, token_id: int, by: Any = None) -> ApiToken:
    """Revoke at once; revoking twice keeps the first time."""
    token = ApiToken.objects.filter(pk=token_id).first()
    if token is None:
        raise NotFound("No such API token.")
    ApiToken.objects.filter(pk=token_id, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    return token


def api_token_authenticate(raw: str) -> ApiToken:
    """The live token `raw` names, with its user loaded; raises TokenInvalid (401) otherwise."""
    if not raw.startswith(API_TOKEN_PREFIX) or len(raw) > 200:
        raise TokenInvalid()
    prefix, _, secret = raw[len(API_TOKEN_PREFIX) :].partition("_")
    if not prefix or not secret:
        raise TokenInvalid()
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.key_hash, _digest(raw)):
        raise TokenInvalid()
    now = timezone.now()
    if token.revoked_at is not None:
        raise TokenRevoked()
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenExpired()
    if not token.user.is_active:
        raise TokenInvalid("The account this token acts as is disabled.")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        # Conditional, so concurrent requests of one token write the row once, not each.
        ApiToken.objects.filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_PRECISION),
            pk=token.pk,
        ).update(last_used_at=now)
        token.last_used_at = now
    return token
