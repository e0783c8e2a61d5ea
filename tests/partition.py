"""Each pytest-xdist worker's own share of the test services, so parallel tests cannot see each other.

Under xdist every worker is a process named gw0, gw1...: it gets its own PostgreSQL database beside the
base one (test_gw0, test_gw1...), the Redis database after the base one's (14, 15...) and its own RQ queue.
Its SQLite file and embedded Redis live in its own temporary instance folder already. Without xdist the
names are the base ones."""
import os
from urllib.parse import urlsplit

from sqlalchemy import make_url

from engine.store import db

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1"... in an xdist worker, else ""


def database_url(base: str) -> str:
    """The worker's PostgreSQL database: the base URL's database with the worker's name appended."""
    if not WORKER or not base.startswith("postgresql"):
        return base
    url = make_url(base)
    return url.set(database=f"{url.database}_{WORKER}").render_as_string(hide_password=False)


def redis_url(base: str) -> str:
    """The worker's Redis database: the base URL's number plus the worker's (Redis has 0-15 by default)."""
    parts = urlsplit(base)
    if not WORKER or parts.scheme not in ("redis", "rediss"):
        return base
    number = int(parts.path.strip("/") or 0) + int(WORKER.removeprefix("gw"))
    return parts._replace(path=f"/{number}").geturl()


def queue_name(base: str) -> str:
    return f"{base}-{WORKER}" if WORKER else base


def create_database(base: str) -> None:
    """Create the worker's PostgreSQL database, connected to the base one, unless it exists already."""
    url = database_url(base)
    if url != base:
        db.create_database(url, make_url(base).database)
