"""Flood control for one websocket connection: a token bucket plus an abuse trip-wire."""

import time
from collections import deque
from collections.abc import Callable

ABUSE_WINDOW_SECONDS = 10.0


class FloodGuard:
    def __init__(
        self,
        *,
        rate_per_second: float,
        burst: int,
        abuse_rejections: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate_per_second
        self.burst = burst
        self.abuse_rejections = abuse_rejections
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()
        self._rejections: deque[float] = deque()

    def allow(self) -> bool:
        """Spend one token; False (and a rejection recorded) when the bucket is empty."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        self._rejections.append(now)
        return False

    def abusive(self) -> bool:
        """True once a client keeps sending after being told to slow down."""
        horizon = self._clock() - ABUSE_WINDOW_SECONDS
        while self._rejections and self._rejections[0] < horizon:
            self._rejections.popleft()
        return len(self._rejections) >= self.abuse_rejections
