"""Filing and completing dispute cases, service layer and HTTP, against Spiff-alone and one-insert floors.

Run from the project root: python -m bench.throughput [--cases N] [--database-url URL]
"""
import argparse
import os
import secrets
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, Table, Text, event, func, select, text

from app import create_app
from engine import bootstrap
from engine.cases import services
from engine.clock import SystemClock
from engine.config import Settings
from engine.deps import Deps, NullScheduler
from engine.imports import demo
from engine.process import runner, specs
from engine.read import views
from engine.store import db, embedded_redis
from engine.store.model import Base, Case, CompressedText, User
from workflows import CATALOGUE

BENCH_TIMELINE_KEY = secrets.token_bytes(32)  # the tables are made afresh for every run: any key seals them

WARMUP = 5
STORED = CompressedText()  # how cases.state keeps a workflow
START = {"severity": "low", "case_type": "dispute", "reporter": "worker"}
ANSWERS = {  # task name -> (who completes it, form data): the short path to "closed"
    "register_case": ("leader", {"decision": "valid", "risk": "low", "violence": False}),
    "mediate_at_grid": ("leader", {"resolved": True, "outcome": "双方达成和解"}),
    "verify_on_site": ("worker", {"passed": True}),
    "follow_up": ("leader", {"satisfied": True}),
}


def timed(fn, *args):
    """Call fn(*args); return its result and the elapsed milliseconds."""
    start = time.perf_counter()
    result = fn(*args)
    return result, (time.perf_counter() - start) * 1000


def reset(engine) -> None:
    """Drop Gridflow's tables and migrate from scratch, as the tests do (a PostgreSQL database that is not
    there yet is made first)."""
    if engine.dialect.name == "postgresql":
        db.create_database(engine.url.render_as_string(hide_password=False), "postgres")
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        else:
            Base.metadata.drop_all(connection)
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.upgrade(engine, BENCH_TIMELINE_KEY)


def spiff_baseline(n: int) -> dict:
    """SpiffWorkflow alone: create+serialize per case, then restore+complete+serialize per task."""
    spec = specs.parse("dispute", CATALOGUE["dispute"].read_files())
    create, cycle, sizes = [], [], []
    for _ in range(WARMUP + n):
        start = time.perf_counter()
        workflow, step = runner.start(spec, START)
        state = runner.dump(spec, workflow)
        create.append((time.perf_counter() - start) * 1000)
        while step.ready:
            start = time.perf_counter()
            workflow = runner.restore(spec, state)
            step = runner.complete(workflow, step.ready[0].id, ANSWERS[step.ready[0].name][1])
            state = runner.dump(spec, workflow)
            cycle.append((time.perf_counter() - start) * 1000)
            sizes.append((len(state.encode()), len(STORED.process_bind_param(state, None))))
    return {"create": create[WARMUP:], "cycle": cycle[WARMUP * len(ANSWERS):],
            "kb": statistics.mean(s[0] for s in sizes) / 1024, "stored_kb": statistics.mean(s[1] for s in sizes) / 1024}


def insert_baseline(engine, n: int) -> list[float]:
    """One plain Core insert of a ~5 KB row plus commit, per row, into a scratch table dropped after."""
    scratch = Table("bench_scratch", MetaData(), Column("id", Integer, primary_key=True), Column("payload", Text))
    scratch.drop(engine, checkfirst=True)
    scratch.create(engine)
    samples = []
    for _ in range(WARMUP + n):
        payload = secrets.token_hex(2560)  # 5 KB that compression cannot shrink
        start = time.perf_counter()
        with engine.begin() as connection:
            connection.execute(scratch.insert(), {"payload": payload})
        samples.append((time.perf_counter() - start) * 1000)
    scratch.drop(engine)
    return samples[WARMUP:]


def replayed_filing(engine, deps, user_id: int, n: int) -> tuple[int, list[float]]:
    """What a filing's statements cost the database and the driver alone: capture the statements of one filing,
    take its rows out again, then send the same statements with the same parameters through the driver's own
    connection n times, each time in a transaction rolled back (the ids the case and its clocks get are set back
    first, untimed, so the rows that name them find them). Returns the statement count and ms per replay."""
    seen = []

    def capture(_conn, _cursor, statement, parameters, _context, executemany):
        seen.append((statement, parameters, executemany and isinstance(parameters, list)))

    event.listen(engine, "before_cursor_execute", capture)
    case_id = services.file_case(deps, user_id, services.NewCase("dispute", "重放", severity="low"))
    event.remove(engine, "before_cursor_execute", capture)
    with engine.begin() as connection:
        first_clock = connection.scalar(text("SELECT min(id) FROM sla_clocks WHERE case_id = :c"), {"c": case_id})
        for table in reversed(Base.metadata.sorted_tables):
            if "case_id" in table.c:
                connection.execute(table.delete().where(table.c.case_id == case_id))
        connection.execute(Case.__table__.delete().where(Case.id == case_id))
    raw = engine.raw_connection()
    postgresql = engine.dialect.name == "postgresql"
    samples = []
    try:
        for _ in range(WARMUP + n):
            cursor = raw.cursor()
            if postgresql:  # SQLite gives the highest id again by itself; its BEGIN is among the statements
                cursor.execute("SELECT setval('cases_id_seq', %s, false), setval('sla_clocks_id_seq', %s, false)",
                               (case_id, first_clock))
                raw.commit()
            start = time.perf_counter()
            for statement, parameters, many in seen:
                (cursor.executemany if many else cursor.execute)(statement, parameters)
            raw.rollback()
            samples.append((time.perf_counter() - start) * 1000)
            cursor.close()
    finally:
        raw.close()
    return len(seen), samples[WARMUP:]


