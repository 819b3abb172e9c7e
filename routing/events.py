"""Routing's own domain signals, sent after commit.

`agent_available(agent_id)`: an agent may take new chats now (chose online, or opened a console
while online). apps.py hands it to the routing policy; services never call the policy directly.

`chat_transferred(chat_id, transfer_id)`: a transfer completed, the chat changed hands (an
accepted transfer or escalation, or a transfer to a topic's queue); sent by routing.transfers.
"""

from django.dispatch import Signal

agent_available = Signal()
chat_transferred = Signal()
