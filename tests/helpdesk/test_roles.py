"""Who is an agent: active members of the Agents group, nobody else."""

import pytest
from django.contrib.auth.models import AnonymousUser, Group

from helpdesk.roles import AGENTS_GROUP, SUPERVISORS_GROUP, is_agent, staff_roles
from tests.factories import AgentFactory, SupervisorFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_groups_exist_after_migrating() -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= {AGENTS_GROUP, SUPERVISORS_GROUP}


def test_an_agent_is_an_agent() -> None:
    assert is_agent(AgentFactory())


@pytest.mark.parametrize(
    "make_user",
    [
        pytest.param(UserFactory, id="plain-user"),
        pytest.param(SupervisorFactory, id="supervisor"),
        pytest.param(lambda: UserFactory(is_superuser=True, is_staff=True), id="superuser"),
        pytest.param(lambda: AgentFactory(is_active=False), id="inactive-agent"),
        pytest.param(AnonymousUser, id="anonymous"),
    ],
)
def test_nobody_else_is(make_user) -> None:
    assert not is_agent(make_user())


def test_leaving_the_group_ends_it() -> None:
    agent = AgentFactory()
    agent.groups.clear()
    assert not is_agent(agent)


def test_staff_roles_answers_both_roles_at_once() -> None:
    both = SupervisorFactory()
    both.groups.add(Group.objects.get(name=AGENTS_GROUP))
    assert staff_roles(both) == {AGENTS_GROUP, SUPERVISORS_GROUP}
    assert staff_roles(AgentFactory()) == {AGENTS_GROUP}
    assert staff_roles(SupervisorFactory()) == {SUPERVISORS_GROUP}
    assert staff_roles(UserFactory()) == frozenset()
    assert staff_roles(AgentFactory(is_active=False)) == frozenset()
    assert staff_roles(AnonymousUser()) == frozenset()
