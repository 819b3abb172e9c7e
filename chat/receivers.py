"""Chat's own subscriptions (connected in apps.ChatConfig.ready)."""

from typing import Any

from chat import events


def on_user_groups_changed(
    sender: Any, *, instance: Any, action: str, reverse: bool, pk_set: Any, **kwargs: Any
) -> None:
    """A user joined or left staff groups: their open consoles follow what they may see now
    (a supervisor follows every queue; someone no longer an agent is disconnected)."""
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    user_ids = (pk_set or ()) if reverse else [instance.pk]
    for user_id in user_ids:
        events.rescope_consoles_on_commit(agent_id=user_id)
