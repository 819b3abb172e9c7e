"""The customer's token: the only key to one chat.

It joins the chat's id and its random `customer_key` and signs both with SECRET_KEY, so it can
neither be guessed nor forged, and rotating `customer_key` revokes it.
"""

import secrets
from typing import NamedTuple

from django.core import signing

_SALT = "chat.customer-token"
MAX_TOKEN_LENGTH = 200


class TokenClaim(NamedTuple):
    chat_id: int
    customer_key: str


def customer_token_make(*, chat_id: int, customer_key: str) -> str:
    return signing.Signer(salt=_SALT).sign(f"{chat_id}.{customer_key}")


def customer_token_read(token: str) -> TokenClaim | None:
    """The claim inside a well-formed, authentic token; None for anything else."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        value = signing.Signer(salt=_SALT).unsign(token)
    except signing.BadSignature:
        return None
    chat_id, _, key = value.partition(".")
    if not (chat_id.isascii() and chat_id.isdigit()) or not key:
        return None
    return TokenClaim(int(chat_id), key)


def customer_key_matches(*, claim: TokenClaim, customer_key: str) -> bool:
    return secrets.compare_digest(claim.customer_key, customer_key)
