"""Seed the bench database: one topic and one agent per chat, each agent with a live session.

    DJANGO_SETTINGS_MODULE=helpdesk.settings DATABASE_URL=... python bench/seed.py N OUT.json

Agent i handles only topic `bench-i` and holds at most one chat, so the chat started on that
topic is agent i's to `take`: the pairing is known in advance, and no console follows the
queue of 999 other chats (1,000 consoles x 1,000 queued chats would be a million frames of
setup that the benchmark does not mean to measure). Writes one row per agent to OUT.json:
`{"agent": id, "session": sessionid cookie, "topic": slug}`.
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def seed(count: int) -> list[dict[str, object]]:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import Group, User
    from django.contrib.sessions.backends.db import SessionStore

    from helpdesk.models import Topic
    from helpdesk.roles import AGENTS_GROUP
    from routing.models import AgentProfile

    # The setup keeps every chat waiting for minutes before the ramp (all chats start before
    # any socket opens; a widget opens its socket at once): with the default red threshold
    # (180 s), a thousand chats turned red together in the first step and the red-flag sweep
    # (7 s for 1,000 flags) weighed on it. The ramp measures messages, not that burst.
    topics = Topic.objects.bulk_create(
        Topic(
            name=f"Bench {i}", slug=f"bench-{i}", amber_after_seconds=1800, red_after_seconds=3600
        )
        for i in range(count)
    )
    users = User.objects.bulk_create(User(username=f"bench-agent-{i}") for i in range(count))
    for user in users:
        # Unusable, but it still gives get_session_auth_hash() a stable value.
        user.set_unusable_password()
    User.objects.bulk_update(users, ["password"])
    group = Group.objects.get_or_create(name=AGENTS_GROUP)[0]
    group.user_set.add(*users)
    profiles = AgentProfile.objects.bulk_create(
        AgentProfile(user=user, max_chats=1) for user in users
    )
    skills = AgentProfile.topics.through
    skills.objects.bulk_create(
        skills(agentprofile_id=profile.pk, topic_id=topic.pk)
        for profile, topic in zip(profiles, topics, strict=True)
    )
    backend = settings.AUTHENTICATION_BACKENDS[0]
    rows = []
    for user, topic in zip(users, topics, strict=True):
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = backend
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        rows.append({"agent": user.pk, "session": session.session_key, "topic": topic.slug})
    return rows


def main() -> None:
    count, out = int(sys.argv[1]), Path(sys.argv[2])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    import django

    django.setup()
    out.write_text(json.dumps(seed(count)))


if __name__ == "__main__":
    main()
