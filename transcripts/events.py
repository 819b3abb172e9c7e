"""Transcripts' own domain signals, sent after commit.

`rating_received(chat_id, rating_id, updated)`: a customer rated a chat (`updated`: they changed
an earlier rating within the edit window); sent by transcripts.feedback.rating_submit.
"""

from django.dispatch import Signal

rating_received = Signal()
