"""Fakes the test layers share: time that moves only when something sleeps."""

from __future__ import annotations


class Clock:
    """Fake time for a source and its stand-in: ``sleep`` moves it on and every wait is kept.

    Pass ``clock.sleep`` as the source's sleep and ``clock`` itself as its clock (epoch seconds).
    """

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now
