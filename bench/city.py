"""A city's load on real processes: `python -m serving` (N gunicorn web processes, M RQ workers) on PostgreSQL
and Redis with Nan'an loaded, driven over HTTP by client threads on this machine for a bounded time.

Run from the project root: python -m bench.city [--database-url URL] [--redis-url URL] [--web 1,2]
[--workers 2] [--clients 8] [--seconds 60] [--deadlines 150] [--max-requests 200000].

The database's tables are dropped and made again (use a database of its own). Each phase starts the supervisor
with one number of web processes, sets --deadlines SLA warnings of seeded cases to fall due during the phase
(with their RQ alarms, as a filing sets them), runs the mixed load, waits for the last deadline plus a lease,
and stops the supervisor. The mix, per client thread, chosen at random with fixed weights: a filing by the
grid worker (one in three with a photo), the grid leader's inbox, the leader claiming and registering a case
this client filed, a case search, a case read, a supervisor's dossier page, the supervisor's indicators (the
town's month by village), and a timeline verify.
It prints per phase: requests per second, filings per second, p50/p95/p99 per endpoint, errors (any answer
but the one expected, or a dropped connection), and for the deadlines: fired late (p50, p99, max), early,
twice, not fired. Then the ratio of throughput with 2 web processes to 1, and the headroom over Nan'an's peak.
"""
import argparse
import http.client
import json
import os
import random
import secrets
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
from sqlalchemy import and_, func, not_, select, update

from bench.throughput import reset as schema_reset
from engine.cases import services
from engine.deadlines.scheduler import RQScheduler, connect
from engine.deps import Deps, NullScheduler
from engine.imports import demo
from engine.people import auth
from engine.process import runner
from engine.store import db
from engine.store.model import Deadline, TimelineEvent, User
from workflows import CATALOGUE

ROOT = Path(__file__).resolve().parent.parent
PEAK_PER_DAY = 3000  # Nan'an's realistic peak: a few thousand filings a day
MIX = {"file": 20, "inbox": 20, "register": 10, "search": 15, "case": 10, "dossier": 10, "indicators": 5,
       "verify": 10}
REGISTER = {"decision": "valid", "risk": "low", "violence": False}


def png(seed: int) -> bytes:
    """A real 1x1 PNG, different for every seed (a photo of the place)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    pixel = zlib.compress(bytes([0, seed % 256, (seed // 256) % 256, 0]))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"tEXt", f"Comment\x00{seed}".encode()) + chunk(b"IDAT", pixel) + chunk(b"IEND", b""))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """HTTP to the app on loopback; every call is timed under its endpoint's name."""

    def __init__(self, port: int, record):
        self.port, self.record = port, record

    def call(self, name, method, path, headers=None, body=None, expect=(200,)):
        started = time.perf_counter()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            data, status = response.read(), response.status
            connection.close()
        except OSError as exc:
            self.record(name, time.perf_counter() - started, f"{type(exc).__name__}")
            return None
        self.record(name, time.perf_counter() - started, None if status in expect else f"HTTP {status}")
        if status in expect and data and response.getheader("Content-Type", "").startswith("application/json"):
            return json.loads(data)
        return data if status in expect else None

    def json(self, name, method, path, token, payload=None, expect=(200,)):
        headers = {"Authorization": f"Bearer {token}"}
        body = None
        if payload is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(payload).encode()
        return self.call(name, method, path, headers, body, expect)

    def upload(self, name, case_id, token, content):
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nreport\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"photo.png\"\r\n"
                f"Content-Type: image/png\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={boundary}"}
        return self.call(name, "POST", f"/api/v1/cases/{case_id}/attachments", headers, body, expect=(201,))


