"""Campaigns at the scale of Nan'an: launching to all 2,480 grids, the city's progress roll-up among 10 campaigns,
and 2,480 assignments falling overdue at one second, fired by two real worker processes; each against a floor
measured in the same run.

Run from the project root: python -m bench.campaigns --database-url postgresql://... [--redis-url URL]
[--repeat N]. The tables are dropped and made afresh (never point it at a database you keep).
"""
import argparse
import multiprocessing
import os
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
from rq import Worker
from sqlalchemy import bindparam, create_engine, func, insert, select, update

from bench.sla import pick_redis, wait_fired
from bench.throughput import BENCH_TIMELINE_KEY
from bench.throughput import reset as schema_reset
from engine.campaigns import services
from engine.deadlines.scheduler import RQScheduler
from engine.deps import Deps, NullScheduler
from engine.imports import demo
from engine.process import runner, versions
from engine.read import campaigns as reads
from engine.store import db, embedded_redis
from engine.store.model import Assignment, Campaign, CampaignEvent, Deadline, Grid, Notification, User
from workflows import CATALOGUE

ROOT = Path(__file__).resolve().parent.parent
FORM = [{"name": "households", "kind": "count", "title": "走访户数"},
        {"name": "fever", "kind": "count", "title": "发热人数"},
        {"name": "note", "kind": "text", "title": "备注", "required": False}]
CAMPAIGNS, WORKERS, CEILING_SHARE = 10, 2, 200


def _user(deps, username):
    with deps.uow() as uow:
        return uow.session.scalar(select(User).where(User.username == username))


def _all_grids(deps) -> list[str]:
    with deps.uow() as uow:
        return list(uow.session.scalars(select(Grid.code).where(Grid.level >= 2).order_by(Grid.path)))


def launch(deps, codes, title) -> tuple[int, float]:
    city = _user(deps, "city_supervisor")
    begin = time.perf_counter()
    campaign_id = services.launch(deps, city.id, services.NewCampaign(
        title=title, form=FORM, working_days=3, target_level=None, grid_codes=tuple(codes)))
    return campaign_id, time.perf_counter() - begin


def raw_launch(engine, template: int) -> float:
    """The same rows (one campaign, its assignments, their three deadlines each) copied by batched INSERTs in one
    transaction, with nothing decided: the floor a launch is measured against."""
    a, d, c = Assignment.__table__, Deadline.__table__, Campaign.__table__
    with engine.connect() as conn:
        camp = dict(conn.execute(select(c).where(c.c.id == template)).mappings().one())
        rows = [dict(r) for r in conn.execute(select(a).where(a.c.campaign_id == template)).mappings()]
        dls = [dict(r) for r in conn.execute(select(d).join(a, a.c.id == d.c.assignment_id)
                                             .where(a.c.campaign_id == template)).mappings()]
    begin = time.perf_counter()
    with engine.begin() as conn:
        camp.pop("id")
        new_id = conn.execute(insert(c).returning(c.c.id), [camp]).scalar_one()
        for r in rows:
            r.pop("id")
            r["campaign_id"] = new_id
        ids = conn.execute(insert(a).returning(a.c.id, sort_by_parameter_order=True), rows).scalars().all()
        old = sorted({x["assignment_id"] for x in dls})
        mapping = dict(zip(old, ids, strict=True))
        for x in dls:
            x.pop("id")
            x["assignment_id"] = mapping[x["assignment_id"]]
        conn.execute(insert(d), dls)
    return time.perf_counter() - begin


def fill(engine, campaign_id: int, rng: random.Random, now: datetime) -> None:
    """Make a campaign look half-way: 60% submitted (most on time), half of those accepted, totals set."""
    a = Assignment.__table__
    with engine.begin() as conn:
        ids = conn.execute(select(a.c.id).where(a.c.campaign_id == campaign_id)).scalars().all()
        rows = []
        for i in ids:
            if rng.random() < 0.6:
                at = now - timedelta(hours=rng.randint(1, 30))
                rows.append({"b_id": i, "b_at": at, "b_status": "approved" if rng.random() < 0.5 else "submitted",
                             "b_totals": {"households": rng.randint(10, 80), "fever": rng.randint(0, 3)}})
        conn.execute(update(a).where(a.c.id == bindparam("b_id")).values(
            first_submitted_at=bindparam("b_at"), submitted_at=bindparam("b_at"), status=bindparam("b_status"),
            totals=bindparam("b_totals")), rows)


def time_it(call, repeat: int) -> tuple[float, float]:
    took = []
    for _ in range(repeat):
        begin = time.perf_counter()
        call()
        took.append((time.perf_counter() - begin) * 1000)
    return statistics.median(took), max(took)


