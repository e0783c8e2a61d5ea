"""Webhooks: case events fanned out to local receivers by two real workers, and what the outbox costs a case.

Run from the project root: python -m bench.webhooks [--database-url URL] [--redis-url URL] [--events N]
[--receivers N] [--cost-cases N].

1. Cost: `services.file_case` and `services.complete_task` (the first task, register_case) timed per call,
   alternating case by case between --receivers endpoints wanting every event (an event row and a delivery
   per endpoint in the same transaction) and no endpoint at all (the baseline: the outbox finds none and writes
   nothing); the endpoints are added before and removed after each case of the first kind, untimed. No worker
   runs meanwhile; the medians are compared within this one run, so the machine's drift falls on both sides.
2. Delivery: --receivers HTTP receivers (http.server, threads) answering 200 on 127.0.0.1, one endpoint each
   wanting every event, two `python worker.py` processes; cases are filed and their first task completed until
   at least --events case events are in the outbox. Lag = when a receiver got a delivery minus when its event
   was written. Every (endpoint, event) must arrive once: lost and twice are counted, and so is order per case.
"""
import argparse
import json
import os
import secrets
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import redis
from rq import Worker
from sqlalchemy import delete, func, select

from bench.sla import pick_redis
from bench.throughput import reset as schema_reset
from engine.cases import services, webhooks
from engine.deadlines.scheduler import RQScheduler
from engine.deps import Deps, NullScheduler
from engine.imports import demo
from engine.process import runner
from engine.store import db
from engine.store.model import Task, User, WebhookDelivery, WebhookEndpoint, WebhookEvent
from workflows import CATALOGUE

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2
REGISTER = {"decision": "valid", "risk": "low", "violence": False}


class Receivers:
    """n receivers answering 200; each records (event id, delivery id, case id, seq... , arrival time)."""

    def __init__(self, n: int):
        self.got: list[list[tuple]] = [[] for _ in range(n)]
        self.servers = []
        for i in range(n):
            log = self.got[i]

            class Handler(BaseHTTPRequestHandler):
                def do_POST(self, log=log):
                    body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                    log.append((body["id"], body["delivery_id"], body["data"]["case_id"], time.time()))
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

                def log_message(self, *args):
                    """Quiet: the bench prints its own figures."""
            server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
            self.servers.append(server)

    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{s.server_address[1]}/hook" for s in self.servers]

    def total(self) -> int:
        return sum(len(g) for g in self.got)

    def close(self):
        for server in self.servers:
            server.shutdown()


def ids(deps: Deps) -> tuple[int, int, int]:
    with deps.uow() as uow:
        found = dict(uow.session.execute(select(User.username, User.id).where(
            User.username.in_(("worker", "leader", "admin")))).all())
    return found["worker"], found["leader"], found["admin"]


def case_round(deps: Deps, n: int, worker: int, leader: int, cpu: list | None = None) -> tuple[list, list]:
    """File n disputes and complete each one's register_case; the per-call wall times in ms (and, into `cpu`,
    pairs of this process's CPU times in ms)."""
    filing, completing = [], []
    for i in range(n):
        begin, began = time.perf_counter(), time.process_time()
        case_id = services.file_case(deps, worker, services.NewCase("dispute", f"邻里纠纷 {i}"))
        filing.append((time.perf_counter() - begin) * 1000)
        filed_cpu = (time.process_time() - began) * 1000
        with deps.uow() as uow:
            task = uow.session.scalar(select(Task.id).where(Task.case_id == case_id, Task.name == "register_case"))
        begin, began = time.perf_counter(), time.process_time()
        services.complete_task(deps, leader, task, REGISTER)
        completing.append((time.perf_counter() - begin) * 1000)
        if cpu is not None:
            cpu.append((filed_cpu, (time.process_time() - began) * 1000))
    return filing, completing


def clear_hooks(deps: Deps) -> None:
    with deps.uow() as uow:
        for table in (WebhookDelivery, WebhookEvent, WebhookEndpoint):
            uow.session.execute(delete(table))
        uow.commit()


def add_endpoints(deps: Deps, admin: int, urls: list[str]) -> list[int]:
    return [webhooks.create_endpoint(deps, admin, f"receiver {i}", url, webhooks.EVENT_TYPES)["id"]
            for i, url in enumerate(urls)]


def cost(deps: Deps, n: int, receivers: int) -> None:
    worker, leader, admin = ids(deps)
    times = {False: ([], []), True: ([], [])}
    cpu = {False: [], True: []}
    written = 0
    for i in range(10 + 2 * n):  # the first 10 warm up (versions, specs, caches) and are not counted
        with_endpoints = i % 2 == 1
        if with_endpoints:  # between two timed cases: the endpoints are there, or there is none at all
            add_endpoints(deps, admin, [f"http://127.0.0.1:9/{k}" for k in range(receivers)])
        used = []
        filing, completing = case_round(deps, 1, worker, leader, used)
        if with_endpoints:
            with deps.uow() as uow:
                written += uow.session.scalar(select(func.count()).select_from(WebhookDelivery))
            clear_hooks(deps)
        if i >= 10:
            times[with_endpoints][0].extend(filing)
            times[with_endpoints][1].extend(completing)
            cpu[with_endpoints].extend(used)
    print(f"\nCost of the outbox ({n} cases each way, alternating case by case between {receivers} endpoints "
          "wanting every event and no endpoint at all; wall time, and this process's CPU time, which other "
          "processes on the machine disturb less)")
    for label, which in (("file_case", 0), ("complete_task (register_case)", 1)):
        base, hooked = statistics.median(times[False][which]), statistics.median(times[True][which])
        base_cpu = statistics.median(c[which] for c in cpu[False])
        hooked_cpu = statistics.median(c[which] for c in cpu[True])
        print(f"  {label:<30} wall median {base:6.2f} ms without, {hooked:6.2f} ms with: "
              f"{(hooked / base - 1) * 100:+5.1f}%;  CPU {base_cpu:6.2f} -> {hooked_cpu:6.2f} ms: "
              f"{(hooked_cpu / base_cpu - 1) * 100:+5.1f}%  (goal <= +10%)")
    print(f"  ({written // (5 + n)} deliveries written per case filed and registered)")


