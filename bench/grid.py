"""GPS lookups over Nan'an's polygons, and the scoped inbox query among many open cases.

Run from the project root: python -m bench.grid [--cases N] [--lookups N] [--database-url URL]
Each figure is printed next to a floor measured in the same run: the bare STRtree query for a lookup,
and one plain indexed SELECT for an inbox.
"""
import argparse
import random
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import shapely
from shapely.geometry import shape
from sqlalchemy import insert, select, text

from bench.throughput import BENCH_TIMELINE_KEY, reset
from engine.deps import Deps, NullScheduler
from engine.imports import demo, nanan
from engine.places.geo import GridIndex
from engine.read import views
from engine.store import db
from engine.store.model import Case, Department, Grid, ProcessVersion, Task, User
from workflows import CATALOGUE

WEST, SOUTH, EAST, NORTH = nanan.BOX


def timed_each(fn, items) -> list[float]:
    """Milliseconds per call of fn(item)."""
    samples = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def gps(lookups: int) -> None:
    """Lookups per second through GridIndex against the bare STRtree query on the same polygons."""
    rows = nanan.generate().grids
    index = GridIndex(("bench",), [r["code"] for r in rows], [r["level"] for r in rows],
                      [shape(r["polygon"]) for r in rows])
    tree = shapely.STRtree([shape(r["polygon"]) for r in rows])
    rng = random.Random(7)
    points = [(rng.uniform(SOUTH, NORTH), rng.uniform(WEST, EAST)) for _ in range(lookups)]
    index.locate(*points[0])
    start = time.perf_counter()
    found = sum(index.locate(lat, lng) is not None for lat, lng in points)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    for lat, lng in points:
        tree.query(shapely.Point(lng, lat), predicate="covered_by")
    bare = time.perf_counter() - start
    print(f"\nGPS to grid over {len(rows)} polygons (levels 0-4), {lookups} random points in the city box")
    print(f"  GridIndex.locate      {lookups / ours:>10,.0f} lookups/s   {ours / lookups * 1e6:6.1f} µs each"
          f"   ({found} found)")
    print(f"  floor: STRtree.query  {lookups / bare:>10,.0f} lookups/s   {bare / lookups * 1e6:6.1f} µs each"
          f"   ratio {ours / bare:.2f}x")


def load(engine, cases: int) -> Deps:
    """Fresh schema, Nan'an imported, then `cases` open cases with one open task each, bulk-inserted."""
    reset(engine)
    deps = Deps(sessions=db.make_session_factory(engine, BENCH_TIMELINE_KEY), catalogue=CATALOGUE,
                scheduler=NullScheduler())
    demo.load_nanan(deps)
    with deps.uow() as uow:
        session = uow.session
        units = session.execute(select(Grid.id, Grid.path).where(Grid.level == 4)).all()
        parents = dict(session.execute(select(Grid.path, Grid.id)).all())
        judicial = dict(session.execute(select(Department.grid_id, Department.id)
                                        .where(Department.kind == "judicial")).all())
        towns = dict(session.execute(select(Grid.code, Grid.id).where(Grid.level == 1)).all())
        reporter = session.scalar(select(User.id).where(User.username == "worker"))
        version = session.execute(insert(ProcessVersion).values(
            process_id="dispute", content_hash="bench", files={}, deployed_at=datetime.now(UTC))
            .returning(ProcessVersion.id)).scalar_one()
        uow.commit()
    rng, now = random.Random(11), datetime.now(UTC)
    case_rows, task_rows = [], []
    for i in range(1, cases + 1):
        grid_id, path = rng.choice(units)
        codes = [c for c in path.split("/") if c]
        level2 = parents["/" + "/".join(codes[:4]) + "/"]
        at = now - timedelta(minutes=rng.randrange(60 * 24 * 90))
        case_rows.append(dict(id=i, number=f"B-{i:07d}", type="dispute", title="bench", description="",
                              severity="medium", reporter_id=reporter, grid_id=grid_id,
                              responsible_grid_id=level2, responsible_level=3, status="handling",
                              process_version_id=version, state="{}", version=1, created_at=at, updated_at=at))
        town_case = i % 5 == 0  # every fifth case waits at its town's judicial office
        task_rows.append(dict(id=f"00000000-0000-0000-0000-{i:012d}", case_id=i, name="mediate", title="调解",
                              candidate_role="liaison" if town_case else "grid_leader",
                              department_kind="judicial" if town_case else None,
                              department_id=judicial[towns[codes[1]]] if town_case else None,
                              grid_id=towns[codes[1]] if town_case else level2, status="open", created_at=at,
                              due_at=at + timedelta(hours=rng.choice((2, 4, 8, 72)))))
    with engine.begin() as connection:
        for start in range(0, cases, 5000):
            connection.execute(insert(Case), case_rows[start:start + 5000])
            connection.execute(insert(Task), task_rows[start:start + 5000])
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))  # planner statistics, as a live database has them
    return deps


def inbox(engine, cases: int, repeats: int) -> None:
    """views.list_tasks (one page, overdue first) for a level-2 leader, a town liaison and a town supervisor,
    and the liaison's next page by cursor, against one raw SELECT."""
    started = time.perf_counter()
    deps = load(engine, cases)
    print(f"\nScoped inbox with {cases:,} open cases ({engine.dialect.name}; loaded in "
          f"{time.perf_counter() - started:.1f} s)")
    with deps.uow() as uow:
        users = {u.username: u for u in uow.session.scalars(select(User).where(
            User.username.in_(["leader", "judicial", "supervisor", "admin"])))}
        raw = select(Task.id).where(Task.department_id == users["judicial"].department_id,
                                    Task.status == "open").order_by(Task.due_at).limit(50)
        floor = timed_each(lambda _: uow.session.execute(raw).all(), range(repeats))
    for who, scope in (("leader", "inbox"), ("judicial", "inbox"), ("supervisor", "visible"), ("admin", "inbox")):
        user = users[who]
        samples = timed_each(lambda _, u=user, s=scope: views.list_tasks(deps, u, scope=s), range(repeats))
        print(f"  {who:<10} scope={scope:<8} p50 {statistics.median(samples):7.2f} ms"
              f"   max {max(samples):7.2f} ms   ({len(views.list_tasks(deps, user, scope=scope).items)} rows)")
    cursor = views.list_tasks(deps, users["judicial"]).next_cursor
    samples = timed_each(lambda _: views.list_tasks(deps, users["judicial"], cursor=cursor), range(repeats))
    print(f"  judicial   next page  p50 {statistics.median(samples):7.2f} ms   max {max(samples):7.2f} ms")
    print(f"  floor: one indexed SELECT of a department's 50 open tasks   p50 {statistics.median(floor):7.2f} ms")


def main() -> None:
    """GPS figures, then the inbox figures on the chosen database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=50_000)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file in a temp dir")
    args = parser.parse_args()
    print("command: " + shlex.join(["python", "-m", "bench.grid", *sys.argv[1:]]))
    gps(args.lookups)
    tmp = Path(tempfile.mkdtemp(prefix="gridflow-bench-"))
    engine = db.make_engine(args.database_url or f"sqlite:///{tmp / 'bench.db'}")
    try:
        inbox(engine, args.cases, args.repeats)
    finally:
        engine.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
