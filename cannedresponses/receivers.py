"""Signal receivers: cache invalidation only (no domain logic lives in signals)."""

from typing import Any

from django.db import transaction

from cannedresponses import tone


def on_tone_rule_changed(sender: Any, **kwargs: Any) -> None:
    # After commit: a process that rebuilt its pattern before the commit would otherwise
    # cache the old rules under the new generation.
    transaction.on_commit(tone.invalidate)
