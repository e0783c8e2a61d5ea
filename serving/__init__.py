"""Serving the web app in production: health and readiness, Prometheus metrics, request ids and request logs.

`python -m serving` (serving/supervisor.py) starts gunicorn with serving/gunicorn_conf.py and the RQ workers;
`register(app)` adds to the Flask app what an operator and a load balancer ask of it.
"""
import hmac
import logging
import time
from functools import cache

import redis
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import Response, g, jsonify, request
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import text

from engine.store import db as database
from serving import logs, metrics

log = logging.getLogger("gridflow.request")


@cache
def migrations_head() -> str:
    """The newest migration this code carries (read from the migration files once per process)."""
    config = Config()
    config.set_main_option("script_location", str(database.MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def quick_redis(connection: redis.Redis) -> redis.Redis:
    """A client for the same Redis that gives up after a second, for readiness checks."""
    pool = connection.connection_pool
    if type(pool) is not redis.ConnectionPool:  # Sentinel's pool finds the master itself: use it as it is
        return connection
    kwargs = {**pool.connection_kwargs, "socket_timeout": 1.0, "socket_connect_timeout": 1.0,
              "retry": Retry(NoBackoff(), 0)}  # a readiness check answers now rather than retry for seconds
    return redis.Redis(connection_pool=redis.ConnectionPool(connection_class=pool.connection_class, **kwargs))


class Readiness:
    """What /readyz checks: the app's database engine, its Redis (None with no queue) and the code's migration."""

    def __init__(self, sql_engine, redis_client, head: str):
        self.sql_engine, self.redis_client, self.head = sql_engine, redis_client, head

    def check(self) -> dict[str, str]:
        return readiness(self.sql_engine, self.redis_client, self.head)


def readiness(sql_engine, redis_client, head: str) -> dict[str, str]:
    """Each dependency's state: "ok" or what is wrong with it."""
    checks = {}
    try:
        with sql_engine.connect() as connection:
            current = connection.scalar(text("SELECT version_num FROM alembic_version"))
        checks["database"] = "ok"
        checks["migrations"] = "ok" if current == head else (
            f"the database is at migration {current}, this code needs {head}: run the migrations")
    except Exception as exc:  # any driver's error: unreachable, refused, no such table
        checks["database"] = f"unreachable: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        checks["migrations"] = "unknown: the database is unreachable"
    if redis_client is None:
        checks["redis"] = "ok (none needed)"
    else:
        try:
            redis_client.ping()
            checks["redis"] = "ok"
        except (redis.RedisError, OSError) as exc:
            checks["redis"] = f"unreachable: {type(exc).__name__}: {str(exc)[:200]}"
    return checks


def register(app) -> None:
    """/readyz and /metrics, a request id on every request and answer, a log line and a timing per request."""
    settings, deps = app.config["GRIDFLOW_SETTINGS"], app.extensions["gridflow"]
    sql_engine = deps.sessions.kw["bind"]
    queue = getattr(deps.scheduler, "queue", None)
    app.extensions["readiness"] = Readiness(
        sql_engine, quick_redis(queue.connection) if queue is not None else None, migrations_head())
    metrics.watch(deps.sessions)
    state = metrics.StateCollector(deps)
    token = settings.metrics_token

    @app.before_request
    def start_request():
        g.request_started = time.perf_counter()
        g.request_id = logs.request_id_from(request.headers.get(logs.HEADER))
        g.request_context = (logs.REQUEST_ID.set(g.request_id), logs.CASES.set([]))

    @app.after_request
    def finish_request(response):
        response.headers[logs.HEADER] = g.get("request_id") or logs.request_id_from(None)
        started = g.get("request_started")
        if started is not None:
            seconds = time.perf_counter() - started
            endpoint = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
            metrics.observe_request(request.method, endpoint, response.status_code, seconds)
            case = ",".join(logs.CASES.get() or []) or None
            case_id = (request.view_args or {}).get("case_id")
            log.info("%s %s %s %.1f ms", request.method, request.path, response.status_code, seconds * 1000,
                     extra={"method": request.method, "path": request.path, "endpoint": endpoint,
                            "status": response.status_code, "ms": round(seconds * 1000, 1), "case": case,
                            "request_id": g.get("request_id"),
                            "case_id": case_id})
        return response

    @app.teardown_request
    def end_request(_exc):
        context = g.pop("request_context", None)
        if context is not None:
            logs.REQUEST_ID.reset(context[0])
            logs.CASES.reset(context[1])

    @app.get("/readyz")
    def ready():
        """Readiness: the database and Redis answer and the schema is at this code's newest migration."""
        checks = app.extensions["readiness"].check()
        ok = all(value.startswith("ok") for value in checks.values())
        return jsonify(status="ready" if ok else "unready", checks=checks), 200 if ok else 503

    @app.get("/metrics")
    def prometheus():
        """Prometheus text format; only with GRIDFLOW_METRICS_TOKEN set and given as a bearer token."""
        if not token:
            return jsonify(code=404, message="Not found: /metrics is off (set GRIDFLOW_METRICS_TOKEN)",
                           errors={}), 404
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return (jsonify(code=401, message="/metrics needs its bearer token", errors={}), 401,
                    {"WWW-Authenticate": 'Bearer realm="metrics"'})
        body, content_type = metrics.exposition(state)
        return Response(body, content_type=content_type)
