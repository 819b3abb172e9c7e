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
