"""SLA deadlines fired by real worker processes: peak lateness, burst throughput and sweep cost, against a floor.

Run from the project root: python -m bench.sla [--database-url URL] [--redis-url URL] [--kind warning|breach]
[--peak N] [--burst N] [--open-small N] [--open-large N]. Every case keeps one pending SLA deadline of its
register_case clock: the 50% warning (a notice), or with --kind breach the breach (escalation, order, new clocks).
"""
import argparse
import multiprocessing
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
from rq import Worker
from rq.job import Job
from sqlalchemy import and_, bindparam, create_engine, event, func, insert, not_, select, text, update

from bench.throughput import BENCH_TIMELINE_KEY
from bench.throughput import reset as schema_reset
from engine import bootstrap
from engine.cases import services
from engine.config import Settings
from engine.deadlines import firing, jobs
from engine.deadlines.scheduler import RQScheduler
from engine.deps import Deps, NullScheduler
from engine.imports import demo
from engine.process import runner, versions
from engine.store import db, embedded_redis
from engine.store.model import Case, Deadline, ProcessVersion, SlaClock, Task, TimelineEvent, User
from workflows import CATALOGUE

ROOT = Path(__file__).resolve().parent.parent
LOCAL_REDIS = "redis://127.0.0.1:6379/13"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
EVENT = {"warning": "sla_warning", "breach": "sla_breached"}  # what a firing of each kind records


def chosen(kind: str):
    """The one SLA deadline each case keeps: its register_case clock's 50% warning, or its breach."""
    return and_(Deadline.name == "register_case", Deadline.kind == kind,
                Deadline.fraction == (0.5 if kind == "warning" else 1.0))
FLOOR, TEMPLATES, WORKERS, DUE_SET = 100, 20, 2, 1000


def reset(engine) -> Deps:
    """Drop Gridflow's tables (PostgreSQL: the public schema), migrate, load the demo; Deps with a NullScheduler."""
    schema_reset(engine)
    deps = Deps(sessions=db.make_session_factory(engine, BENCH_TIMELINE_KEY), catalogue=CATALOGUE,
                scheduler=NullScheduler())
    runner.use_clock(deps.clock)
    demo.load(deps)
    return deps


def pick_redis(url: str, tmp: Path) -> str:
    """--redis-url, else the machine's Redis (db 13) if it answers, else the embedded one."""
    if url:
        return url
    try:
        redis.Redis.from_url(LOCAL_REDIS, socket_connect_timeout=0.5).ping()
        return LOCAL_REDIS
    except redis.RedisError:
        return bootstrap.redis_url(Settings(instance_path=tmp))


def file_cases(deps: Deps, n: int, kind: str) -> dict[int, int]:
    """File n dispute cases as `worker`, cancel their SLA deadlines but the chosen one; case id -> deadline id."""
    with deps.uow() as uow:
        worker = uow.session.scalar(select(User.id).where(User.username == "worker"))
    ids = [services.file_case(deps, worker, services.NewCase("dispute", f"邻里纠纷 {i}")) for i in range(n)]
    with deps.uow() as uow:  # the workflow's own timer row stays: it is hours away and must match the workflow
        uow.session.execute(update(Deadline).where(Deadline.case_id.in_(ids), Deadline.kind.in_(
            ("warning", "breach")), not_(chosen(kind))).values(cancelled_at=deps.clock.now()))
        kept = dict(uow.session.execute(select(Deadline.case_id, Deadline.id).where(
            Deadline.case_id.in_(ids), chosen(kind))).all())
        uow.commit()
    return kept


def add(c, model, rows: list[dict], *returning: str):
    """Bulk INSERT with Core, ids from the database (a task's id is its workflow uuid), RETURNING in order."""
    table = model.__table__
    query = insert(table).returning(*(table.c[r] for r in returning), sort_by_parameter_order=True)
    return c.execute(query if returning else insert(table),
                     [{k: v for k, v in row.items() if k != "id" or model is Task} for row in rows])


