from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        # Chat (floor 2) knows nothing of routing: routing subscribes to its events here.
        from chat import dispatch
        from chat import events as chat_events
        from chat import services as chat_services
        from routing import events, handlers, receivers, services

        uid = "routing"
        chat_events.chat_queued.connect(receivers.on_chat_queued, dispatch_uid=f"{uid}.queued")
        chat_events.chat_closed.connect(receivers.on_chat_closed, dispatch_uid=f"{uid}.closed")
        # Receivers run in the order connected: the policy first, then the queue's standing,
        # so a chat assigned at once is not announced as waiting.
        for name in ("chat_queued", "chat_assigned", "chat_closed"):
            getattr(chat_events, name).connect(
                receivers.on_queue_changed, dispatch_uid=f"{uid}.queue.{name}"
            )
        chat_events.agent_connected.connect(
            receivers.on_agent_connected, dispatch_uid=f"{uid}.connected"
        )
        chat_events.agent_heartbeat.connect(
            receivers.on_agent_heartbeat, dispatch_uid=f"{uid}.heartbeat"
        )
        chat_events.agent_disconnected.connect(
            receivers.on_agent_disconnected, dispatch_uid=f"{uid}.disconnected"
        )
        events.agent_available.connect(
            receivers.on_agent_available, dispatch_uid=f"{uid}.available"
        )
        events.agent_available.connect(
            receivers.on_agent_available_queue, dispatch_uid=f"{uid}.available.queue"
        )
        chat_services.register_assignment_guard(services.assignment_guard)
        dispatch.register_frame_handler(
            role="agent", frame_type="status", handler=handlers.status_frame
        )
        dispatch.register_frame_handler(
            role="customer", frame_type="queue_status", handler=handlers.queue_status_frame
        )
