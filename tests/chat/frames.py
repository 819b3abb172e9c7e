"""Checks on frames shared by the service and socket tests."""

import json
from typing import Any


def walk_keys(value: Any) -> set[str]:
    """Every key of every dict nested in a frame."""
    if isinstance(value, dict):
        return set(value) | set().union(*(walk_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(walk_keys(v) for v in value))
    return set()


def assert_customer_safe(frame: dict[str, Any], *, email: str = "") -> None:
    """What may reach a customer: no email at all, and agents by display name only."""
    assert "email" not in walk_keys(frame), frame
    text = json.dumps(frame)
    if email:
        assert email not in text, frame
    agent = frame.get("agent")
    assert agent is None or set(agent) == {"name"}, frame
    if frame.get("type") == "chat":
        assert set(frame) == {
            "type",
            "id",
            "status",
            "topic",
            "agent",
            "customer",
            "last_seq",
            "closed_by",
        }, frame
        assert set(frame["customer"]) == {"name"}, frame
