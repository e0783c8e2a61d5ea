"""PostgreSQL really restarted under `python -m serving` (gunicorn and RQ workers), while phones file cases and
deadlines fall due: a fast restart (`pg_ctl restart -m fast`, what an upgrade or a config change does) and a
crash (`pg_ctl stop -m immediate`, down two seconds, then started: PostgreSQL recovers from its WAL).

The cluster is a throwaway one of the test's own (tests/postgresql_cluster.py), whatever database the suite
runs on. What it shows: a filing answered 201 is in the database once, however often the client retried it
with its Idempotency-Key; a request the outage refused gets a 503 in the API's error format, never a 500 or a
dropped connection; /readyz answers 503 while the database is away and 200 again once it is back, without the
app being restarted (pooled connections are tested before use and replaced); every deadline due before, during
or after the outage fires exactly once, never early (a firing the outage broke is rolled back and made good by
the workers' sweep); and the RQ workers are still there afterwards. Run with -s, it prints what the clients
saw at each outage, how long /readyz was not ready and how late each deadline fired (docs/deploy.md quotes it).
"""
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field, replace
from datetime import timedelta

import pytest
import redis
from sqlalchemy import and_, func, select, update

from engine import bootstrap
from engine.cases import services
from engine.imports import demo
from engine.people import auth
from engine.store.model import Case, Deadline
from tests.helpers import breach_counts, user_id
from tests.postgresql_cluster import throwaway_cluster
from tests.processes import get, wait_for, web_processes
from workflows import CATALOGUE

FAST = {"GRIDFLOW_SWEEP_SECONDS": "1", "GRIDFLOW_LEASE_SECONDS": "2"}
CRASH_SECONDS = 2.0  # how long PostgreSQL stays down after the crash, before it is started again
DISPUTE = services.NewCase(type="dispute", title="楼上漏水", severity="medium")


@pytest.fixture
def cluster():
    with throwaway_cluster() as started:
        yield started


@pytest.fixture
def deps(cluster, settings, redis_url):
    """The engine on the cluster's database (migrated, the demo loaded), on the real clock and the tests' Redis."""
    cluster.create_database("gridflow")
    built = bootstrap.build(replace(settings, database_url=cluster.url("gridflow"), redis_url=redis_url), CATALOGUE)
    demo.load(built)
    yield built
    built.sessions.kw["bind"].dispose()


@dataclass
class Filer:
    """A phone filing case after case, each retried with its Idempotency-Key until it is answered 201."""
    base: str
    token: str
    name: str
    stop: threading.Event
    saved: dict = field(default_factory=dict)  # key -> (title, [case ids answered with 201])
    refused: list = field(default_factory=list)  # (when, status or None, body) of every answer but a 201

    def run(self) -> None:
        number = 0
        while not self.stop.is_set():
            self.file_until_saved(f"重启测试 {self.name}-{number}")
            number += 1

    def file_until_saved(self, title: str) -> None:
        key, body = uuid.uuid4().hex, json.dumps({"type": "dispute", "title": title, "severity": "medium"}).encode()
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
                   "Idempotency-Key": key}
        self.saved[key] = (title, [])
        end = time.monotonic() + 60
        while time.monotonic() < end:
            try:
                status, text = get(f"{self.base}/api/v1/cases", headers, body)
            except OSError as exc:  # a dropped connection: the test fails on it below
                status, text = None, repr(exc)
            if status == 201:
                self.saved[key][1].append(json.loads(text)["id"])
                return
            self.refused.append((time.monotonic(), status, text))
            time.sleep(0.1)


def file_once(base: str, token: str, title: str) -> tuple[int, str | None, str]:
    """One filing, not retried: (status, Retry-After, body)."""
    request = urllib.request.Request(f"{base}/api/v1/cases", method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        data=json.dumps({"type": "dispute", "title": title, "severity": "low"}).encode())
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("Retry-After"), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Retry-After"), exc.read().decode()


