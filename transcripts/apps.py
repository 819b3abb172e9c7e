from django.apps import AppConfig


class TranscriptsConfig(AppConfig):
    name = "transcripts"
    verbose_name = "Transcripts"

    def ready(self) -> None:
        # Chat (floor 2) knows nothing of transcripts: transcripts subscribes to its events.
        from chat import events as chat_events
        from transcripts import receivers

        chat_events.chat_closed.connect(
            receivers.on_chat_closed, dispatch_uid="transcripts.transcript.closed"
        )
        # Feedback: the customer socket's `rate` and `rating_status` frames (customers only: an
        # agent sending them gets `unknown_type`). docs/protocol.md, "Feedback".
        from chat import dispatch
        from transcripts import feedback

        dispatch.register_frame_handler(
            role="customer", frame_type="rate", handler=feedback.rate_frame
        )
        dispatch.register_frame_handler(
            role="customer", frame_type="rating_status", handler=feedback.rating_status_frame
        )
        # The ratings' admin lives beside the feedback code (admin.py is the emails' side);
        # webhook_receivers sends ratings as `rating.received` webhooks (docs/webhooks.md).
        from transcripts import feedback_admin, webhook_receivers  # noqa: F401
