"""Flood control of one websocket: a token bucket plus an abuse trip-wire (pure, fake clock)."""

from chat.flood import ABUSE_WINDOW_SECONDS, FloodGuard


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def guard(clock: FakeClock, *, rate: float = 2, burst: int = 3, abuse: int = 4) -> FloodGuard:
    return FloodGuard(rate_per_second=rate, burst=burst, abuse_rejections=abuse, clock=clock)


def test_a_burst_is_allowed_then_refused() -> None:
    clock = FakeClock()
    flood = guard(clock, burst=3)
    assert [flood.allow() for _ in range(4)] == [True, True, True, False]


def test_tokens_refill_at_the_rate() -> None:
    clock = FakeClock()
    flood = guard(clock, rate=2, burst=3)
    for _ in range(3):
        assert flood.allow()
    assert not flood.allow()
    clock.advance(0.5)  # one token at 2/s
    assert flood.allow()
    assert not flood.allow()


def test_refill_is_capped_at_the_burst() -> None:
    clock = FakeClock()
    flood = guard(clock, rate=2, burst=3)
    clock.advance(3600)
    assert [flood.allow() for _ in range(4)] == [True, True, True, False]


def test_a_steady_client_within_the_rate_is_never_refused() -> None:
    clock = FakeClock()
    flood = guard(clock, rate=2, burst=1)
    for _ in range(100):
        assert flood.allow()
        clock.advance(0.5)
    assert not flood.abusive()


def test_abusive_after_enough_rejections_within_the_window() -> None:
    clock = FakeClock()
    flood = guard(clock, rate=0, burst=1, abuse=3)
    assert flood.allow()
    assert not flood.allow()
    assert not flood.allow()
    assert not flood.abusive()
    assert not flood.allow()
    assert flood.abusive()


def test_rejections_older_than_the_window_are_forgotten() -> None:
    clock = FakeClock()
    flood = guard(clock, rate=0, burst=0, abuse=3)
    assert not flood.allow()
    assert not flood.allow()
    clock.advance(ABUSE_WINDOW_SECONDS + 1)
    assert not flood.allow()
    assert not flood.abusive()  # only one rejection is recent
    assert not flood.allow()
    assert not flood.allow()
    assert flood.abusive()


def test_allowed_frames_do_not_count_as_rejections() -> None:
    clock = FakeClock()
    flood = guard(clock, rate=100, burst=100, abuse=1)
    for _ in range(50):
        assert flood.allow()
    assert not flood.abusive()
