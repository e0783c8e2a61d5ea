"""Serving in production: /readyz, /metrics, request ids and JSON logs (fast, in process); and `python -m serving`
(what `make run` starts) bringing up gunicorn and two RQ workers, counting across its processes, and stopping
them all on SIGTERM."""
import dataclasses
import json
import logging
import os
import signal
import threading
import time
from pathlib import Path

import pytest
import redis
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, text

import serving
from engine.deadlines import firing
from engine.people import auth
from engine.store.model import Deadline
from serving import logs, metrics
from tests.api_client import file
from tests.helpers import user_id
from tests.integration.test_leases import file_overdue
from tests.processes import METRICS_TOKEN as TOKEN
from tests.processes import alive, children, get, wait_for, web_processes


@pytest.fixture
def app(settings, clean_db, clock, redis_url):
    from app import create_app
    from engine.imports import demo
    application = create_app(dataclasses.replace(settings, metrics_token=TOKEN), clock=clock)
    application.config["TESTING"] = True
    demo.load(application.extensions["gridflow"])
    return application


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client, token=TOKEN):
    return client.get("/metrics", headers={"Authorization": f"Bearer {token}"})


def test_readyz_names_what_is_wrong_and_answers_503(app, client, clean_db):
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json == {"status": "ready", "checks": {"database": "ok", "migrations": "ok", "redis": "ok"}}

    dead_redis = serving.quick_redis(redis.Redis(host="127.0.0.1", port=1))
    checks = serving.readiness(clean_db, dead_redis, serving.migrations_head())
    assert checks["database"] == "ok" and checks["redis"].startswith("unreachable: ConnectionError")
    behind = serving.readiness(clean_db, None, "9999")
    assert behind["migrations"].startswith("the database is at migration ") and "needs 9999" in behind["migrations"]
    nowhere = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 1})
    down = serving.readiness(nowhere, None, "9999")
    assert down["database"].startswith("unreachable: OperationalError") and down["migrations"].startswith("unknown")

    readiness = app.extensions["readiness"]  # what the endpoint checks: make its Redis unreachable
    readiness.redis_client, kept = dead_redis, readiness.redis_client
    try:
        unready = client.get("/readyz")
    finally:
        readiness.redis_client = kept
    assert unready.status_code == 503 and unready.json["status"] == "unready"
    assert unready.json["checks"]["redis"].startswith("unreachable") and unready.json["checks"]["database"] == "ok"


def test_metrics_are_off_without_a_token_and_need_it(settings, clean_db, clock, redis_url, client):
    from app import create_app
    assert create_app(settings, clock=clock).test_client().get("/metrics").status_code == 404
    assert client.get("/metrics").status_code == 401
    assert scrape(client, "wrong").status_code == 401
    assert client.get("/metrics", headers={"Authorization": TOKEN}).status_code == 401


def test_metrics_count_filings_requests_and_open_tasks(client, login):
    filed_before = sample("gridflow_cases_filed_total", type="dispute")
    requests_before = sample("gridflow_http_requests_total", method="POST", endpoint="/api/v1/cases", status="201")
    file(client, login)
    file(client, login)
    response = scrape(client)
    assert response.status_code == 200 and response.content_type.startswith("text/plain")
    body = response.get_data(as_text=True)
    assert sample("gridflow_cases_filed_total", type="dispute") == filed_before + 2
    assert sample("gridflow_http_requests_total", method="POST", endpoint="/api/v1/cases",
                  status="201") == requests_before + 2
    assert 'gridflow_http_request_duration_seconds_bucket{endpoint="/api/v1/cases",le="+Inf",method="POST"}' in body
    assert 'gridflow_open_tasks{status="open"} 2.0' in body  # each new dispute waits for its registration
    assert 'gridflow_open_tasks{status="claimed"} 0.0' in body
    assert 'gridflow_queue_jobs{state="scheduled"}' in body and 'gridflow_queue_jobs{state="failed"} 0.0' in body


def test_a_rolled_back_filing_counts_nothing(client, login):
    before = sample("gridflow_cases_filed_total", type="dispute")
    response = client.post("/api/v1/cases", json={"type": "dispute", "title": "", "severity": "medium"},
                           headers=login("worker"))
    assert response.status_code == 422
    assert sample("gridflow_cases_filed_total", type="dispute") == before


