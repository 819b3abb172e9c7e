"""Reads of customers for the integrators' API: whom a staff member may look up, and a
customer's history (chats and tickets) as far as they may read it.

The rule, in one place: supervisors read every customer. An agent reads the customers of the
chats they may read (`chat.selectors.readable_by`: theirs, the queues they see, those they held
before) and the customers who left a ticket (tickets are team-wide, as in the console). Within
a customer, an agent sees only the chats they may read; tickets are all shown.

A chat creates its own customer row unless the widget proved who the customer is
(`Customer.external_id`), so a history gathers the customer's own chats and tickets and those
of every customer with the same email (case-insensitive), like the console's summary panel.
"""

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from chat.errors import CustomerNotFound
from chat.models import Chat
from chat.selectors import ConsoleAccess, readable_by
from helpdesk.models import Customer, Ticket
from helpdesk.query_filters import filter_given


def customers_readable_by(
    *,
    user: Any,
    access: ConsoleAccess,
    email: str | None = None,
    external_id: str | None = None,
) -> QuerySet[Customer]:
    """The customers `user` may read (see the module), narrowed by an email (ignoring case)
    and/or an external id (exact). One query for a page, whatever the rows."""
    customers = Customer.objects.all()
    if not access.is_supervisor:
        chats = Chat.objects.filter(readable_by(user, access=access), customer_id=OuterRef("pk"))
        tickets = Ticket.objects.filter(customer_id=OuterRef("pk"))
        customers = customers.filter(Exists(chats) | Exists(tickets))
    return filter_given(customers, email__iexact=email, external_id=external_id)


def customer_get_for_staff(*, customer_id: int, user: Any, access: ConsoleAccess) -> Customer:
    customer = customers_readable_by(user=user, access=access).filter(pk=customer_id).first()
    if customer is None:
        raise CustomerNotFound()
    return customer


def _same_person(customer: Customer, *, via: str) -> Q:
    same = Q(**{f"{via}_id": customer.pk})
    if customer.email:
        same |= Q(**{f"{via}__email__iexact": customer.email})
    return same


def customer_chats(*, customer: Customer, user: Any, access: ConsoleAccess) -> QuerySet[Chat]:
    """The customer's chats that `user` may read, newest first, with topic and agent (slice
    it; a higher floor may add what it owns, e.g. the rating, to the same query)."""
    return (
        Chat.objects.filter(
            _same_person(customer, via="customer"), readable_by(user, access=access)
        )
        .select_related("topic", "agent")
        .order_by("-created_at", "-pk")
    )


def customer_tickets(*, customer: Customer, limit: int) -> list[Ticket]:
    """The customer's tickets (by customer or by the address answers go to), newest first."""
    same = Q(customer_id=customer.pk)
    if customer.email:
        same |= Q(email__iexact=customer.email)
    return list(
        Ticket.objects.filter(same).select_related("topic").order_by("-created_at", "-pk")[:limit]
    )
