from django.apps import AppConfig


class CannedResponsesConfig(AppConfig):
    name = "cannedresponses"
    verbose_name = "Canned responses"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from cannedresponses import receivers
        from cannedresponses.models import ToneRule
        from chat import events as chat_events

        # The tone guard caches one compiled pattern per process: every change of a rule
        # (admin, shell, seed command) invalidates it everywhere.
        for signal in (post_save, post_delete):
            signal.connect(
                receivers.on_tone_rule_changed,
                sender=ToneRule,
                dispatch_uid=f"cannedresponses.tone.{signal is post_save}",
            )
        # Chat (floor 2) knows nothing of canned responses: the greeting subscribes here.
        chat_events.chat_assigned.connect(
            receivers.on_chat_assigned, dispatch_uid="cannedresponses.greeting"
        )
        # The answer bot (docs/knowledge-base.md, "Answer bot"): customer questions of queued
        # chats are answered in a task; its customer frames go through chat's dispatcher.
        from cannedresponses import answerbot_handlers
        from chat import dispatch

        chat_events.message_posted.connect(
            receivers.on_message_posted, dispatch_uid="cannedresponses.answerbot"
        )
        for frame_type, handler in (
            ("bot_status", answerbot_handlers.bot_status_frame),
            ("bot_feedback", answerbot_handlers.bot_feedback_frame),
            ("human", answerbot_handlers.human_frame),
        ):
            dispatch.register_frame_handler(role="customer", frame_type=frame_type, handler=handler)