def copy_cases(engine, templates: list[int], n: int, prefix: str, kind: str) -> dict[int, int]:
    """n copies of filed cases: fresh workflow uuids, own clocks, pending deadlines only; case id -> deadline id."""
    with engine.connect() as c:
        of = {m: {t: [r._asdict() for r in c.execute(select(m.__table__).where(
            (m.id if m is Case else m.case_id) == t))] for t in templates} for m in (Case, Task, SlaClock, Deadline)}
    kept = {}
    for start in range(0, n, 500):
        batch = [(templates[(start + k) % len(templates)], {}) for k in range(min(500, n - start))]

        def fresh(m, value):
            return UUID.sub(lambda g: m.setdefault(g.group(), str(uuid.uuid4())), value) if value else value
        with engine.begin() as c:
            cases = add(c, Case, [{**of[Case][t][0], "number": f"{prefix}-{start + k:07d}", "state": fresh(
                m, of[Case][t][0]["state"])} for k, (t, m) in enumerate(batch)], "id").scalars().all()
            copies = list(zip(cases, batch, strict=True))
            add(c, Task, [{**r, "id": fresh(m, r["id"]), "case_id": case} for case, (t, m) in copies
                          for r in of[Task][t]])
            clocks = [(case, r) for case, (t, _) in copies for r in of[SlaClock][t]]
            new = add(c, SlaClock, [{**r, "case_id": case} for case, r in clocks], "id").scalars().all()
            clock = {(case, r["id"]): made for (case, r), made in zip(clocks, new, strict=True)}
            rows = []
            for case, (t, m) in copies:
                for r in of[Deadline][t]:
                    if not r["fired_at"] and not r["cancelled_at"]:
                        cid = clock.get((case, r["clock_id"]))
                        rows.append({**r, "case_id": case, "clock_id": cid, "task_id": fresh(m, r["task_id"]),
                                     "key": fresh(m, re.sub(r"^sla:\d+:", f"sla:{cid}:", r["key"]))})
            made = add(c, Deadline, rows, "id", "case_id", "kind")
            kept.update({case: d for d, case, k in made if k == kind})
    return kept


def set_due(engine, ids: list[int], dues: list[datetime], conn=None, queue: str = "") -> float:
    """Move each deadline to its due time; with a queue, schedule them too; returns the seconds enqueue_at took."""
    table = Deadline.__table__
    with engine.begin() as c:
        c.execute(table.update().where(table.c.id == bindparam("b_id")).values(due_at=bindparam("b_due")),
                  [{"b_id": i, "b_due": d} for i, d in zip(ids, dues, strict=True)])
    if queue:
        begin = time.perf_counter()
        RQScheduler(conn, queue).schedule(dues)
        return time.perf_counter() - begin
    return 0.0


def raw_firings(engine, spec, case_ids) -> None:
    """The raw cost of firing: Core SELECT … FOR UPDATE, restore, advance, dump, UPDATE, commit, case by case."""
    cases = Case.__table__
    for case_id in case_ids:
        with engine.begin() as c:
            state = c.execute(select(cases.c.state).where(cases.c.id == case_id).with_for_update()).scalar_one()
            workflow = runner.restore(spec, state)
            runner.advance(workflow)
            c.execute(update(cases).where(cases.c.id == case_id).values(
                state=runner.dump(spec, workflow), version=cases.c.version + 1))


def floor(engine, deps: Deps, chosen: dict[int, int]) -> tuple[float, float]:
    """Firings/s in this process: raw firings, then firing.fire_deadline on the same cases."""
    spec = case_spec(deps, next(iter(chosen)))
    start = time.perf_counter()
    raw_firings(engine, spec, list(chosen))
    raw = len(chosen) / (time.perf_counter() - start)
    set_due(engine, list(chosen.values()), [deps.clock.now() - timedelta(seconds=1)] * len(chosen))
    start = time.perf_counter()
    results = Counter(firing.fire_deadline(deps, d) for d in chosen.values())
    if results != {"fired": len(chosen)}:
        sys.exit(f"the floor's in-process firings did not all fire: {dict(results)}")
    return raw, len(chosen) / (time.perf_counter() - start)


