"""Domain errors of canned responses and the tone guard (codes listed in docs/cannedresponses.md).

Each maps to the API's one error format, `{"code", "detail", "errors"?}`, through
`helpdesk.api.errors.exception_handler`.
"""

from helpdesk.errors import DomainError, Forbidden, InvalidInput, NotFound


class CannedResponseNotFound(NotFound):
    # Also the answer for another agent's personal response: its existence is not leaked.
    code = "canned_response_not_found"
    default_detail = "No such canned response."


class SharedResponsesForbidden(Forbidden):
    default_detail = "Only supervisors may create or change responses shared with others."


class CannedResponseInvalid(InvalidInput):
    """Field-level problems, shaped like the serializers' validation errors."""

    code = "invalid"
    default_detail = "The request has invalid fields."

    def __init__(self, errors: dict[str, list[str]], detail: str | None = None) -> None:
        super().__init__(detail)
        self.errors = errors

    def extra(self) -> dict[str, object]:
        return {"errors": self.errors}


class ValuesMissing(InvalidInput):
    code = "values_missing"

    def __init__(self, labels: list[str]) -> None:
        super().__init__("This response needs values for: " + ", ".join(labels) + ".")
        self.labels = labels

    def extra(self) -> dict[str, object]:
        return {
            "missing": self.labels,
            "errors": {"values": [f"A value for “{label}” is needed." for label in self.labels]},
        }


class ValueInvalid(CannedResponseInvalid):
    pass


class RenderedTooLong(InvalidInput):
    code = "rendered_too_long"
    default_detail = "With these values the message would be longer than 4000 characters."


class BodyNoLongerValid(DomainError):
    # A body saved around the services (raw SQL, an old import) or a placeholder since removed
    # from the whitelist: the response must be fixed before it can be used.
    code = "body_invalid"
    status = 409
    default_detail = "This response has invalid placeholders; ask a supervisor to fix it."


class WrongTopic(InvalidInput):
    code = "wrong_topic"
    default_detail = "This response belongs to another topic than the chat's."


# --- The answer bot's customer frames (docs/protocol.md, "Answer bot") ----------------------------


class BotAnswerNotFound(NotFound):
    # Also a message of the chat that is not an automated answer: the same answer for both.
    code = "bot_answer_not_found"
    default_detail = "There is no automated answer with this number in your chat."


class BotFeedbackGiven(DomainError):
    code = "feedback_given"
    status = 409
    default_detail = "You already told us whether this answer helped."


class BotNotQueued(DomainError):
    code = "not_queued"
    status = 409
    default_detail = "An agent has joined your chat: you can ask them here."
