"""The only RQ user: deadlines go to Redis under deterministic job ids, as an alarm clock."""
import logging
from datetime import UTC, datetime

import redis
from rq import Queue

log = logging.getLogger(__name__)

FIRE = "engine.jobs.fire_deadline"


def job_id(deadline_id: int) -> str:
    return f"deadline-{deadline_id}"


class RQScheduler:
    """Schedules deadline firings with `enqueue_at`; the database stays the source of truth."""

    def __init__(self, connection: redis.Redis, queue_name: str):
        self.queue = Queue(queue_name, connection=connection)

    def schedule(self, deadlines: list[tuple[int, datetime]]) -> None:
        """Ask RQ to wake a worker at each due time; an id already queued is replaced, not doubled."""
        try:
            for deadline_id, due_at in deadlines:
                self.queue.enqueue_at(due_at.astimezone(UTC), FIRE, deadline_id,
                                      job_id=job_id(deadline_id), result_ttl=60, failure_ttl=86400)
        except redis.RedisError:
            log.warning("Redis unreachable: %d deadline(s) left for the sweep", len(deadlines))

    def fire_now(self, deadline_ids: list[int]) -> None:
        """Queue firings that are already due (the sweep's catch-up)."""
        for deadline_id in deadline_ids:
            self.queue.enqueue(FIRE, deadline_id, job_id=job_id(deadline_id), result_ttl=60,
                               failure_ttl=86400)


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)
