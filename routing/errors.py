from helpdesk.errors import DomainError, InvalidInput, NotFound


class AgentAtCapacity(DomainError):
    code = "over_capacity"
    status = 409
    default_detail = "You already have as many chats as you can take; close one first."


class TopicNotYours(DomainError):
    code = "not_your_topic"
    status = 403
    default_detail = "This chat's topic is not one of your skills."


class NotQueued(DomainError):
    code = "not_queued"
    status = 409
    default_detail = "You can leave a message only while you wait in the queue."


class MessageAlreadyLeft(DomainError):
    code = "message_already_left"
    status = 409
    default_detail = "You already left a message for this chat."


# --- Transfers and escalation (docs/routing.md, "Transfers and escalation") ---------------------


class AgentNotFound(NotFound):
    # Also the answer for a user who exists but is not an agent: who is staff is not leaked.
    code = "agent_not_found"
    default_detail = "No such agent."


class AgentUnavailable(DomainError):
    code = "agent_unavailable"
    status = 409
    default_detail = "This colleague is not online right now."


class TransferToSelf(DomainError):
    code = "transfer_to_self"
    status = 400
    default_detail = "You cannot transfer a chat to the agent who has it."


class TransferPending(DomainError):
    code = "transfer_pending"
    status = 409
    default_detail = "This chat already has a transfer waiting for an answer."


class NoSeniorAvailable(DomainError):
    code = "no_senior_available"
    status = 409
    default_detail = "No senior who handles this topic is online with room for a chat."


class TopicNotFound(NotFound):
    code = "topic_not_found"
    default_detail = "No such topic."


class NoAgentsForTopic(DomainError):
    code = "no_agents_for_topic"
    status = 409
    default_detail = "No other agent handles this topic: nobody could take the chat."


class TransferNotFound(NotFound):
    # Also the answer for a transfer that is not the caller's to answer or cancel.
    code = "transfer_not_found"
    default_detail = "No such transfer."


class TransferNotPending(DomainError):
    code = "transfer_not_pending"
    status = 409
    default_detail = "This transfer has already been answered, cancelled or has expired."


class TransferReasonTooLong(InvalidInput):
    code = "reason_too_long"
    default_detail = "A reason can be at most 200 characters long."


class TransferReasonInvalid(InvalidInput):
    code = "reason_invalid"
    default_detail = "A reason must be plain text without NUL characters."


# --- Proactive invitations (docs/invitations.md) --------------------------------------------------


class InvitationNotFound(NotFound):
    code = "invitation_not_found"
    default_detail = "No such invitation."


class InvitationOfferInvalid(InvalidInput):
    code = "offer_invalid"
    default_detail = "This invitation offer is not valid (or has expired)."