def batched(engine, deps: Deps, chosen: dict[int, int]) -> tuple[float, float]:
    """Firings/s in this process through firing.fire_deadlines in the workers' leased batches, and the statements
    each firing sends."""
    ids = list(chosen.values())
    set_due(engine, ids, [deps.clock.now() - timedelta(seconds=1)] * len(ids))
    statements = []

    def count(*_):
        statements.append(1)
    event.listen(engine, "before_cursor_execute", count)
    start, results = time.perf_counter(), Counter()
    for first in range(0, len(ids), jobs.BATCH):
        results += firing.fire_deadlines(deps, ids[first:first + jobs.BATCH])
    took = time.perf_counter() - start
    event.remove(engine, "before_cursor_execute", count)
    if results != {"fired": len(ids)}:
        sys.exit(f"the batched in-process firings did not all fire: {dict(results)}")
    return len(ids) / took, len(statements) / len(ids)


def case_spec(deps: Deps, case_id: int):
    with deps.uow() as uow:
        return versions.spec_of(uow.session, deps.specs, uow.session.get(Case, case_id).process_version_id)


def _raw_in_child(url: str, case_ids: list[int], ready, go, took) -> None:
    engine = db.make_engine(url)
    sessions = db.make_session_factory(engine, BENCH_TIMELINE_KEY)
    spec = case_spec(Deps(sessions=sessions, catalogue=CATALOGUE), case_ids[0])
    ready.set()
    go.wait()
    start = time.perf_counter()
    raw_firings(engine, spec, case_ids)
    took.put(time.perf_counter() - start)


def raw_ceiling(url: str, engine, case_ids: list[int]) -> float:
    """Raw firings/s of WORKERS processes at once, each on its own share of the cases: the measured ceiling."""
    engine.dispose()  # nothing of this process's pool goes into the children
    context = multiprocessing.get_context("spawn")
    go, took = context.Event(), context.Queue()
    shares = [case_ids[i::WORKERS] for i in range(WORKERS)]
    readies = [context.Event() for _ in shares]
    procs = [context.Process(target=_raw_in_child, args=(url, share, ready, go, took))
             for share, ready in zip(shares, readies, strict=True)]
    for p in procs:
        p.start()
    for ready in readies:
        ready.wait(120)
    go.set()
    longest = max(took.get(timeout=300) for _ in procs)
    for p in procs:
        p.join()
    return len(case_ids) / longest


def collect(conn: redis.Redis, queue: str, seen: dict) -> None:
    """Add the results (kept 60 s) of this queue's finished jobs: job id -> what the job returned."""
    rq_queue = RQScheduler(conn, queue).queue
    for job in Job.fetch_many(rq_queue.finished_job_registry.get_job_ids(), connection=conn):
        if job is not None and job.id not in seen:
            seen[job.id] = job.return_value() or {}
    seen["failed jobs"] = rq_queue.failed_job_registry.count


def wait_fired(reader, conn: redis.Redis, queue: str, procs, ids: list[int], until: datetime) -> dict:
    """Poll until every deadline in `ids` has fired, a worker died or none fired for 120 s; collect job results."""
    seen, pending, every, last, moved = {}, set(ids), 1 if len(ids) <= 1000 else 5, 0.0, time.monotonic() + 30
    while pending and time.monotonic() - moved < 120 and all(p.poll() is None for p in procs):
        time.sleep(0.5)
        with reader.connect() as c:
            left = pending & set(c.execute(select(Deadline.id).where(
                Deadline.fired_at.is_(None), Deadline.cancelled_at.is_(None), Deadline.due_at <= until)).scalars())
        moved, pending = time.monotonic() if left != pending else moved, left
        if time.monotonic() - last > every:
            collect(conn, queue, seen)
            last = time.monotonic()
    if pending:
        print(f"  STOPPED WAITING: {len(pending)} not fired; worker exit codes {[p.poll() for p in procs]}")
    time.sleep(1.5)
    collect(conn, queue, seen)
    return seen