def delivery(deps: Deps, url: str, redis_url: str, tmp: Path, events: int, n: int) -> bool:
    worker, leader, admin = ids(deps)
    receivers = Receivers(n)
    add_endpoints(deps, admin, receivers.urls())
    conn, queue = redis.Redis.from_url(redis_url), f"bench-hooks-{uuid.uuid4().hex[:8]}"
    deps.scheduler = RQScheduler(conn, queue)
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "GRIDFLOW_INSTANCE": str(tmp),
           "GRIDFLOW_QUEUE": queue}
    procs = [subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, stderr=subprocess.STDOUT,
                              stdout=open(tmp / f"worker-{i}.log", "w")) for i in range(WORKERS)]
    try:
        end = time.monotonic() + 60
        while len(Worker.all(connection=conn, queue=deps.scheduler.queue)) < WORKERS:
            if time.monotonic() > end or any(p.poll() is not None for p in procs):
                sys.exit(f"the workers did not start; see {tmp}/worker-*.log")
            time.sleep(0.2)
        begin = time.perf_counter()
        written = 0
        while written < events:
            case_round(deps, 10, worker, leader)
            with deps.uow() as uow:
                written = uow.session.scalar(select(func.count()).select_from(WebhookEvent))
        made = time.perf_counter() - begin
        expected = written * n
        deadline = time.monotonic() + 120
        while receivers.total() < expected and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(2)  # anything sent twice would arrive by now
        done = time.perf_counter() - begin
        with deps.uow() as uow:
            written_at = dict(uow.session.execute(select(WebhookEvent.id, WebhookEvent.created_at)).all())
            states = Counter(uow.session.scalars(select(WebhookDelivery.status)))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=20)
        receivers.close()
        for key in conn.scan_iter(f"rq:*{queue}*"):
            conn.delete(key)
    lags, twice, lost, disorder = [], 0, 0, 0
    for got in receivers.got:
        seen = Counter(event for event, *_ in got)
        twice += sum(c - 1 for c in seen.values() if c > 1)
        lost += sum(1 for event in written_at if event not in seen)
        per_case = defaultdict(list)
        for event, _delivery, case_id, at in got:
            lags.append((at - written_at[event].timestamp()) * 1000)
            per_case[case_id].append(event)
        disorder += sum(1 for events_ in per_case.values() if events_ != sorted(events_))
    q = statistics.quantiles(lags, n=100, method="inclusive")
    print(f"\nDelivery: {written} case events x {n} receivers = {expected} deliveries, {WORKERS} worker processes")
    print(f"  events written in {made:.1f} s ({written / made:.0f}/s, filing and completing as fast as one process "
          f"goes); all received {done:.1f} s after the first ({receivers.total() / done:.0f} deliveries/s)")
    print(f"  lag ms           p50 {q[49]:7.0f}   p99 {q[98]:7.0f}   max {max(lags):7.0f}")
    print(f"  lost {lost}, delivered twice {twice}, out of order per case {disorder}  (goal 0, 0, 0); "
          f"rows: {dict(states)}")
    return lost == 0 and twice == 0 and disorder == 0 and set(states) == {"delivered"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file in a temp dir")
    parser.add_argument("--redis-url", default="", help="default: the machine's Redis (db 13) if it answers, "
                                                        "else the embedded one")
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--receivers", type=int, default=5)
    parser.add_argument("--cost-cases", type=int, default=200)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="gridflow-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    engine = db.make_engine(url)
    if engine.url.database == "test":
        sys.exit("the database named test belongs to the test suite; give the bench its own")
    redis_url = pick_redis(args.redis_url, tmp)
    print("command: " + shlex.join(["python", "-m", "bench.webhooks", *sys.argv[1:]]))
    print(f"database: {engine.dialect.name}; redis: {redis_url}; {os.cpu_count()} CPUs; "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    key = secrets.token_hex(32)
    os.environ["GRIDFLOW_TIMELINE_KEY"] = key  # the workers seal timelines under the same key
    schema_reset(engine)
    deps = Deps(sessions=db.make_session_factory(engine, key.encode()), catalogue=CATALOGUE,
                scheduler=NullScheduler())
    runner.use_clock(deps.clock)
    demo.load(deps)
    cost(deps, args.cost_cases, args.receivers)
    ok = delivery(deps, url, redis_url, tmp, args.events, args.receivers)
    engine.dispose()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
