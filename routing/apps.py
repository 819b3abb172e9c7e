from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        # Chat (floor 2) knows nothing of routing: routing subscribes to its events here.
        from django.db.models.signals import m2m_changed

        from chat import dispatch
        from chat import events as chat_events
        from chat import scopes as chat_scopes
        from chat import services as chat_services
        from routing import events, handlers, receivers, services
        from routing.models import AgentProfile

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
        chat_scopes.register_queue_scope(services.queue_scope)
        # An agent's open consoles follow new skills at once (the queues they see).
        m2m_changed.connect(
            receivers.on_skills_changed,
            sender=AgentProfile.topics.through,
            dispatch_uid=f"{uid}.skills.changed",
        )
        dispatch.register_frame_handler(
            role="agent", frame_type="status", handler=handlers.status_frame
        )
        # Transfers and escalation (docs/routing.md): console frames only, so a customer
        # sending one gets `unknown_type`; a pending request ends with its chat's stay.
        from routing import transfer_handlers

        for frame_type, handler in (
            ("transfer_targets", transfer_handlers.transfer_targets_frame),
            ("transfer", transfer_handlers.transfer_frame),
            ("transfer_reply", transfer_handlers.transfer_reply_frame),
            ("transfer_cancel", transfer_handlers.transfer_cancel_frame),
            ("transfers", transfer_handlers.transfers_frame),
        ):
            dispatch.register_frame_handler(role="agent", frame_type=frame_type, handler=handler)
        chat_events.chat_closed.connect(
            receivers.on_chat_closed_transfers, dispatch_uid=f"{uid}.transfers.closed"
        )
        chat_events.chat_queued.connect(
            receivers.on_chat_queued_transfers, dispatch_uid=f"{uid}.transfers.queued"
        )
        chat_events.chat_handed_over.connect(
            receivers.on_chat_handed_over, dispatch_uid=f"{uid}.handed_over"
        )
        dispatch.register_frame_handler(
            role="agent", frame_type="attention", handler=handlers.attention_request_frame
        )
        dispatch.register_frame_handler(
            role="customer", frame_type="queue_status", handler=handlers.queue_status_frame
        )
        dispatch.register_frame_handler(
            role="customer", frame_type="leave_message", handler=handlers.leave_message_frame
        )
        # The supervisors' live page (docs/routing.md, "Live monitoring"): a doorbell on every
        # change it shows; agent status choices ring from handlers.status_frame.
        from routing import live_receivers

        for signal in (
            chat_events.chat_queued,
            chat_events.chat_assigned,
            chat_events.chat_handed_over,
            chat_events.chat_closed,
            chat_events.message_posted,
            chat_events.agent_connected,
            chat_events.agent_disconnected,
            events.agent_available,
        ):
            signal.connect(live_receivers.on_live_change, dispatch_uid=f"{uid}.live")
        from routing import webhook_receivers  # noqa: F401  (chat.transferred webhooks)
