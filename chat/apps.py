from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Live chat"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import m2m_changed

        from chat import receivers

        # Joining or leaving Agents/Supervisors changes what an open console may follow.
        m2m_changed.connect(
            receivers.on_user_groups_changed,
            sender=get_user_model().groups.through,
            dispatch_uid="chat.user_groups.changed",
        )
        # Difficult customers: the console's `block` frame (agents only; a customer sending it
        # gets `unknown_type`).
        from chat import block_handlers, dispatch

        dispatch.register_frame_handler(
            role="agent", frame_type="block", handler=block_handlers.block_frame
        )
        from chat import webhook_receivers  # noqa: F401  (chat's events as webhooks)