def check(reader, ids: list[int], seen: dict, goal: str, event: str) -> list[datetime]:
    """Print lost, twice, early, job runs and lateness from the rows, the timeline and the job results."""
    with reader.connect() as c:
        rows = [r for part in range(0, len(ids), 5000) for r in c.execute(select(
            Deadline.id, Deadline.case_id, Deadline.due_at, Deadline.fired_at, Deadline.attempts)
            .where(Deadline.id.in_(ids[part:part + 5000])))]
        warnings = dict(c.execute(select(TimelineEvent.case_id, func.count()).where(
            TimelineEvent.kind == event).group_by(TimelineEvent.case_id)).all())
    fired = [r for r in rows if r.fired_at is not None]
    late = [(r.fired_at - r.due_at).total_seconds() * 1000 for r in fired] or [float("nan")]
    failed = seen.pop("failed jobs", 0)
    runs = Counter()
    for result in seen.values():
        runs.update(result)
    waited = [r["waited_ms"] for r in seen.values() if r.get("waited_ms")]
    twice = sum(1 for r in rows if r.attempts > 1 or warnings.get(r.case_id, 0) > 1)
    q = statistics.quantiles(late, n=100, method="inclusive") if len(late) > 1 else late * 99
    print(f"  fired            {len(fired):>6} of {len(ids)}; lost {len(ids) - len(fired)}, fired twice {twice} "
          f"(goal 0 and 0; twice = attempts > 1 or more than one {event} event on the case)")
    print(f"  fired early      {sum(x < 0 for x in late):>6}   (goal 0; 0 by construction: fire_deadline reads the "
          "clock with the case locked, says 'early' if before due_at, else stamps fired_at with that reading)")
    print(f"  jobs             {len(seen):>6}   (one alarm per second holding a due time, plus drain helpers; failed "
          f"{failed}); what they did: {dict(sorted((k, v) for k, v in runs.items() if k != 'waited_ms'))}")
    print(f"  woken early      {len(waited):>6}   jobs woken by RQ before a due time waited in the job, mean "
          f"{statistics.fmean(waited or [0]):.0f} ms")
    print(f"  lateness ms      p50 {q[49]:7.0f}   p95 {q[94]:7.0f}   p99 {q[98]:7.0f}   max {max(late):7.0f}  ({goal})")
    return [r.fired_at for r in fired]