class Load:
    """Client threads running the mix until the time or the request count is used up."""

    def __init__(self, port, tokens, cookie, seed_cases, seconds, max_requests, clients):
        self.port, self.tokens, self.cookie, self.seed_cases = port, tokens, cookie, seed_cases
        self.seconds, self.max_requests, self.clients = seconds, max_requests, clients
        self.lock = threading.Lock()
        self.times = defaultdict(list)
        self.errors = Counter()
        self.count = 0
        self.filed = 0

    def record(self, name, seconds, error):
        with self.lock:
            self.times[name].append(seconds)
            self.count += 1
            if error:
                self.errors[(name, error)] += 1

    def run(self) -> float:
        end = time.monotonic() + self.seconds
        threads = [threading.Thread(target=self.client, args=(n, end)) for n in range(self.clients)]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.monotonic() - began

    def client(self, n: int, end: float) -> None:
        rng = random.Random(n)
        http_ = Client(self.port, self.record)
        worker, leader, supervisor = self.tokens["worker"], self.tokens["leader"], self.tokens["supervisor"]
        mine: list[tuple[int, str]] = []  # cases this client filed, with their register task
        names, weights = list(MIX), list(MIX.values())
        while time.monotonic() < end and self.count < self.max_requests:
            action = rng.choices(names, weights)[0]
            if action == "file":
                case = http_.json("POST /cases", "POST", "/api/v1/cases", worker, {
                    "type": "dispute", "title": f"邻里纠纷 {n}-{len(mine)}", "severity": "low",
                    "description": "楼上漏水，协商未果"}, expect=(201,))
                if case:
                    with self.lock:
                        self.filed += 1
                    mine.append((case["id"], case["tasks"][0]["id"]))
                    if rng.random() < 1 / 3:
                        http_.upload("POST /cases/{id}/attachments", case["id"], worker, png(n * 100000 + len(mine)))
            elif action == "inbox":
                http_.json("GET /tasks", "GET", "/api/v1/tasks?limit=50", leader)
            elif action == "register" and mine:
                case_id, task_id = mine.pop(rng.randrange(len(mine)))
                if http_.json("POST /tasks/{id}/claim", "POST", f"/api/v1/tasks/{task_id}/claim", leader, {}):
                    http_.json("POST /tasks/{id}/complete", "POST", f"/api/v1/tasks/{task_id}/complete", leader,
                               {"data": REGISTER})
            elif action == "search":
                http_.json("GET /cases?q=", "GET", "/api/v1/cases?q=%E6%BC%8F%E6%B0%B4&limit=20", supervisor)
            elif action == "case":
                http_.json("GET /cases/{id}", "GET", f"/api/v1/cases/{rng.choice(self.seed_cases)}", worker)
            elif action == "dossier":
                http_.call("GET /cases/{id}/dossier (page)", "GET",
                           f"/cases/{rng.choice(self.seed_cases)}/dossier", {"Cookie": self.cookie})
            elif action == "indicators":  # the town's month by village, as the 统计 page reads it (after its catch-up)
                http_.json("GET /indicators", "GET", "/api/v1/indicators?period=month&by=village", supervisor)
            elif action == "verify":
                http_.json("GET /cases/{id}/timeline/verify", "GET",
                           f"/api/v1/cases/{rng.choice(self.seed_cases)}/timeline/verify", worker)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def prepare(database_url: str, timeline_key: str, seed: int) -> tuple[Deps, list[int]]:
    """Fresh tables, Nan'an loaded, `seed` dispute cases filed by `worker` to read and to hold deadlines."""
    engine = db.make_engine(database_url)
    schema_reset(engine)
    db.upgrade(engine, timeline_key.encode())
    deps = Deps(sessions=db.make_session_factory(engine, timeline_key.encode()), catalogue=CATALOGUE,
                scheduler=NullScheduler())
    runner.use_clock(deps.clock)
    demo.load(deps)
    worker = user_of(deps, "worker")
    cases = [services.file_case(deps, worker, services.NewCase("dispute", f"邻里纠纷 {i}", "楼上漏水"))
             for i in range(seed)]
    return deps, cases


def user_of(deps: Deps, username: str) -> int:
    with deps.uow() as uow:
        return uow.session.scalar(select(User.id).where(User.username == username))


def arm_deadlines(deps: Deps, scheduler: RQScheduler, cases: list[int], start: datetime, seconds: float):
    """Each case's register warning due at a random moment of the phase; its other SLA deadlines cancelled."""
    rng = random.Random(len(cases))
    chosen = and_(Deadline.name == "register_case", Deadline.kind == "warning", Deadline.fraction == 0.5)
    due = {}
    with deps.uow() as uow:
        uow.session.execute(update(Deadline).where(Deadline.case_id.in_(cases), Deadline.kind.in_(
            ("warning", "breach")), not_(chosen)).values(cancelled_at=deps.clock.now()))
        for deadline_id in uow.session.scalars(select(Deadline.id).where(
                Deadline.case_id.in_(cases), chosen)).all():
            due[deadline_id] = start + timedelta(seconds=rng.uniform(5, max(seconds - 5, 6)))
            uow.session.execute(update(Deadline).where(Deadline.id == deadline_id).values(due_at=due[deadline_id]))
        uow.commit()
    scheduler.schedule(list(due.values()))
    return due