def run_flow(ops, n: int) -> dict:
    """File n cases, then work leader's and worker's inboxes until empty; ms samples per operation."""
    file_case, inbox, complete = ops
    samples = {"file": [timed(file_case, i)[1] for i in range(n)], "list": [], "complete": []}
    for who in ("leader", "worker", "leader"):
        while True:
            tasks, ms = timed(inbox, who)
            samples["list"].append(ms)
            todo = [t for t in tasks if ANSWERS.get(t["name"], ("",))[0] == who]
            if not todo:
                break
            for task in todo:
                samples["complete"].append(timed(complete, who, task["id"], ANSWERS[task["name"]][1])[1])
    return samples


def measure(ops, deps, n: int) -> dict:
    """Warm up on a few cases, then measure n and check that every case reached "closed"."""
    run_flow(ops, WARMUP)
    samples = run_flow(ops, n)
    with deps.uow() as uow:
        closed = uow.session.scalar(select(func.count()).where(Case.status == "closed"))
    if closed != WARMUP + n or len(samples["complete"]) != n * len(ANSWERS):
        sys.exit(f"only {closed} of {WARMUP + n} cases closed; the figures would be meaningless")
    return samples


def http_ops(client, token_ms: list):
    """file, inbox and complete through the Flask test client, signed in as each demo user."""
    headers = {}

    def call(method, path, who=None, body=None):
        response = client.open(path, method=method, headers=headers.get(who, {}), json=body)
        if response.status_code >= 300:
            sys.exit(f"{method} {path} -> {response.status_code}: {response.get_data(as_text=True)}")
        return response.json

    for who in ("worker", "leader"):
        answer, ms = timed(call, "POST", "/api/v1/auth/token", None, {"username": who, "password": demo.DEMO_PASSWORD})
        token_ms.append(ms)
        headers[who] = {"Authorization": f"Bearer {answer['token']}"}
    return (lambda i: call("POST", "/api/v1/cases", "worker", {"type": "dispute", "title": f"邻里纠纷 {i}",
                                                                "severity": "low"}),
            lambda who: call("GET", "/api/v1/tasks", who),
            lambda who, task_id, data: call("POST", f"/api/v1/tasks/{task_id}/complete", who, {"data": data}))


def service_ops(engine):
    """Fresh tables with the demo loaded; engine.cases.services and engine.read.views on the real clock with a
    NullScheduler, as (deps, worker's id, (file, inbox, complete)) like http_ops'."""
    reset(engine)
    deps = Deps(sessions=db.make_session_factory(engine, BENCH_TIMELINE_KEY), catalogue=CATALOGUE,
                clock=SystemClock(), scheduler=NullScheduler())
    runner.use_clock(deps.clock)
    demo.load(deps)
    with deps.uow() as uow:
        users = {u.username: u for u in uow.session.scalars(select(User))}
    return deps, users["worker"].id, (
        lambda i: services.file_case(deps, users["worker"].id,
                                     services.NewCase("dispute", f"邻里纠纷 {i}", severity="low")),
        lambda who: views.list_tasks(deps, users[who]).items,
        lambda who, task_id, data: services.complete_task(deps, users[who].id, task_id, data))


@contextmanager
def bench_app(engine, tmp: Path, url: str):
    """Fresh tables and the web app with the demo loaded, its RQ scheduler swapped for a NullScheduler; the
    embedded Redis it may have started is stopped at the end."""
    reset(engine)
    settings = Settings(instance_path=tmp, database_url=url, redis_url=os.environ.get("REDIS_URL", ""))
    settings = replace(settings, redis_url=bootstrap.redis_url(settings))
    try:
        app = create_app(settings)
        app.extensions["gridflow"].scheduler = NullScheduler()
        demo.load(app.extensions["gridflow"])
        yield app
    finally:
        if not os.environ.get("REDIS_URL"):
            embedded_redis.stop(tmp)


