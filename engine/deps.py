"""What every service needs, built once by a composition root (app.py or worker.py)."""
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import sessionmaker

from engine.clock import SystemClock
from engine.config import MB, ROOT
from engine.places.geo import GridLocator
from engine.process.catalogue import CaseType
from engine.process.specs import SpecCache
from engine.sla.calendar import OFFICE_HOURS
from engine.store.blobstore import BlobStore
from engine.store.unit_of_work import UnitOfWork


class NullScheduler:
    """Schedules nothing: for tools that only read, and for services run without a queue."""

    def schedule(self, due_times) -> None:
        """Nothing is due to be fired by a queue."""

    def schedule_again(self, second, due_at) -> None:
        """Nothing to wake again."""

    def fire_now(self, due_at) -> None:
        """No worker to wake."""

    def drain_later(self) -> None:
        """No backlog to hand on."""

    def ask_for_help(self) -> None:
        """No other worker to ask."""

    def wake_webhooks(self, at=None) -> None:
        """No worker to send webhooks: the deliveries wait in the database."""

    def webhooks_taken(self) -> None:
        """No wake-up flag to clear."""

    def webhook_help(self) -> None:
        """No other worker to ask."""


@dataclass(frozen=True)
class WebhookPolicy:
    """How webhooks are sent: retries back off from `backoff` doubling up to `max_backoff`, for `retry_for`;
    then the delivery fails, the endpoint is paused and the admins are told. Each request waits `timeout`."""

    backoff: timedelta = timedelta(seconds=30)
    max_backoff: timedelta = timedelta(hours=1)
    retry_for: timedelta = timedelta(hours=24)
    timeout: float = 5.0
    lease: timedelta = timedelta(seconds=60)


@dataclass
class Deps:
    """Session factory, case-type catalogue, spec cache, grid locator, clock, scheduler and file store."""

    sessions: sessionmaker
    catalogue: dict[str, CaseType]
    clock: object = field(default_factory=SystemClock)
    scheduler: object = field(default_factory=NullScheduler)
    specs: SpecCache = field(default_factory=SpecCache)
    locator: GridLocator = field(default_factory=GridLocator)
    timezone: str = "Asia/Shanghai"
    office_hours: tuple = OFFICE_HOURS
    warn_at: tuple[float, ...] = (0.5, 0.8)
    lease: timedelta = timedelta(seconds=60)  # how long a worker holds the deadlines it took to fire
    blobs: BlobStore = field(default_factory=lambda: BlobStore(ROOT / "instance" / "attachments"))
    attachment_max_bytes: int = 10 * MB
    attachments_per_case: int = 50

    webhooks: WebhookPolicy = field(default_factory=lambda: WebhookPolicy())
    partner_retry_window: timedelta = timedelta(minutes=10)  # the same Open311 report within it files once
    open311_jurisdiction: str = ""  # the jurisdiction_id Open311 clients may name ("" : any)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.scheduler)

    def read(self) -> UnitOfWork:
        """A unit of work that only reads (see UnitOfWork): for views, searches and signing in by token."""
        return UnitOfWork(self.sessions, read_only=True)