def test_firings_breaches_and_lateness_are_counted_once_committed(deps, clock):
    metrics.watch(deps.sessions)
    file_overdue(deps, clock, 1, kind="breach")
    with deps.uow() as uow:
        [(deadline_id, due_at)] = uow.session.execute(text(
            "SELECT id, due_at FROM deadlines WHERE kind = 'breach' AND cancelled_at IS NULL")).all()
    fired, breaches = sample("gridflow_deadline_firings_total", kind="breach"), sample("gridflow_sla_breaches_total")
    late = sample("gridflow_deadline_lateness_seconds_count", kind="breach")
    over_hour = sample("gridflow_deadline_lateness_seconds_bucket", kind="breach", le="3600.0")
    assert firing.fire_deadline(deps, deadline_id) == "fired"
    assert sample("gridflow_deadline_firings_total", kind="breach") == fired + 1
    assert sample("gridflow_sla_breaches_total") == breaches + 1
    assert sample("gridflow_deadline_lateness_seconds_count", kind="breach") == late + 1
    assert sample("gridflow_deadline_lateness_seconds_bucket", kind="breach", le="3600.0") == over_hour  # hours late
    assert sample("gridflow_deadlines_fired_early_total") == 0
    with deps.uow() as uow:
        assert uow.session.get(Deadline, deadline_id).fired_at is not None
    assert firing.fire_deadline(deps, deadline_id) != "fired"  # fired once: counted once
    assert sample("gridflow_deadline_firings_total", kind="breach") == fired + 1


def test_a_request_id_comes_back_and_a_log_line_names_it_and_the_case(client, login, caplog):
    caplog.set_level(logging.INFO, logger="gridflow.request")
    given = client.get("/healthz", headers={"X-Request-Id": "proxy-7f3a.1"})
    assert given.headers["X-Request-Id"] == "proxy-7f3a.1"
    refused = client.get("/healthz", headers={"X-Request-Id": "no spaces or <tags> please"})
    made = client.get("/healthz")
    assert len(refused.headers["X-Request-Id"]) == 32 and refused.headers["X-Request-Id"] != made.headers[
        "X-Request-Id"]

    case = client.post("/api/v1/cases", json={"type": "dispute", "title": "噪音", "severity": "low"},
                       headers={**login("worker"), "X-Request-Id": "filing-1"}).json
    [record] = [r for r in caplog.records if getattr(r, "request_id", None) == "filing-1"]
    assert record.case == case["number"] and record.status == 201 and record.endpoint == "/api/v1/cases"
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["request_id"] == "filing-1" and line["case"] == case["number"] and line["level"] == "INFO"
    assert line["message"].startswith("POST /api/v1/cases 201") and line["time"].endswith("+00:00")

    client.get(f"/api/v1/cases/{case['id']}", headers={**login("worker"), "X-Request-Id": "read-1"})
    [read] = [r for r in caplog.records if getattr(r, "request_id", None) == "read-1"]
    assert read.case_id == case["id"] and read.case is None  # a read changes no case; its id is in the path


def test_json_logs_carry_the_request_context_into_every_line(capsys):
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ["", *logs.QUIET]}
    logs.configure("json")
    try:
        token = logs.REQUEST_ID.set("r-42"), logs.CASES.set(["LC20261124-0001"])
        logging.getLogger("gridflow.test").warning("something %s", "happened")
        logs.REQUEST_ID.reset(token[0])
        logs.CASES.reset(token[1])
    finally:
        for handler in [h for h in root.handlers if getattr(h, "gridflow", False)]:
            root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    [line] = [json.loads(x) for x in capsys.readouterr().err.splitlines() if "gridflow.test" in x]
    assert line["message"] == "something happened" and line["request_id"] == "r-42"
    assert line["case"] == "LC20261124-0001" and line["level"] == "WARNING"


# --- the supervisor, as `make run` starts it ---------------------------------------------------------------

@pytest.mark.slow
def test_the_supervisor_serves_with_gunicorn_and_workers_counts_across_them_and_stops_them_all(
        deps, serve, settings, redis_url, tmp_path):
    process, base = serve(web=2, workers=2)
    connection = redis.Redis.from_url(redis_url)
    queue_workers = lambda: [w for w in connection.smembers(f"rq:workers:{settings.queue_name}")]  # noqa: E731
    wait_for(lambda: len(queue_workers()) == 2, 15, "two RQ workers listening")
    wait_for(lambda: connection.exists(f"rq:scheduler-lock:{settings.queue_name}"), 10, "a scheduler")

    def commands():
        found = []
        for pid in children(process.pid):
            try:
                found.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
            except OSError:  # gone meanwhile
                pass
        return found
    # gunicorn's master and 2 web processes; 2 workers and the scheduler child one of them forked
    wait_for(lambda: sum(c.endswith("worker.py ") for c in commands()) == 3, 10, "the scheduler forked")
    assert sum("serving.gunicorn_conf" in c for c in commands()) == 3
    processes = children(process.pid)

    token = auth.grant_token(deps, user_id(deps, "worker"), hours=24 * 3650).token  # the fixture clock is fake
    body = json.dumps({"type": "dispute", "title": "邻里纠纷", "severity": "medium"}).encode()
    for _ in range(4):
        status, answer = get(f"{base}/api/v1/cases", {"Authorization": f"Bearer {token}",
                                                       "Content-Type": "application/json"}, body)
        assert status == 201, answer
    status, long_line = get(f"{base}/api/v1/cases?q={'x' * 6000}", {"Authorization": f"Bearer {token}"})
    assert status != 414  # a request line up to 8190 bytes reaches the app
    assert get(f"{base}/healthz?q={'x' * 8200}")[0] == 414  # beyond it, gunicorn answers itself
    scrapes = [get(f"{base}/metrics", {"Authorization": f"Bearer {TOKEN}"}) for _ in range(4)]
    for status, text_ in scrapes:  # whichever web process answers, it adds up every process's counts
        assert status == 200
        assert 'gridflow_cases_filed_total{type="dispute"} 4.0' in text_
        assert 'gridflow_http_requests_total{endpoint="/api/v1/cases",method="POST",status="201"} 4.0' in text_
        assert "gridflow_sweep_duration_seconds_count" in text_  # the workers' sweeps are in it too

    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    wait_for(lambda: not any(alive(pid) for pid in processes), 5, "every child gone")
    assert time.monotonic() - started < 12
    output = (tmp_path / "serving-0.log").read_text()
    assert '"message": "stopped"' in output and "Traceback" not in output
    assert not connection.smembers(f"rq:workers:{settings.queue_name}")  # the workers said goodbye to RQ