def service_part(engine, n: int) -> dict:
    """The services' figures, and the driver alone on a filing's statements."""
    deps, worker, ops = service_ops(engine)
    samples = measure(ops, deps, n)
    samples["statements"], samples["replay"] = replayed_filing(engine, deps, worker, n)
    return samples


def http_part(engine, tmp: Path, url: str, n: int) -> dict:
    """The API through the Flask test client."""
    with bench_app(engine, tmp, url) as app:
        token_ms = []
        samples = measure(http_ops(app.test_client(), token_ms), app.extensions["gridflow"], n)
        print(f"redis: {app.config['GRIDFLOW_SETTINGS'].redis_url}; the app's RQ scheduler was replaced by a "
              "NullScheduler after create_app")
    return {**samples, "token": token_ms}


def row(label: str, samples: list, unit: str, floor: float | None = None) -> None:
    """One table line: n, mean ms, p50, p95, throughput and the ratio to the unavoidable cost."""
    mean = statistics.mean(samples)
    p95 = statistics.quantiles(samples, n=20)[18]
    print((f"{label:<46}{len(samples):>5}{mean:>9.2f}{statistics.median(samples):>9.2f}{p95:>9.2f}"
           f"{1000 / mean:>9.0f} {unit:<9}" + (f"{mean / floor:7.1f}x" if floor else "")).rstrip())


def report(spiff: dict, inserts: list, service: dict, http: dict) -> None:
    """Print the table; each floor is Spiff's own work plus one raw insert transaction."""
    floors = {"file": statistics.mean(spiff["create"]) + statistics.mean(inserts),
              "complete": statistics.mean(spiff["cycle"]) + statistics.mean(inserts)}
    print(f"\n{'operation':<46}{'n':>5}{'ms/op':>9}{'p50':>9}{'p95':>9}{'ops/s':>9} {'unit':<9}vs floor")
    row("baseline: Spiff create + serialize", spiff["create"], "cases/s")
    row("baseline: Spiff restore + complete + serialize", spiff["cycle"], "tasks/s")
    row("baseline: raw insert 5 KB + commit", inserts, "rows/s")
    for key, label, unit in (("file", "filing = create + insert", "cases/s"),
                             ("complete", "completing = cycle + insert", "tasks/s")):
        print(f"{'floor: ' + label:<46}{'':>5}{floors[key]:>9.2f}{'':>18}{1000 / floors[key]:>9.0f} {unit}")
    row(f"driver alone: a filing's {service['statements']} statements", service["replay"], "cases/s", floors["file"])
    for layer, samples, names in (
            ("service", service, ("services.file_case", "services.complete_task", "views.list_tasks")),
            ("http", http, ("POST /api/v1/cases", "POST /api/v1/tasks/{id}/complete", "GET /api/v1/tasks"))):
        row(f"{layer}: {names[0]}", samples["file"], "cases/s", floors["file"])
        row(f"{layer}: {names[1]}", samples["complete"], "tasks/s", floors["complete"])
        row(f"{layer}: {names[2]}", samples["list"], "lists/s")
    row("http: POST /api/v1/auth/token (argon2)", http["token"], "tokens/s")


def bench_database(description: str, cases: int):
    """The command line's --cases and --database-url, a temp dir, and the engine of the database to measure on
    (a fresh SQLite file in the temp dir unless a URL is given; a PostgreSQL database that is not there is made)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--cases", type=int, default=cases)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file in a temp dir")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="gridflow-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    if url.startswith("postgresql"):
        db.create_database(url, "postgres")
    return args, tmp, url, db.make_engine(url)


def main() -> None:
    """Measure the floors, the service layer and HTTP on one database, then print the table."""
    began = time.perf_counter()
    args, tmp, url, engine = bench_database(__doc__.splitlines()[0], 200)
    print("command: " + shlex.join(["python", "-m", "bench.throughput", *sys.argv[1:]]))
    print(f"database: {engine.dialect.name} ({engine.url.render_as_string(hide_password=True)}); N = {args.cases} "
          f"cases, {args.cases * len(ANSWERS)} tasks; {WARMUP} warm-up cases per part, not counted")
    spiff = spiff_baseline(args.cases)
    inserts = insert_baseline(engine, args.cases)
    service = service_part(engine, args.cases)
    http = http_part(engine, tmp, url, args.cases)
    engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)
    report(spiff, inserts, service, http)
    print(f"\nBoth parts: NullScheduler (no Redis round trips counted), SystemClock, every case checked to end closed."
          f"\nms/op is the mean, ops/s = 1000 / mean. Spiff state per task: {spiff['kb']:.1f} KB as JSON, "
          f"{spiff['stored_kb']:.1f} KB as stored (compressed). "
          f"\n'driver alone' sends the statements of one services.file_case, as captured, through the driver's own "
          f"connection (no SQLAlchemy, no Spiff; rolled back each time): what its round trips cost by themselves."
          f"\nWall time {time.perf_counter() - began:.1f} s.")


if __name__ == "__main__":
    main()
