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

    def schedule(self, deadlines) -> None:
        """Nothing is due to be fired by a queue."""

    def schedule_again(self, second, due_at) -> None:
        """Nothing to wake again."""

    def fire_now(self, due_at) -> None:
        """No worker to wake."""

    def drain_later(self) -> None:
        """No backlog to hand on."""

    def ask_for_help(self) -> None:
        """No other worker to ask."""


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

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions)
