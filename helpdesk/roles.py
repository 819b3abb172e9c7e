"""The two staff roles. Groups are created by a data migration (helpdesk 0002)."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

AGENTS_GROUP = "Agents"
SUPERVISORS_GROUP = "Supervisors"


def is_agent(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Console users: active members of the Agents group."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.groups.filter(name=AGENTS_GROUP).exists()  # type: ignore[attr-defined]


def is_supervisor(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Team leads: active members of the Supervisors group. They may step into any chat."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.groups.filter(name=SUPERVISORS_GROUP).exists()  # type: ignore[attr-defined]


def staff_roles(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """The staff groups (AGENTS_GROUP, SUPERVISORS_GROUP) the user is an active member of: both
    answers in one query, for who asks both (a console connecting)."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    staff = user.groups.filter(name__in=(AGENTS_GROUP, SUPERVISORS_GROUP))  # type: ignore[attr-defined]
    return frozenset(staff.values_list("name", flat=True))