class ReadinessWatch:
    """Asks /readyz every 50 ms; remembers when it was not 200."""

    def __init__(self, base: str, stop: threading.Event):
        self.base, self.answers, self.stop = base, [], stop

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                status = get(f"{self.base}/readyz", timeout=2)[0]
            except OSError:
                status = None
            self.answers.append((time.monotonic(), status))
            time.sleep(0.05)

    def unready(self, begin: float, end: float) -> float:
        """Seconds /readyz was not 200, from the first failure between `begin` and `end` to the next 200."""
        down = next((at for at, status in self.answers if begin <= at < end and status != 200), None)
        if down is None:
            return 0.0
        return next(at for at, status in self.answers if at > down and status == 200) - down


def arm(deps, case_ids: list[int], first_due, step: float) -> dict[int, object]:
    """Each case's registration breach due `step` seconds after the one before, from `first_due`; its other
    time limits cancelled. Returns {deadline id: due time}; their alarms are set in Redis as a filing sets them."""
    breach = and_(Deadline.name == "register_case", Deadline.kind == "breach", Deadline.fraction.is_not(None))
    due = {}
    with deps.uow() as uow:
        uow.session.execute(update(Deadline).where(Deadline.case_id.in_(case_ids), ~breach).values(
            cancelled_at=deps.clock.now()))
        ids = uow.session.scalars(select(Deadline.id).where(Deadline.case_id.in_(case_ids), breach)
                                  .order_by(Deadline.case_id)).all()
        for index, deadline_id in enumerate(ids):
            due[deadline_id] = first_due + timedelta(seconds=index * step)
            uow.session.execute(update(Deadline).where(Deadline.id == deadline_id).values(due_at=due[deadline_id]))
        uow.commit()
    deps.scheduler.schedule(list(due.values()))
    return due


def fired(deps, deadline_ids) -> dict[int, tuple]:
    """{deadline id: (case id, due at, fired at, attempts)}."""
    with deps.uow() as uow:
        rows = uow.session.execute(select(Deadline.id, Deadline.case_id, Deadline.due_at, Deadline.fired_at,
                                          Deadline.attempts).where(Deadline.id.in_(list(deadline_ids)))).all()
    return {row.id: tuple(row[1:]) for row in rows}


def until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


@dataclass
class Outages:
    """When PostgreSQL went away (monotonic seconds) and came back (the database's clock), and what a filing
    and /readyz answered while it was down after the crash."""
    fast_at: float
    crash_at: float
    back_at: object
    filing_while_down: tuple
    ready_while_down: tuple


def restart_then_crash(cluster, clock, base: str, token: str) -> Outages:
    """A fast restart 2 s from now; a crash at 4.5 s, started again 2 s later."""
    began = time.monotonic()
    until(began + 2)
    fast_at = time.monotonic()
    cluster.restart("fast")
    until(began + 4.5)
    crash_at = time.monotonic()
    cluster.stop("immediate")
    filing, ready = file_once(base, token, "停机时"), get(f"{base}/readyz")
    until(crash_at + CRASH_SECONDS)
    cluster.start()
    return Outages(fast_at, crash_at, clock.now(), filing, ready)


def report(outages: Outages, saved: dict, refused: list, readiness: ReadinessWatch, rows: dict, log: str,
           failed_jobs: int) -> str:
    """What clients saw at each outage, how long /readyz was not ready, how late the deadlines fired."""
    refused_in = [sum(begin <= at < end for at, *_answer in refused) for begin, end in
                  ((outages.fast_at, outages.crash_at), (outages.crash_at, time.monotonic()))]
    ordered = sorted(rows.values(), key=lambda row: row[1])
    late = [round((fired_at - due_at).total_seconds(), 1) for _case, due_at, fired_at, _attempts in ordered]
    after_return = max((fired_at - outages.back_at).total_seconds() for _case, due_at, fired_at, _attempts in ordered
                       if due_at < outages.back_at <= fired_at)
    return (f"filings: {len(saved)} saved; refused with 503: {refused_in[0]} around the fast restart, "
            f"{refused_in[1]} around the crash; /readyz not ready "
            f"{readiness.unready(outages.fast_at, outages.crash_at):.2f} s at the fast restart, "
            f"{readiness.unready(outages.crash_at, time.monotonic()):.2f} s at the crash; deadlines late {late} s "
            "(due every 0.5 s from 1 s; fast restart at 2 s, crash at 4.5 s, started at 6.5 s), those waiting "
            f"for PostgreSQL all fired {after_return:.2f} s after it was back; attempts "
            f"{sorted(row[3] for row in ordered)}; workers restarted {log.count('starting it again')}; alarm jobs "
            f"failed (woken while it was down) {failed_jobs}")


