"""Time as a dependency: code that needs "now" asks a clock, so tests can move time."""
from datetime import UTC, datetime


class SystemClock:
    """The real time, always timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)
