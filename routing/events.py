"""Routing's own domain signal, sent after commit.

`agent_available(agent_id)`: an agent may take new chats now (chose online, or opened a console
while online). apps.py hands it to the routing policy; services never call the policy directly.
"""

from django.dispatch import Signal

agent_available = Signal()