@pytest.mark.slow
def test_postgresql_restarted_and_crashed_under_load_loses_and_doubles_no_case_and_no_deadline(
        cluster, deps, serve, settings, redis_url, tmp_path):
    worker = user_id(deps, "worker")
    token = auth.grant_token(deps, worker, hours=1).token
    seeded = [services.file_case(deps, worker, DISPUTE) for _ in range(18)]
    process, base = serve(web=2, workers=2, DATABASE_URL=cluster.url("gridflow"), **FAST)
    warm = arm(deps, seeded[:2], deps.clock.now(), step=1.0)  # each worker's first firing reads the diagrams
    wait_for(lambda: all(row[2] for row in fired(deps, warm).values()), 30, "the first firings")
    web = sorted(web_processes(process.pid))

    stop = threading.Event()
    readiness = ReadinessWatch(base, stop)
    filers = [Filer(base, token, str(n), stop) for n in range(2)]
    threads = [threading.Thread(target=f.run) for f in filers] + [threading.Thread(target=readiness.run)]
    for thread in threads:
        thread.start()
    try:
        due = arm(deps, seeded[2:], deps.clock.now() + timedelta(seconds=1), step=0.5)  # at 1 s, 1.5 s ... 8.5 s
        outages = restart_then_crash(cluster, deps.clock, base, token)
        wait_for(lambda: readiness.answers and readiness.answers[-1][1] == 200, 20, "/readyz 200 again")
        time.sleep(1.0)  # filings go on a moment after
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=70)

    status, retry_after, text = outages.filing_while_down
    assert status == 503 and retry_after, outages.filing_while_down
    assert json.loads(text) == {"code": 503, "message": "服务暂时不可用，请稍后再试。", "errors": {}}
    status, text = outages.ready_while_down
    assert status == 503 and json.loads(text)["checks"]["database"].startswith("unreachable")
    refused = [answer for f in filers for answer in f.refused]
    assert all(status == 503 and json.loads(text)["code"] == 503 for _at, status, text in refused), refused[:5]

    saved = {key: value for f in filers for key, value in f.saved.items()}
    assert all(ids for _title, ids in saved.values()), "a filing never answered 201"
    assert all(len(set(ids)) == 1 for _title, ids in saved.values())  # a retry answers with the first case
    with deps.uow() as uow:
        by_title = dict(uow.session.execute(select(Case.title, func.count()).where(
            Case.title.like("重启测试 %")).group_by(Case.title)).all())
        stored = dict(uow.session.execute(select(Case.title, Case.id).where(Case.title.like("重启测试 %"))).all())
        refused_saved = uow.session.scalar(select(func.count()).where(Case.title == "停机时"))
    assert by_title == {title: 1 for title, _ids in saved.values()}
    assert refused_saved == 0  # the filing refused while PostgreSQL was down left nothing
    assert stored == {title: ids[0] for title, ids in saved.values()}

    wait_for(lambda: all(row[2] for row in fired(deps, due).values()), 30, "every deadline fired")
    time.sleep(2.5)  # another sweep and lease: nothing may fire twice
    rows = fired(deps, due)
    assert all(fired_at >= due_at for _case, due_at, fired_at, _attempts in rows.values())  # none early
    assert breach_counts(deps, seeded) == ([1] * len(seeded), [1] * len(seeded), [1] * len(seeded))

    queue_workers = redis.Redis.from_url(redis_url).smembers(f"rq:workers:{settings.queue_name}")
    assert process.poll() is None and len(queue_workers) == 2  # no worker left for good
    assert sorted(web_processes(process.pid)) == web  # the same web processes answer: none was restarted
    print("\n" + report(outages, saved, refused, readiness, rows, (tmp_path / "serving-0.log").read_text(),
                         deps.scheduler.queue.failed_job_registry.count))