@pytest.mark.slow
def test_a_web_process_killed_in_the_middle_of_a_filing_leaves_no_half_written_case(
        deps, serve, sql_engine, settings):
    if sql_engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: a filing cannot be held half way from outside")
    process, base = serve(web=1, workers=0)
    token = auth.grant_token(deps, user_id(deps, "worker"), hours=24 * 3650).token  # the fixture clock is fake
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    body = json.dumps({"type": "dispute", "title": "半途而废", "severity": "medium"}).encode()

    def count(sql):
        with sql_engine.connect() as c:
            return c.scalar(text(sql))
    counters = count("SELECT coalesce(sum(last), 0) FROM case_counters")
    cases, tasks = count("SELECT count(*) FROM cases"), count("SELECT count(*) FROM tasks")
    with sql_engine.connect() as blocker:  # the filing numbers and writes its case, then waits here
        blocker.execute(text("LOCK TABLE timeline_events IN EXCLUSIVE MODE"))
        failures = []
        thread = threading.Thread(target=lambda: failures.append(_try(get, f"{base}/api/v1/cases", headers, body)))
        thread.start()
        wait_for(lambda: count("SELECT count(*) FROM pg_locks l JOIN pg_class r ON r.oid = l.relation "
                               "JOIN pg_database d ON d.oid = l.database AND d.datname = current_database() "
                               "WHERE r.relname = 'timeline_events' AND NOT l.granted") > 0, 15,
                 "the filing blocked half way")
        [web] = web_processes(process.pid)
        os.kill(web, signal.SIGKILL)
        thread.join(timeout=10)
        blocker.rollback()
    assert failures and isinstance(failures[0], OSError)  # the client saw its connection drop, not a 201
    wait_for(lambda: count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                           "(state LIKE 'idle in transaction%' OR wait_event_type = 'Lock')") == 0, 10,
             "the killed transaction rolled back")
    assert count("SELECT count(*) FROM cases WHERE title = '半途而废'") == 0
    assert count("SELECT count(*) FROM cases") == cases and count("SELECT count(*) FROM tasks") == tasks
    assert count("SELECT coalesce(sum(last), 0) FROM case_counters") == counters  # its number was not used up

    wait_for(lambda: len(web_processes(process.pid)) == 1, 15, "gunicorn replaced the killed process")
    status, answer = get(f"{base}/api/v1/cases", headers, body)
    assert status == 201, answer
    case = json.loads(answer)
    status, verified = get(f"{base}/api/v1/cases/{case['id']}/timeline/verify", headers)
    assert status == 200 and json.loads(verified)["intact"] is True, verified
    assert count("SELECT count(*) FROM cases WHERE title = '半途而废'") == 1


def _try(call, *args):
    try:
        return call(*args)
    except OSError as exc:
        return exc


def test_connections_cut_by_a_postgresql_restart_are_replaced_before_the_next_request(
        app, client, login, sql_engine):
    if sql_engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to restart")
    headers = login("worker")
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200  # the pool now holds a connection
    with sql_engine.connect() as c:  # what a restart does to every open connection, without restarting
        cut = c.scalar(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    assert cut >= 1
    assert client.get("/readyz").status_code == 200
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200
    assert file(client, login)["status"]


def test_a_database_url_with_two_hosts_uses_the_one_that_takes_writes(sql_engine):
    """What docs/deploy.md sets for a primary and its replica: after a promotion no setting changes."""
    if sql_engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's libpq host lists")
    from engine.store import db
    url = sql_engine.url
    two_hosts = (f"postgresql://{url.username}@/{url.database}?host=127.0.0.1:1&host={url.host}:{url.port or 5432}"
                 "&target_session_attrs=read-write")
    engine = db.make_engine(two_hosts)  # the first host answers nothing (as a lost primary)
    try:
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT pg_is_in_recovery()")) is False
            assert connection.scalar(text("SELECT inet_server_port()")) == (url.port or 5432)
    finally:
        engine.dispose()
