"""Domain errors of the transcripts emails, each with a stable code."""

from helpdesk.errors import DomainError, NotFound


class DeliveryNotFound(NotFound):
    code = "delivery_not_found"
    default_detail = "No such delivery."


class DeliveryNotResendable(DomainError):
    code = "delivery_not_resendable"
    status = 409
    default_detail = "This delivery cannot be sent again."