def with_workers(engine, reader, deps, conn, env, tmp, peak: dict, burst: list[int], floors: tuple,
                 kind: str) -> bool:
    """Two `python worker.py` processes: the peak (due over a minute), then the burst (all due at one second)."""
    procs = [subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, stderr=subprocess.STDOUT,
                              stdout=open(tmp / f"worker-{i}.log", "w")) for i in range(WORKERS)]
    queue, end = env["GRIDFLOW_QUEUE"], time.monotonic() + 60
    try:
        while len(Worker.all(connection=conn, queue=RQScheduler(conn, queue).queue)) < WORKERS:
            if time.monotonic() > end or any(p.poll() is not None for p in procs):
                sys.exit(f"the workers did not start; see {tmp}/worker-*.log")
            time.sleep(0.2)
        ids, start = list(peak.values()), deps.clock.now() + timedelta(seconds=10)
        dues = [start + timedelta(seconds=60 * i / len(ids)) for i in range(len(ids))]
        set_due(engine, ids, dues, conn, queue)
        print(f"\nPeak: {len(ids)} filed cases, one {kind} each, due uniformly over 60 s from 10 s on (enqueue_at)")
        seen = wait_fired(reader, conn, queue, procs, ids, dues[-1])
        fired = len(check(reader, ids, seen, "goal: p99 <= 2000", EVENT[kind]))
        due_at = datetime.fromtimestamp(int(time.time()) + 4 + len(burst) // 1000, UTC)
        took = set_due(engine, burst, [due_at] * len(burst), conn, queue)
        print(f"\nBurst: {len(burst):,} copied cases, all due at {due_at:%H:%M:%S} UTC (enqueue_at of all took "
              f"{took:.1f} s, ending {(due_at - deps.clock.now()).total_seconds():.1f} s before the due time)")
        seen = {k: v for k, v in wait_fired(reader, conn, queue, procs, burst, due_at).items() if k not in seen}
        fired_at = check(reader, burst, seen, "a backlog", EVENT[kind])
        wall = (max(fired_at) - due_at).total_seconds() if fired_at else float("nan")
        rate, (raw, ceiling) = len(fired_at) / wall, floors
        print(f"  all fired {wall:.1f} s after the due time: {rate:.0f} firings/s; ratio to the raw ceiling measured "
              f"with {WORKERS} processes ({ceiling:.0f}/s) {rate / ceiling:.2f} (goal >= 0.5); to {WORKERS} x the "
              f"one-process floor ({WORKERS * raw:.0f}/s) {rate / (WORKERS * raw):.2f}")
        return fired + len(fired_at) == len(ids) + len(burst)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        for key in conn.scan_iter(f"rq:*{queue}*"):
            conn.delete(key)
        conn.srem("rq:queues", f"rq:queue:{queue}")


def sweep_cost(engine, small: int, large: int) -> None:
    """firing.due_deadlines with the same due set among `small`, then `large` open cases, after ANALYZE."""
    deps = reset(engine)
    now, due = deps.clock.now(), min(DUE_SET, small)
    with deps.uow() as uow:
        reporter, grid = uow.session.execute(select(User.id, User.grid_id).where(User.username == "worker")).one()
        version = uow.session.execute(insert(ProcessVersion).values(process_id="dispute", content_hash="bench",
                                      files={}, deployed_at=now).returning(ProcessVersion.id)).scalar_one()
        uow.commit()
    print(f"\nSweep: firing.due_deadlines (LIMIT 1000) with {due} due deadlines; 7 pending per open case "
          "(goal: the cost follows the due set, not the open set)")
    for first, last, gone in ((0, small, 0), (small, large, 0), (large, large, large)):
        for start in range(first, last, 5000):  # open cases, each with 7 deadlines due in the next hours to weeks
            ids = range(start + 1, min(start + 5000, last) + 1)
            with engine.begin() as c:
                c.execute(insert(Case), [dict(
                    id=i, number=f"O-{i:07d}", type="dispute", title="open", severity="low", reporter_id=reporter,
                    grid_id=grid, responsible_grid_id=grid, responsible_level=4, status="registering", state="{}",
                    process_version_id=version, version=1, created_at=now, updated_at=now) for i in ids])
                c.execute(insert(Deadline), [dict(case_id=i, key=f"k{j}", kind="warning", name="open", due_at=now +
                                                  timedelta(minutes=30 + (i * 7 + j) * 37 % 40000))
                                             for i in ids for j in range(7)])
        with engine.begin() as c:
            if first == 0:
                c.execute(insert(Deadline), [dict(case_id=i, key="due", kind="warning", name="due",
                                                  due_at=now - timedelta(seconds=i)) for i in range(1, due + 1)])
            if gone:  # closed cases leave cancelled rows behind, still inside the index's predicate
                c.execute(insert(Deadline), [dict(case_id=i, key="gone", kind="breach", name="gone", cancelled_at=now,
                                                  due_at=now - timedelta(minutes=i)) for i in range(1, gone + 1)])
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("ANALYZE"))
        found, samples = len(firing.due_deadlines(deps)), []
        for _ in range(20):
            begin = time.perf_counter()
            firing.due_deadlines(deps)
            samples.append((time.perf_counter() - begin) * 1000)
        label = f"{last:,} open cases" + (f" + {gone:,} cancelled deadlines already past" if gone else "")
        print(f"  {label:<62} p50 {statistics.median(samples):7.2f} ms   max {max(samples):7.2f} ms   ({found} due)")


