"""The ASGI entry point keeps the garbage collector's full passes rare: in a server holding
thousands of sockets each one paused every socket for hundreds of milliseconds."""

import gc

import helpdesk.asgi  # noqa: F401  (configures the collector on import)


def test_startup_objects_are_frozen_and_young_collections_are_spaced() -> None:
    assert gc.get_freeze_count() > 10_000
    assert gc.get_threshold()[0] >= 10_000