def raw_rollup(engine, campaign_id: int) -> None:
    """The floor of the roll-up: the same columns of the campaign's assignments, read with one SELECT."""
    a = Assignment.__table__
    with engine.connect() as conn:
        conn.execute(select(a.c.grid_id, a.c.path, a.c.status, a.c.due_at, a.c.first_submitted_at, a.c.approved_at,
                            a.c.overdue_at, a.c.returns, a.c.totals).where(a.c.campaign_id == campaign_id)).all()


def raw_firings(engine, deadline_ids: list[int]) -> None:
    """The raw cost of an overdue firing, one per transaction: lock the assignment, stamp the deadline and the
    assignment, add the campaign event and one notice, commit."""
    a, d, n, e = (Assignment.__table__, Deadline.__table__, Notification.__table__, CampaignEvent.__table__)
    now = datetime.now(UTC)
    for deadline_id in deadline_ids:
        with engine.begin() as conn:
            row = conn.execute(select(d.c.assignment_id).where(d.c.id == deadline_id)).one()
            camp = conn.execute(select(a.c.campaign_id).where(a.c.id == row.assignment_id).with_for_update()).one()
            conn.execute(update(d).where(d.c.id == deadline_id).values(fired_at=now, attempts=d.c.attempts + 1))
            conn.execute(update(a).where(a.c.id == row.assignment_id).values(overdue_at=now, version=a.c.version + 1))
            conn.execute(insert(e).values(campaign_id=camp.campaign_id, assignment_id=row.assignment_id, at=now,
                                          kind="overdue", reason="raw", payload={}))
            conn.execute(insert(n).values(user_id=1, assignment_id=row.assignment_id, kind="campaign_overdue",
                                          message="raw", created_at=now))


def _raw_in_child(url, ids, ready, go, took) -> None:
    engine = db.make_engine(url)
    ready.set()
    go.wait()
    begin = time.perf_counter()
    raw_firings(engine, ids)
    took.put(time.perf_counter() - begin)


def raw_ceiling(url: str, engine, ids: list[int]) -> float:
    """Raw overdue firings/s of WORKERS processes at once, each on its own share: the measured ceiling."""
    engine.dispose()
    context = multiprocessing.get_context("spawn")
    go, took = context.Event(), context.Queue()
    shares = [ids[i::WORKERS] for i in range(WORKERS)]
    readies = [context.Event() for _ in shares]
    procs = [context.Process(target=_raw_in_child, args=(url, s, r, go, took)) for s, r in zip(shares, readies,
                                                                                               strict=True)]
    for p in procs:
        p.start()
    for r in readies:
        r.wait(120)
    go.set()
    longest = max(took.get(timeout=300) for _ in procs)
    for p in procs:
        p.join()
    return len(ids) / longest


def overdue_ids(engine, campaign_id: int) -> list[int]:
    a, d = Assignment.__table__, Deadline.__table__
    with engine.connect() as conn:
        return conn.execute(select(d.c.id).join(a, a.c.id == d.c.assignment_id).where(
            a.c.campaign_id == campaign_id, d.c.kind == "overdue").order_by(d.c.id)).scalars().all()


def burst(engine, reader, url, redis_url, tmp, ids: list[int], ceiling: float, campaign_ids: list[int]) -> bool:
    """Every other pending deadline out of the way; the campaign's overdue deadlines due at one second; two
    `python worker.py` processes fire them."""
    d = Deadline.__table__
    queue = f"bench-campaigns-{uuid.uuid4().hex[:8]}"
    conn = redis.Redis.from_url(redis_url)
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "GRIDFLOW_INSTANCE": str(tmp),
           "GRIDFLOW_QUEUE": queue}
    with engine.begin() as c:
        c.execute(update(d).where(d.c.fired_at.is_(None), d.c.id.not_in(ids)).values(
            due_at=datetime.now(UTC) + timedelta(days=30)))
    procs = [subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, stderr=subprocess.STDOUT,
                              stdout=open(tmp / f"worker-{i}.log", "w")) for i in range(WORKERS)]
    try:
        end = time.monotonic() + 60
        while len(Worker.all(connection=conn, queue=RQScheduler(conn, queue).queue)) < WORKERS:
            if time.monotonic() > end or any(p.poll() is not None for p in procs):
                sys.exit(f"the workers did not start; see {tmp}/worker-*.log")
            time.sleep(0.2)
        due_at = datetime.fromtimestamp(int(time.time()) + 5, UTC)
        with engine.begin() as c:
            c.execute(update(d).where(d.c.id.in_(ids)).values(due_at=due_at))
        RQScheduler(conn, queue).schedule([due_at])
        wait_fired(reader, conn, queue, procs, ids, due_at)
        with reader.connect() as c:
            rows = c.execute(select(d.c.fired_at, d.c.attempts).where(d.c.id.in_(ids))).all()
            events = c.execute(select(func.count()).select_from(CampaignEvent.__table__).where(
                CampaignEvent.kind == "overdue", CampaignEvent.campaign_id.in_(campaign_ids))).scalar()
        fired = [r.fired_at for r in rows if r.fired_at is not None]
        twice = sum(r.attempts > 1 for r in rows)
        wall = (max(fired) - due_at).total_seconds() if fired else float("nan")
        rate = len(fired) / wall
        print(f"  fired {len(fired)} of {len(ids)}; fired twice {twice}; overdue events {events} (goal {len(ids)}); "
              f"fired early {sum(f < due_at for f in fired)}")
        print(f"  all fired {wall:.2f} s after the due time: {rate:.0f} firings/s; ratio to the raw ceiling with "
              f"{WORKERS} processes ({ceiling:.0f}/s) {rate / ceiling:.2f} (goal >= 0.5)")
        return len(fired) == len(ids) and twice == 0
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        for key in conn.scan_iter(f"rq:*{queue}*"):
            conn.delete(key)
        conn.srem("rq:queues", f"rq:queue:{queue}")