def deadline_results(deps: Deps, due: dict) -> dict:
    with deps.uow() as uow:
        rows = uow.session.execute(select(Deadline.id, Deadline.case_id, Deadline.due_at, Deadline.fired_at).where(
            Deadline.id.in_(list(due)))).all()
        events = dict(uow.session.execute(select(TimelineEvent.case_id, func.count()).where(
            TimelineEvent.case_id.in_([r.case_id for r in rows]), TimelineEvent.kind == "sla_warning").group_by(
            TimelineEvent.case_id)).all())
    def aware(moment):
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    late = [(aware(r.fired_at) - aware(r.due_at)).total_seconds() for r in rows if r.fired_at]
    return {"deadlines": len(rows), "fired": len(late), "unfired": sum(1 for r in rows if not r.fired_at),
            "early": sum(1 for x in late if x < 0), "twice": sum(1 for c in events.values() if c > 1),
            "late_p50": percentile(late, 50) if late else None, "late_p99": percentile(late, 99) if late else None,
            "late_max": max(late) if late else None}


def start_serving(env: dict, web: int, workers: int, port: int, log: Path) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "serving", "--bind", f"127.0.0.1:{port}", "--web-workers",
                                str(web), "--workers", str(workers)], cwd=ROOT, env=env, stdout=log.open("w"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    end = time.monotonic() + 60
    while time.monotonic() < end:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                return process
        except OSError:  # not listening yet: ask again
            pass
        if process.poll() is not None:
            raise SystemExit(f"the supervisor stopped: see {log}")
        time.sleep(0.2)
    raise SystemExit(f"the web app was not ready within 60 s: see {log}")


def cpu_seconds(pids) -> float:
    """User + system CPU seconds used so far by these processes (Linux /proc; 0 for one that is gone)."""
    ticks, total = os.sysconf("SC_CLK_TCK"), 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def tree(pid: int) -> dict[str, list[int]]:
    """The supervisor's descendants, as web (gunicorn) and worker processes."""
    found, todo = {"web": [], "workers": []}, [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            for child in children:
                command = Path(f"/proc/{child}/cmdline").read_bytes()
                found["web" if b"gunicorn" in command else "workers"].append(child)
                todo.append(child)
    return found


def stop_serving(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def sign_in_cookie(port: int, username: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", "/api/v1/auth/session", body=json.dumps(
        {"username": username, "password": demo.DEMO_PASSWORD}).encode(), headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    if response.status not in (200, 201):
        raise SystemExit(f"could not sign {username} in: {response.status}")
    return response.getheader("Set-Cookie").split(";")[0]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.city", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/gridflow_city")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--web", default="1,2", help="web processes per phase, e.g. 1,2 or 1,2,1,2 (noise)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--deadlines", type=int, default=150, help="SLA warnings falling due in each phase")
    parser.add_argument("--max-requests", type=int, default=200_000, help="a bound on each phase's requests")
    args = parser.parse_args(argv)
    phases = [int(n) for n in args.web.split(",")]
    timeline_key = secrets.token_hex(32)
    print(f"preparing: fresh tables, Nan'an, {args.deadlines * len(phases) + 50} seeded cases ...", flush=True)
    deps, seeded = prepare(args.database_url, timeline_key, args.deadlines * len(phases) + 50)
    queue = f"bench-city-{uuid.uuid4().hex[:8]}"
    scheduler = RQScheduler(connect(args.redis_url), queue)
    tokens = {name: auth.grant_token(deps, user_of(deps, name), hours=24).token
              for name in ("worker", "leader", "supervisor")}
    instance = Path(tempfile.mkdtemp(prefix="bench-city-"))
    env = {**os.environ, "DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url, "GRIDFLOW_QUEUE": queue,
           "GRIDFLOW_INSTANCE": str(instance), "SECRET_KEY": secrets.token_hex(32),
           "GRIDFLOW_TIMELINE_KEY": timeline_key, "GRIDFLOW_LOG_FORMAT": "json", "GRIDFLOW_METRICS_TOKEN": "bench",
           "GRIDFLOW_SWEEP_SECONDS": "60", "GRIDFLOW_MIGRATE": "0"}
    results = []
    try:
        for index, web in enumerate(phases):
            port = free_port()
            process = start_serving(env, web, args.workers, port, instance / f"serving-{web}.log")
            try:
                cookie = sign_in_cookie(port, "supervisor")
                held = seeded[index * args.deadlines:(index + 1) * args.deadlines]
                readable = seeded[len(phases) * args.deadlines:]
                start = datetime.now(UTC)
                due = arm_deadlines(deps, scheduler, held, start, args.seconds)
                load = Load(port, tokens, cookie, readable, args.seconds, args.max_requests, args.clients)
                print(f"phase: {web} web process(es), {args.workers} workers, {args.clients} clients, "
                      f"{args.seconds:.0f} s ...", flush=True)
                processes = tree(process.pid)
                before = {part: cpu_seconds(pids) for part, pids in processes.items()}
                client_before = time.process_time()
                elapsed = load.run()
                load.load_after = os.getloadavg()[0]
                load.cpu = {part: cpu_seconds(pids) - before[part] for part, pids in processes.items()}
                load.cpu["clients"] = time.process_time() - client_before
                last = max(due.values())
                wait = (last - datetime.now(UTC)).total_seconds() + 5
                if wait > 0:
                    time.sleep(wait)
                results.append((web, load, elapsed, deadline_results(deps, due)))
            finally:
                stop_serving(process)
    finally:
        connection = redis.Redis.from_url(args.redis_url)
        for key in connection.scan_iter(f"rq:*{queue}*"):
            connection.delete(key)
    report(results, args)


def report(results, args) -> None:
    print()
    for web, load, elapsed, deadlines in results:
        total = sum(len(v) for v in load.times.values())
        errors = sum(load.errors.values())
        print(f"## {web} web process(es), {args.workers} RQ workers, {args.clients} client threads, {elapsed:.0f} s"
              f" (load average after it: {load.load_after:.1f})")
        print(f"requests {total} ({total / elapsed:.1f}/s), filings {load.filed} ({load.filed / elapsed:.1f}/s), "
              f"errors {errors}")
        print(f"CPU used during the load: web {load.cpu['web']:.1f} s ({load.cpu['web'] / total * 1000:.1f} ms a "
              f"request), workers {load.cpu['workers']:.1f} s, the client threads {load.cpu['clients']:.1f} s, "
              f"of the {elapsed * os.cpu_count():.0f} CPU-seconds the machine's {os.cpu_count()} cores had")
        print("| endpoint | requests | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|---|")
        for name, values in sorted(load.times.items()):
            print(f"| {name} | {len(values)} | {percentile(values, 50) * 1000:.0f} | "
                  f"{percentile(values, 95) * 1000:.0f} | {percentile(values, 99) * 1000:.0f} |")
        for (name, error), count in sorted(load.errors.items()):
            print(f"  error: {name}: {error} x{count}")
        d = deadlines
        late = ("-" if d["late_p50"] is None else
                f"p50 {d['late_p50']:.2f} s, p99 {d['late_p99']:.2f} s, max {d['late_max']:.2f} s")
        print(f"deadlines due during the run: {d['deadlines']}, fired {d['fired']} (late {late}), "
              f"early {d['early']}, twice {d['twice']}, not fired {d['unfired']}\n")
    rates = defaultdict(list)
    for web, load, elapsed, _ in results:
        rates[web].append(sum(len(v) for v in load.times.values()) / elapsed)
    if len(rates) >= 2:
        fewest, most = min(rates), max(rates)
        mean = {web: sum(r) / len(r) for web, r in rates.items()}
        print(f"scaling {fewest} -> {most} web processes: {mean[most] / mean[fewest]:.2f}x requests/s "
              f"({mean[fewest]:.1f} -> {mean[most]:.1f}/s, the mean of {len(rates[fewest])} and "
              f"{len(rates[most])} phase(s))")
    best = max(load.filed / elapsed for _, load, elapsed, _ in results)
    web_ms = min(load.cpu["web"] / sum(len(v) for v in load.times.values()) for _, load, _, _ in results) * 1000
    print(f"web CPU per request of the mix: {web_ms:.1f} ms, so one free core answers about {1000 / web_ms:.0f} "
          f"requests/s of it")
    print(f"headroom: {best:.1f} filings/s within the mix = {best * 86400:,.0f} a day, "
          f"{best * 86400 / PEAK_PER_DAY:,.0f}x a peak of {PEAK_PER_DAY:,} filings a day "
          f"(or {best * 3600 / (PEAK_PER_DAY / 8):,.0f}x if the whole day's peak came within 8 office hours)")
    print("(statistics: median of each endpoint's times; the machine is shared: compare ratios within a run)")


if __name__ == "__main__":
    main()
