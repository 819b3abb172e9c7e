"""The one base of every domain error.

A domain error carries a stable `code` that clients can branch on and an HTTP status. It is
mapped once to a JSON body by `helpdesk.api.errors.exception_handler` and to a websocket
`error` frame by `chat.consumers`.
"""


class DomainError(Exception):
    code: str = "error"
    status: int = 400
    default_detail: str = "The request could not be processed."

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail or self.default_detail
        super().__init__(self.detail)

    def extra(self) -> dict[str, object]:
        """Fields an error adds to its JSON body beside `code` and `detail` (none by default)."""
        return {}


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_detail = "Not found."


class Forbidden(DomainError):
    code = "forbidden"
    status = 403
    default_detail = "You may not do that."


class InvalidInput(DomainError):
    code = "invalid"
    status = 400
    default_detail = "The input is not valid."


# --- Business hours and tickets -----------------------------------------------------------------


class TopicClosed(DomainError):
    code = "topic_closed"
    status = 409
    default_detail = "This topic is closed now. Leave us a message and we will answer by email."

    def __init__(self, detail: str | None = None, *, opens_at: str | None = None) -> None:
        super().__init__(detail)
        self.opens_at = opens_at

    def extra(self) -> dict[str, object]:
        # When to come back (ISO 8601 with the topic's offset), or null if it never opens.
        return {"opens_at": self.opens_at}


class EmailInvalid(InvalidInput):
    code = "email_invalid"
    default_detail = "A valid email address is needed: we answer messages by email."


class TicketBodyEmpty(InvalidInput):
    code = "body_empty"
    default_detail = "A message cannot be empty."


class TicketBodyTooLong(InvalidInput):
    code = "body_too_long"
    default_detail = "A message can be at most 4000 characters long."


class TicketBodyInvalid(InvalidInput):
    code = "body_invalid"
    default_detail = "A message cannot contain NUL characters."


class TicketClosed(DomainError):
    code = "ticket_closed"
    status = 409
    default_detail = "This ticket is closed."


# --- Blocked customers ------------------------------------------------------------------------


class CustomerBlocked(Forbidden):
    # Polite and the same for every block: the reason is internal, and telling which of email,
    # browser or address matched would help a blocked customer get round it.
    code = "blocked"
    default_detail = (
        "We're sorry, we can't start a chat with you right now. "
        "If you think this is a mistake, please contact us another way."
    )


class BlockReasonRequired(InvalidInput):
    code = "reason_required"
    default_detail = "Say why you block this customer: supervisors review every block."


class BlockReasonTooLong(InvalidInput):
    code = "reason_too_long"
    default_detail = "A reason can be at most 500 characters long."


class BlockReasonInvalid(InvalidInput):
    code = "reason_invalid"
    default_detail = "A reason cannot contain NUL characters."


class BlockNamesNoOne(InvalidInput):
    code = "nothing_to_block"
    default_detail = (
        "This customer gave no email and their browser is unknown: block their network address "
        "for a while instead."
    )


# --- Knowledge base -------------------------------------------------------------------------------


class ArticleInvalid(InvalidInput):
    """An article that breaks a rule of the model; `errors` maps fields to messages."""

    code = "article_invalid"
    default_detail = "The article has invalid fields."

    def __init__(self, errors: dict[str, list[str]], detail: str | None = None) -> None:
        super().__init__(detail)
        self.errors = errors

    def extra(self) -> dict[str, object]:
        return {"errors": self.errors}