def main() -> None:
    began = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file in a temp dir")
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="gridflow-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    engine, reader = db.make_engine(url), create_engine(db.normalize_url(url))
    if engine.url.database == "test":
        sys.exit("the database named test belongs to the test suite; give the bench its own")
    redis_url = pick_redis(args.redis_url, tmp)
    print("command: " + shlex.join(["python", "-m", "bench.campaigns", *sys.argv[1:]]))
    print(f"database: {engine.dialect.name}; redis: {redis_url}; {os.cpu_count()} CPUs")
    schema_reset(engine)
    deps = Deps(sessions=db.make_session_factory(engine, BENCH_TIMELINE_KEY), catalogue=CATALOGUE,
                scheduler=NullScheduler())
    runner.use_clock(deps.clock)
    begin = time.perf_counter()
    demo.load_nanan(deps)
    codes = _all_grids(deps)
    print(f"Nan'an loaded in {time.perf_counter() - begin:.1f} s: {len(codes):,} grids of levels 2-4")

    with deps.uow() as uow:  # the first launch deploys the version; measure the ones after it
        versions.current(uow.session, deps.specs, services.PROCESS, deps.clock.now())
        uow.commit()
    campaign_ids, took = [], []
    for i in range(CAMPAIGNS):
        campaign_id, seconds = launch(deps, codes, f"第{i + 1}轮入户排查")
        campaign_ids.append(campaign_id)
        took.append(seconds)
    raw = statistics.median(raw_launch(engine, campaign_ids[0]) for _ in range(3))
    print(f"\nLaunch to all {len(codes):,} grids (one campaign row, {len(codes):,} assignments, "
          f"{3 * len(codes):,} deadlines): median {statistics.median(took):.2f} s over {CAMPAIGNS}, max "
          f"{max(took):.2f} s (goal <= 5 s); raw batched insert of the same rows {raw:.2f} s; ratio "
          f"{statistics.median(took) / raw:.1f}")

    rng, now = random.Random(15), deps.clock.now()
    for campaign_id in campaign_ids:
        fill(engine, campaign_id, rng, now)
    city = _user(deps, "city_supervisor")
    p50, worst = time_it(lambda: reads.progress(deps, city, campaign_ids[3]), args.repeat)
    r50, _ = time_it(lambda: raw_rollup(engine, campaign_ids[3]), args.repeat)
    l50, lworst = time_it(lambda: reads.list_campaigns(deps, city), args.repeat)
    down = reads.progress(deps, city, campaign_ids[3])
    print(f"\nProgress roll-up for the city, one campaign of {CAMPAIGNS} x {len(codes):,} assignments: "
          f"p50 {p50:.0f} ms, max {worst:.0f} ms (goal <= 200 ms); raw SELECT of the same rows "
          f"{r50:.0f} ms; ratio {p50 / r50:.1f}; "
          f"{len(down['children'])} towns, {down['grid']['submitted']:,} submitted")
    print(f"  the city's list of all {CAMPAIGNS} campaigns with their counts: p50 {l50:.0f} ms, max {lworst:.0f} ms")

    ceiling_ids = overdue_ids(engine, campaign_ids[-1])[:WORKERS * CEILING_SHARE]
    ceiling = raw_ceiling(url, engine, ceiling_ids)
    print(f"\nOverdue burst: raw firing ceiling with {WORKERS} processes, {CEILING_SHARE} each: {ceiling:.0f}/s")
    target = campaign_ids[0]
    a = Assignment.__table__
    with engine.begin() as c:  # the burst's campaign: nothing submitted, so every overdue speaks
        c.execute(update(a).where(a.c.campaign_id == target).values(
            first_submitted_at=None, submitted_at=None, status="issued", totals=None))
    ok = burst(engine, reader, url, redis_url, tmp, overdue_ids(engine, target), ceiling, [target])
    engine.dispose()
    if redis_url.startswith("unix://"):
        embedded_redis.stop(tmp)
    if ok:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nWall time {time.perf_counter() - began:.0f} s." + ("" if ok else f" Worker logs kept in {tmp}."))


if __name__ == "__main__":
    main()
