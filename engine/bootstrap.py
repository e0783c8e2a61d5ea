"""Builds the engine's dependencies from Settings; used by app.py, worker.py and the tests."""
from datetime import time, timedelta

from engine.config import Settings
from engine.deadlines.scheduler import RQScheduler, connect
from engine.deps import Deps, WebhookPolicy
from engine.process import runner
from engine.store import db, embedded_redis
from engine.store.blobstore import BlobStore


def redis_url(settings: Settings) -> str:
    """The configured Redis, or the embedded one (started on demand)."""
    return settings.redis_url or embedded_redis.ensure(settings.instance_path)


def office_hours(text: str) -> tuple:
    """'08:30-12:00,14:00-17:30' as ((time, time), ...)."""
    periods = []
    for period in text.split(","):
        start, end = (time.fromisoformat(t.strip()) for t in period.split("-"))
        periods.append((start, end))
    return tuple(periods)


def build(settings: Settings, catalogue: dict, sql_engine=None, clock=None, migrate=True) -> Deps:
    """Deps with a session factory, the RQ scheduler and the clock; migrates the database."""
    sql_engine = sql_engine or db.make_engine(settings.database_url)
    if migrate:
        db.upgrade(sql_engine, settings.chain_key)
    deps = Deps(sessions=db.make_session_factory(sql_engine, settings.chain_key), catalogue=catalogue,
                scheduler=RQScheduler(connect(redis_url(settings)), settings.queue_name),
                timezone=settings.timezone, office_hours=office_hours(settings.office_hours),
                warn_at=tuple(float(f) for f in settings.warn_at.split(",") if f.strip()),
                lease=timedelta(seconds=settings.lease_seconds),
                blobs=BlobStore(settings.attachments_dir), attachment_max_bytes=settings.attachment_max_bytes,
                attachments_per_case=settings.attachments_per_case,
                webhooks=WebhookPolicy(backoff=timedelta(seconds=settings.webhook_backoff_seconds),
                                       max_backoff=timedelta(seconds=settings.webhook_max_backoff_seconds),
                                       retry_for=timedelta(hours=settings.webhook_retry_hours),
                                       timeout=settings.webhook_timeout_seconds,
                                       lease=timedelta(seconds=settings.lease_seconds)),
                partner_retry_window=timedelta(minutes=settings.partner_retry_minutes),
                open311_jurisdiction=settings.open311_jurisdiction)
    if clock is not None:
        deps.clock = clock
    runner.use_clock(deps.clock)
    return deps
