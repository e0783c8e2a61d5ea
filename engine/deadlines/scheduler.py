"""The only RQ user: Redis is the alarm clock for deadlines that the database holds."""
import logging
import re
import uuid
from datetime import UTC, datetime

import redis
from rq import Queue, Retry, Worker

log = logging.getLogger(__name__)

FIRE_DUE = "engine.deadlines.jobs.fire_due"
DRAIN = "engine.deadlines.jobs.drain"
DELIVER = "engine.deadlines.jobs.deliver_webhooks"
WAKE_TTL_MS = 2000  # a wake-up flag lives this long at most, should its job be lost
# jobs hand on a backlog after 30 s; a job that fails (the database restarting) is tried again 2, 5, 10 and 30 s
# later by the workers' scheduler rather than left for the sweep: firing is exact however often a job runs
KEEP = {"result_ttl": 60, "failure_ttl": 86400, "job_timeout": 600, "retry": Retry(max=4, interval=[2, 5, 10, 30])}


class RQScheduler:
    """One job per second in which deadlines fall due, under a deterministic id; helpers for a backlog."""

    def __init__(self, connection: redis.Redis, queue_name: str):
        self.queue = Queue(queue_name, connection=connection)

    def job_id(self, second: int) -> str:
        return f"due-{re.sub(r'[^A-Za-z0-9_-]', '_', self.queue.name)}-{second}"

    def schedule(self, due_times: list[datetime]) -> None:
        """Wake a worker at each second holding a due time; a second already scheduled is not doubled."""
        seconds = sorted({int(due_at.timestamp()) for due_at in due_times})
        try:
            for second in seconds:
                self.queue.enqueue_at(datetime.fromtimestamp(second, UTC), FIRE_DUE, second,
                                      job_id=self.job_id(second), **KEEP)
        except redis.RedisError:
            log.warning("Redis unreachable: %d deadline(s) left for the sweep", len(due_times))

    def schedule_again(self, second: int, due_at: datetime) -> None:
        """A job woken long before its time comes back then, under an id of its own (its own id is running)."""
        self.queue.enqueue_at(due_at.astimezone(UTC), FIRE_DUE, second,
                              job_id=f"{self.job_id(second)}-{uuid.uuid4().hex[:8]}", **KEEP)

    def fire_now(self, due_at: datetime) -> None:
        """Wake a worker now for everything due by `due_at` (the sweep's catch-up)."""
        second = int(due_at.timestamp())
        self.queue.enqueue(FIRE_DUE, second, job_id=f"{self.job_id(second)}-sweep", **KEEP)

    def drain_later(self) -> None:
        """A job that drained for its time slice hands the rest of the backlog to a fresh job."""
        self.queue.enqueue(DRAIN, **KEEP)

    def ask_for_help(self) -> None:
        """A backlog: one drain job for every other worker listening on this queue."""
        for _ in range(max(Worker.count(queue=self.queue) - 1, 0)):
            self.queue.enqueue(DRAIN, **KEEP)


    def wake_webhooks(self, at: datetime | None = None) -> None:
        """Wake a worker to send webhooks: now (one job however many commits ask while it waits) or at `at`.

        A flag in Redis says a job is queued; the job clears it before it looks, so a commit after that
        queues another job. Redis down: the deliveries wait in the database for the worker's sweep."""
        try:
            if at is not None:
                second = int(at.timestamp()) + 1
                self.queue.enqueue_at(datetime.fromtimestamp(second, UTC), DELIVER,
                                      job_id=f"hooks-{self.job_id(second)}", **KEEP)
            elif self.queue.connection.set(self.webhook_flag, 1, nx=True, px=WAKE_TTL_MS):
                self.queue.enqueue(DELIVER, **KEEP)
        except redis.RedisError:
            log.warning("Redis unreachable: webhook deliveries left for the sweep")

    @property
    def webhook_flag(self) -> str:
        return f"gridflow:hooks-queued:{self.queue.name}"

    def webhooks_taken(self) -> None:
        """A delivery job has started looking: the next commit must queue a job of its own."""
        self.queue.connection.delete(self.webhook_flag)

    def webhook_help(self) -> None:
        """A backlog of deliveries: one more job for another worker."""
        self.queue.enqueue(DELIVER, **KEEP)


def connect(url: str) -> redis.Redis:
    """A Redis client for `url`: redis://, rediss://, unix://, or Sentinel as
    redis+sentinel://[:password@]host:port[,host:port...]/service_name[/db]: the master Sentinel names now,
    found again after a failover (RQ's workers and the scheduler work through such a client unchanged)."""
    if url.startswith("redis+sentinel://"):
        return sentinel_master(url)
    return redis.Redis.from_url(url)


def sentinel_master(url: str) -> redis.Redis:
    from urllib.parse import unquote, urlsplit

    from redis.sentinel import Sentinel
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")
    password = unquote(netloc[0].partition(":")[2]) or None if netloc[0] else None
    hosts = [(host.rpartition(":")[0] or host, int(host.rpartition(":")[2] or 26379) if ":" in host else 26379)
             for host in netloc[2].split(",") if host]
    service, _, db = parts.path.strip("/").partition("/")
    if not hosts or not service:
        raise ValueError("a Sentinel URL is redis+sentinel://host:port[,host:port...]/service_name[/db]")
    sentinel = Sentinel(hosts, socket_timeout=2.0, password=password, sentinel_kwargs={"socket_timeout": 2.0})
    return sentinel.master_for(service, db=int(db or 0), socket_timeout=None)
