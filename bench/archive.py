"""History that stays small, measured: the grid leader's inbox and an open case's timeline, read among many
old closed cases and again after `flask archive` moved them out (PostgreSQL).

Run from the project root: python -m bench.archive [--database-url URL] [--closed N] [--events-per-case K]
[--open N] [--repeats R]. Defaults: 100,000 closed cases of 10 events each (1,000,000 timeline events) and
2,000 open cases; `--closed 1000000` gives 10 million events (about 10 GB and an hour here).

The database's tables are dropped and made again (use a database of its own). One closed dispute is filed and
withdrawn through the services; the bench copies it N times with SQL (its events repeated to K a case, its
tasks), dated two years back, files the open cases through the services, ANALYZEs, and times
`views.list_tasks` (leader's inbox) and `views.case_timeline` (an open case) `--repeats` times. Then it
archives every case closed more than a year ago (`engine.store.archive`, 200 a batch, to a temporary folder),
VACUUMs and ANALYZEs, and times the same reads again. The copies are not re-sealed (their case ids differ from
the template's), so the bench does not verify the archive; tests/integration/test_archive.py does.
"""
import argparse
import secrets
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text

from bench.throughput import reset as schema_reset
from engine.cases import services
from engine.deps import Deps, NullScheduler
from engine.imports import demo
from engine.indicators import rollup
from engine.process import runner
from engine.read import views
from engine.store import archive, db
from engine.store.model import User
from workflows import CATALOGUE

TABLES = ("cases", "tasks", "timeline_events", "deadlines", "sla_clocks")


