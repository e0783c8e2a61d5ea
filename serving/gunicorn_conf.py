"""gunicorn's settings for Gridflow (`gunicorn -c python:serving.gunicorn_conf "app:create_app()"`).

Read from the environment by serving/supervisor.py's children; each has a default fit for one machine:

- GRIDFLOW_BIND (127.0.0.1:5000): where to listen; several addresses separated by commas.
- GRIDFLOW_WEB_WORKERS (2 x CPU cores + 1): web processes. Each is a sync worker answering one request at a
  time: requests are short (a filing is a few milliseconds of CPU and one transaction), and a reverse proxy
  in front buffers slow clients.
- GRIDFLOW_WEB_TIMEOUT (60): seconds a request may take before gunicorn kills and replaces its process (an
  admin import of a large file is the slowest); a killed request's transaction is rolled back by the database.
- GRIDFLOW_GRACEFUL_SECONDS (30): on SIGTERM, how long requests under way may take to finish.
- GRIDFLOW_MAX_REQUESTS (0: never): recycle a web process after about this many requests.

limit_request_line is gunicorn's maximum, 8190 bytes (its default is 4094): a request line longer than that
(method, path with query string, protocol) is answered by gunicorn itself, before the app, with a 414 and a
small HTML page; docs/api.md says so. Header fields are capped at 8190 bytes each and 100 in number.
"""
import logging
import multiprocessing
import os

from serving import logs

bind = [address.strip() for address in os.environ.get("GRIDFLOW_BIND", "127.0.0.1:5000").split(",")]
workers = int(os.environ.get("GRIDFLOW_WEB_WORKERS") or 2 * multiprocessing.cpu_count() + 1)
worker_class = "sync"
timeout = int(os.environ.get("GRIDFLOW_WEB_TIMEOUT", 60))
graceful_timeout = int(os.environ.get("GRIDFLOW_GRACEFUL_SECONDS", 30))
keepalive = 5  # seconds; behind a proxy that keeps connections open to the app
max_requests = int(os.environ.get("GRIDFLOW_MAX_REQUESTS", 0))
max_requests_jitter = max_requests // 10
limit_request_line = 8190  # gunicorn's maximum; 0 would mean unlimited
limit_request_fields = 100
limit_request_field_size = 8190
preload_app = False  # each web process builds the app itself: no connection is shared across a fork
proc_name = "gridflow-web"
accesslog = None  # the app logs every request itself, with its request id and case (serving/__init__.py)
control_socket_disable = True  # gunicorn's runtime control socket: not used (the supervisor sends signals)
errorlog = "-"
loglevel = "info"
forwarded_allow_ips = os.environ.get("GRIDFLOW_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

_FORMAT = os.environ.get("GRIDFLOW_LOG_FORMAT", "text").lower()
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": logs.ContextFilter}},
    "formatters": {"gridflow": {"()": logs.JsonFormatter} if _FORMAT == "json" else {"format": logs.TEXT_FORMAT}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                            "formatter": "gridflow", "filters": ["context"]}},
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},  # see accesslog
        **{name: {"level": logging.getLevelName(level)} for name, level in logs.QUIET.items()},
    },
}


def child_exit(_server, worker):
    """A web process is gone: its live gauges leave the metrics (its counters stay summed)."""
    from serving import metrics
    metrics.process_died(worker.pid)