def main() -> None:
    """Floor, peak and burst with real workers, then the sweep's cost; prints each figure next to its goal."""
    began = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file in a temp dir")
    parser.add_argument("--redis-url", default="", help=f"default: {LOCAL_REDIS} if it answers, else embedded")
    parser.add_argument("--kind", default="warning", choices=sorted(EVENT), help="the deadline each case keeps")
    for flag, default in (("--peak", 200), ("--burst", 10_000), ("--open-small", 10_000), ("--open-large", 100_000)):
        parser.add_argument(flag, type=int, default=default)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="gridflow-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    engine, reader = db.make_engine(url), create_engine(db.normalize_url(url))  # reader: polls without BEGIN IMMEDIATE
    if engine.url.database == "test":
        sys.exit("the database named test belongs to the test suite; give the bench its own")
    redis_url, queue = pick_redis(args.redis_url, tmp), f"bench-sla-{uuid.uuid4().hex[:8]}"
    print("command: " + shlex.join(["python", "-m", "bench.sla", *sys.argv[1:]]))
    print(f"database: {engine.dialect.name} ({engine.url.render_as_string(hide_password=True)}); redis: {redis_url}; "
          f"queue: {queue}; {WORKERS} worker processes (SimpleWorker + RQ scheduler); {os.cpu_count()} CPUs")
    deps = reset(engine)
    templates = list(file_cases(deps, TEMPLATES, args.kind))
    peak = file_cases(deps, args.peak, args.kind)
    raw, engine_rate = floor(engine, deps, copy_cases(engine, templates, FLOOR, "F", args.kind))
    print(f"\nFloor, in this process, {FLOOR} copied cases: restore + advance + dump + UPDATE + commit {raw:.0f} "
          f"firings/s ({1000 / raw:.1f} ms); for reference engine.deadlines.firing.fire_deadline {engine_rate:.0f}/s "
          f"({1000 / engine_rate:.1f} ms)")
    batch_rate, sent = batched(engine, deps, copy_cases(engine, templates, FLOOR, "L", args.kind))
    print(f"  engine.deadlines.firing.fire_deadlines in the workers' batches of {jobs.BATCH}: {batch_rate:.0f} "
          f"firings/s ({1000 / batch_rate:.1f} ms), {sent:.1f} statements a firing ({raw / batch_rate:.2f} x the raw "
          "firing's time)")
    ceiling = raw_ceiling(url, engine, list(copy_cases(engine, templates, WORKERS * FLOOR, "C", args.kind)))
    print(f"  the same raw firings in {WORKERS} processes at once, {FLOOR} cases each: {ceiling:.0f} firings/s "
          f"({ceiling / raw:.2f} x one process)")
    begin = time.perf_counter()
    burst = list(copy_cases(engine, templates, args.burst, "B", args.kind).values())
    print(f"  ({args.burst:,} burst cases bulk-copied from {TEMPLATES} filed ones in {time.perf_counter() - begin:.1f}"
          " s)")
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "GRIDFLOW_INSTANCE": str(tmp),
           "GRIDFLOW_QUEUE": queue}
    all_fired = with_workers(engine, reader, deps, redis.Redis.from_url(redis_url), env, tmp, peak, burst,
                             (raw, ceiling), args.kind)
    sweep_cost(engine, args.open_small, args.open_large)
    engine.dispose()
    if redis_url.startswith("unix://"):
        embedded_redis.stop(tmp)
    if all_fired:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nWall time {time.perf_counter() - began:.0f} s." + ("" if all_fired else f" Worker logs kept in {tmp}."))


if __name__ == "__main__":
    main()
