"""Page load times of the field app among many open cases, against a trivial page measured in the same run.

Run from the project root: python -m bench.pages [--cases N] [--requests N] [--database-url URL] [--redis-url URL]
The open cases are bulk-inserted as bench.grid does (one open task each, all reported by `worker`), a few real
ones are filed and moved on through the services, and every page is asked for through the Flask test client,
signed in through the sign-in page as the user who uses it.
"""
import argparse
import os
import random
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text

from app import create_app
from bench.grid import load
from engine import bootstrap
from engine.cases import services
from engine.config import Settings
from engine.deps import NullScheduler
from engine.imports import demo
from engine.store import db, embedded_redis
from engine.store.model import Case, Notification, Task, User

WARMUP = 3
REAL_CASES = 3  # filed through the services: the case and task pages show one of them


def prepare(engine, cases: int) -> None:
    """Fresh schema with Nan'an and `cases` open cases (bench.grid's loader), one notice per case."""
    load(engine, cases)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":  # the loader gave the cases their ids: the sequence follows
            connection.execute(text("SELECT setval(pg_get_serial_sequence('cases', 'id'), "
                                    "(SELECT max(id) FROM cases))"))
        users = connection.execute(select(User.id, User.username)).all()
        leader = next(i for i, name in users if name == "leader")
        rng, now = random.Random(5), datetime.now(UTC)
        rows = [dict(user_id=leader if i % 50 == 0 else rng.choice(users)[0], case_id=i, kind="sla_warning",
                     message="立案已用时 80%", created_at=now - timedelta(minutes=cases - i),
                     read_at=None if i % 2 else now) for i in range(1, cases + 1)]
        for start in range(0, len(rows), 5000):
            connection.execute(insert(Notification), rows[start:start + 5000])


def real_cases(deps) -> tuple[int, str]:
    """A few disputes filed by `worker` and registered by `leader`, who claims the next step of the last one:
    (that case's id, its task's id)."""
    with deps.uow() as uow:
        ids = dict(uow.session.execute(select(User.username, User.id).where(
            User.username.in_(("worker", "leader")))).all())
    for i in range(REAL_CASES):
        case_id = services.file_case(deps, ids["worker"], services.NewCase("dispute", f"宅基地纠纷 {i}", "两户争执"))
        with deps.uow() as uow:
            register = uow.session.scalar(select(Task.id).where(Task.case_id == case_id, Task.status == "open"))
        services.complete_task(deps, ids["leader"], register, {"decision": "valid", "risk": "low", "violence": False})
    with deps.uow() as uow:
        task_id = uow.session.scalar(select(Task.id).where(Task.case_id == case_id, Task.status == "open"))
    services.claim_task(deps, ids["leader"], task_id)
    return case_id, task_id


def signed_in(app, username: str | None):
    client = app.test_client()
    if username:
        answer = client.post("/signin", data={"username": username, "password": demo.DEMO_PASSWORD})
        if answer.status_code != 302:
            sys.exit(f"{username} could not sign in: {answer.status_code}")
    return client


def timed(client, path: str, n: int) -> list[float]:
    """Milliseconds per GET of `path` (after WARMUP uncounted ones); every answer must be 200."""
    samples = []
    for k in range(WARMUP + n):
        start = time.perf_counter()
        answer = client.get(path)
        took = (time.perf_counter() - start) * 1000
        answer.close()
        if answer.status_code != 200:
            sys.exit(f"GET {path} answered {answer.status_code}")
        if k >= WARMUP:
            samples.append(took)
    return samples


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18]


def measure(app, case_id: int, task_id: str, n: int) -> list[tuple[str, str, list[float]]]:
    """(page, user, samples) for the baselines and every page."""
    clients = {who: signed_in(app, who) for who in ("worker", "leader", "judicial")}
    clients[""] = signed_in(app, None)
    pages = [("", "/assets/app.css"), ("", "/signin"),
             *(("leader", f"/inbox?tab={tab}") for tab in ("mine", "offered", "overdue", "soon")),
             ("judicial", "/inbox?tab=offered"), ("leader", f"/tasks/{task_id}"), ("leader", "/notices"),
             ("worker", "/my"), ("worker", f"/cases/{case_id}"), ("worker", "/report")]
    shown = {f"/tasks/{task_id}": "/tasks/<id>", f"/cases/{case_id}": "/cases/<id>"}
    return [(shown.get(path, path), who or "-", timed(clients[who], path, n)) for who, path in pages]


def report(rows, baseline: float) -> None:
    print(f"\n{'page':<24}{'user':<10}{'n':>4}{'p50 ms':>9}{'p95 ms':>9}{'vs baseline':>13}")
    for path, who, samples in rows:
        median = statistics.median(samples)
        print(f"{path:<24}{who:<10}{len(samples):>4}{median:>9.2f}{p95(samples):>9.2f}{median / baseline:>12.1f}x")


def main() -> None:
    """Load the cases, start the app on them, time the pages, print the table."""
    began = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file in a temp dir "
                        "(the headline figures are PostgreSQL's); the bench drops and recreates the schema")
    parser.add_argument("--redis-url", default="", help="default: the embedded Redis (the pages hardly use it)")
    args = parser.parse_args()
    print("command: " + shlex.join(["python", "-m", "bench.pages", *sys.argv[1:]]))
    tmp = Path(tempfile.mkdtemp(prefix="gridflow-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    if url.rsplit("/", 1)[-1] == "test":
        sys.exit("refusing the database named test, which the test suite uses")
    engine = db.make_engine(url)
    settings = Settings(instance_path=tmp, database_url=url, redis_url=args.redis_url,
                        timeline_key="bench-pages", secret_key="bench-pages")
    try:
        started = time.perf_counter()
        prepare(engine, args.cases)
        loaded = time.perf_counter() - started
        app = create_app(settings if args.redis_url else replace(settings, redis_url=bootstrap.redis_url(settings)))
        deps = app.extensions["gridflow"]
        deps.scheduler = NullScheduler()
        case_id, task_id = real_cases(deps)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text("ANALYZE"))
            open_cases = connection.scalar(select(func.count()).select_from(Case).where(
                Case.status.not_in(("closed", "invalid", "duplicate", "withdrawn", "referred"))))
            planner = (f", random_page_cost {connection.scalar(text('SHOW random_page_cost'))}"
                       if engine.dialect.name == "postgresql" else "")
        print(f"database: {engine.dialect.name}{planner} ({engine.url.render_as_string(hide_password=True)}); "
              f"{open_cases:,} open cases ({args.cases:,} bulk-loaded in {loaded:.1f} s, {REAL_CASES} filed), "
              f"one notice per case; {args.requests} requests per page after {WARMUP} uncounted")
        rows = measure(app, case_id, task_id, args.requests)
    finally:
        engine.dispose()
        if not args.redis_url:
            embedded_redis.stop(tmp)
        shutil.rmtree(tmp, ignore_errors=True)
    report(rows, statistics.median(rows[1][2]))
    print(f"\nload average of the machine at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
          f"({os.cpu_count()} CPUs)")
    print("baseline: the sign-in page (a template, no query); the stylesheet is the static-file floor."
          "\nFlask test client in this process (no network, no browser). "
          f"Wall time {time.perf_counter() - began:.1f} s.")


if __name__ == "__main__":
    main()
