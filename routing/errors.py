from helpdesk.errors import DomainError


class AgentAtCapacity(DomainError):
    code = "over_capacity"
    status = 409
    default_detail = "You already have as many chats as you can take; close one first."
