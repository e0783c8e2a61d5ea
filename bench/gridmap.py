"""一张图's counts over the whole of Nan'an among many cases: engine.read.gridmap.grid_counts for the city
supervisor at the city (26 towns), the town supervisor at Luncang (14 villages) and at a level-2 grid, against
one plain grouped count of every case by grid (no scope, no subtrees) as the floor, in the same run.

Run from the project root: python -m bench.gridmap [--cases N] [--repeats N] [--database-url URL]
The cases are bulk-inserted as bench.grid does (one open task each, a quarter of them overdue or so); with
--database-url the tables there are dropped and made again.
"""
import argparse
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from bench.grid import load, timed_each
from engine.read import gridmap
from engine.store import db
from engine.store.model import Case, User

PLACES = (("city_supervisor", "350583"), ("supervisor", "350583106"), ("supervisor", "350583106201-06"))


def counts(engine, cases: int, repeats: int) -> None:
    started = time.perf_counter()
    deps = load(engine, cases)
    print(f"\nGrid map counts with {cases:,} open cases ({engine.dialect.name}; loaded in "
          f"{time.perf_counter() - started:.1f} s)")
    with deps.uow() as uow:
        users = {u.username: u for u in uow.session.scalars(select(User).where(
            User.username.in_([who for who, _code in PLACES])))}
        raw = select(Case.grid_id, func.count()).group_by(Case.grid_id)
        floor = timed_each(lambda _: uow.session.execute(raw).all(), range(repeats))
    for who, code in PLACES:
        found = gridmap.grid_counts(deps, users[who], code)
        samples = timed_each(lambda _, u=users[who], c=code: gridmap.grid_counts(deps, u, c), range(repeats))
        print(f"  {who:<16} {code:<16} p50 {statistics.median(samples):8.2f} ms   max {max(samples):8.2f} ms"
              f"   ({len(found['children'])} children, {found['open']:,} open, {found['overdue']:,} overdue)")
    print(f"  floor: every case counted by grid, one GROUP BY   p50 {statistics.median(floor):8.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file in a temp dir")
    args = parser.parse_args()
    print("command: " + shlex.join(["python", "-m", "bench.gridmap", *sys.argv[1:]]))
    tmp = Path(tempfile.mkdtemp(prefix="gridflow-bench-"))
    engine = db.make_engine(args.database_url or f"sqlite:///{tmp / 'bench.db'}")
    try:
        counts(engine, args.cases, args.repeats)
    finally:
        engine.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
