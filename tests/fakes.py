"""Test doubles."""
from datetime import UTC, datetime, timedelta


class FakeClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now: datetime | None = None):
        self._now = now or datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta) -> datetime:
        self._now += timedelta(**delta)
        return self._now

    def set(self, now: datetime) -> None:
        self._now = now


class FakeScheduler:
    """Records what would have gone to RQ."""

    def __init__(self):
        self.scheduled: list[datetime] = []
        self.woken_for: list[datetime] = []
        self.drains_later = 0
        self.helps_asked = 0

    def schedule(self, due_times) -> None:
        self.scheduled.extend(due_times)

    def fire_now(self, due_at) -> None:
        self.woken_for.append(due_at)

    def ask_for_help(self) -> None:
        self.helps_asked += 1

    def drain_later(self) -> None:
        self.drains_later += 1