def timed(fn, repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def sizes(engine) -> dict[str, tuple[int, int]]:
    """Rows and total size in MB (with indexes) of the tables a case fills."""
    with engine.connect() as c:
        return {t: (c.scalar(text(f"SELECT count(*) FROM {t}")),
                    round(c.scalar(text(f"SELECT pg_total_relation_size('{t}')")) / 2**20)) for t in TABLES}


def copy_closed(engine, template: int, n: int, per_case: int, closed_at: datetime) -> None:
    """n copies of the template case, closed at `closed_at`, each with `per_case` events and the template's
    tasks, in batches of 20,000 cases."""
    with engine.connect() as c:
        columns = [r[0] for r in c.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'cases' AND column_name <> 'id' "
            "ORDER BY ordinal_position"))]
        events = c.scalar(text("SELECT count(*) FROM timeline_events WHERE case_id = :t"), {"t": template})
    chosen = ", ".join(columns)
    naive = closed_at.astimezone(UTC).replace(tzinfo=None)  # the columns hold UTC without a zone
    values = ", ".join({"number": "'ARC-' || g", "created_at": ":created", "updated_at": ":closed",
                        "closed_at": ":closed"}.get(col, f"t.{col}") for col in columns)
    for start in range(0, n, 20000):
        stop = min(start + 20000, n)
        with engine.begin() as c:
            last = c.scalar(text("SELECT max(id) FROM cases"))
            c.execute(text(f"INSERT INTO cases ({chosen}) SELECT {values} FROM cases t, "
                           "generate_series(CAST(:a AS integer), CAST(:b AS integer)) g WHERE t.id = :t"),
                      {"t": template, "a": start + 1, "b": stop, "closed": naive, "created": naive - timedelta(days=7)})
            c.execute(text(
                "INSERT INTO timeline_events (case_id, seq, at, actor_id, actor, kind, task_id, reason, payload, "
                "prev_hash, hash) SELECT c.id, e.seq + k * :events, e.at, e.actor_id, e.actor, e.kind, e.task_id, "
                "e.reason, e.payload, e.prev_hash, e.hash FROM cases c JOIN timeline_events e ON e.case_id = :t "
                "CROSS JOIN generate_series(0, CAST(:repeat AS integer) - 1) k "
                "WHERE c.id > :last AND e.seq + k * :events <= :per_case"),
                {"t": template, "events": events, "repeat": -(-per_case // events), "per_case": per_case,
                 "last": last})
            c.execute(text(
                "INSERT INTO tasks (id, case_id, name, title, lane, candidate_role, department_kind, department_id, "
                "grid_id, assignee_id, status, created_at, claimed_at, completed_at, completed_by_id, due_at) "
                "SELECT md5(random()::text || c.id || t.id)::uuid::text, c.id, t.name, t.title, t.lane, "
                "t.candidate_role, t.department_kind, t.department_id, t.grid_id, t.assignee_id, t.status, "
                "t.created_at, t.claimed_at, t.completed_at, t.completed_by_id, t.due_at FROM cases c "
                "JOIN tasks t ON t.case_id = :t WHERE c.id > :last"), {"t": template, "last": last})


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.archive", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/gridflow_archive")
    parser.add_argument("--closed", type=int, default=100_000)
    parser.add_argument("--events-per-case", type=int, default=10)
    parser.add_argument("--open", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args(argv)
    key = secrets.token_hex(32).encode()
    engine = db.make_engine(args.database_url)
    if engine.dialect.name != "postgresql":
        raise SystemExit("bench.archive runs on PostgreSQL (its copies are made with generate_series)")
    schema_reset(engine)
    db.upgrade(engine, key)
    deps = Deps(sessions=db.make_session_factory(engine, key), catalogue=CATALOGUE, scheduler=NullScheduler())
    runner.use_clock(deps.clock)
    demo.load(deps)
    with deps.uow() as uow:
        users = {u.username: u for u in uow.session.scalars(select(User).where(User.username.in_(
            ["worker", "leader"])))}
    worker = users["worker"].id
    template = services.file_case(deps, worker, services.NewCase("dispute", "旧纠纷", "楼上漏水"))
    services.withdraw_case(deps, worker, template, "双方已和解")
    rollup.catch_up(deps)  # counted by the indicators, as the worker would: its copies are too (`indicator_seq`)
    started = time.perf_counter()
    copy_closed(engine, template, args.closed, args.events_per_case, datetime.now(UTC) - timedelta(days=730))
    opened = [services.file_case(deps, worker, services.NewCase("dispute", f"纠纷 {i}", "楼上漏水"))
              for i in range(args.open)]
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("VACUUM ANALYZE"))
    print(f"loaded in {time.perf_counter() - started:.0f} s: {args.closed:,} closed cases of "
          f"{args.events_per_case} events, {args.open:,} open ones")

    def reads() -> dict[str, list[float]]:
        return {"leader's inbox (views.list_tasks)": timed(lambda: views.list_tasks(deps, users["leader"]),
                                                            args.repeats),
                "an open case's timeline (views.case_timeline)": timed(
                    lambda: views.case_timeline(deps, users["worker"], opened[len(opened) // 2]), args.repeats)}

    before, size_before = reads(), sizes(engine)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        done = archive.archive(deps.sessions, datetime.now(UTC) - timedelta(days=365), Path(folder))
        archive_mb = Path(done["file"]).stat().st_size / 2**20 if done["file"] else 0
        took = time.perf_counter() - started
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("VACUUM ANALYZE"))
    after, size_after = reads(), sizes(engine)

    print(f"archived {done['cases']:,} cases ({done['rows']:,} rows) in {took:.0f} s "
          f"({done['cases'] / took:,.0f} cases/s) to a {archive_mb:.0f} MB file\n")
    print("| read | before: p50 ms | p95 ms | after: p50 ms | p95 ms |\n|---|---|---|---|---|")
    for name in before:
        b, a = sorted(before[name]), sorted(after[name])
        print(f"| {name} | {statistics.median(b):.2f} | {b[int(len(b) * 0.95) - 1]:.2f} | "
              f"{statistics.median(a):.2f} | {a[int(len(a) * 0.95) - 1]:.2f} |")
    print("\n| table | rows before | MB before | rows after | MB after |\n|---|---|---|---|---|")
    for table in TABLES:
        print(f"| {table} | {size_before[table][0]:,} | {size_before[table][1]:,} | {size_after[table][0]:,} | "
              f"{size_after[table][1]:,} |")


if __name__ == "__main__":
    main()
