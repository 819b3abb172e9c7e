"""Domain errors of the live chat, each with a stable code (listed in docs/protocol.md)."""

from helpdesk.errors import DomainError, Forbidden, InvalidInput, NotFound


class ChatNotFound(NotFound):
    # Also the answer for a chat that exists but is not the caller's: existence is not leaked.
    code = "chat_not_found"
    default_detail = "No such chat."


class ChatClosed(DomainError):
    code = "chat_closed"
    status = 409
    default_detail = "This chat is closed."


class ChatAlreadyAssigned(DomainError):
    code = "already_assigned"
    status = 409
    default_detail = "Another agent has already taken this chat."


class NotYourChat(Forbidden):
    code = "forbidden"
    default_detail = "This chat is not assigned to you."


class BodyEmpty(InvalidInput):
    code = "body_empty"
    default_detail = "A message cannot be empty."


class BodyTooLong(InvalidInput):
    code = "body_too_long"
    default_detail = "A message can be at most 4000 characters long."


class BodyInvalid(InvalidInput):
    code = "body_invalid"
    default_detail = "A message cannot contain NUL characters."


class ClientMessageIdConflict(DomainError):
    code = "client_msg_id_conflict"
    status = 409
    default_detail = "This client_msg_id was already used for a different message."


class TransferNoteRequired(InvalidInput):
    code = "note_required"
    default_detail = "A transfer needs a note for the colleague who receives the chat."


class TransferNoteTooLong(InvalidInput):
    code = "note_too_long"
    default_detail = "A transfer note can be at most 1000 characters long."


class NoteEmpty(InvalidInput):
    code = "note_empty"
    default_detail = "A note cannot be empty."


class NoteTooLong(InvalidInput):
    code = "note_too_long"
    default_detail = "A note can be at most 2000 characters long."


class CustomerNotFound(NotFound):
    # Also the answer for a customer the caller may not read (the integrators' API): existence
    # is not leaked.
    code = "customer_not_found"
    default_detail = "No such customer."
