"""Webhooks to a real local receiver, sent by real worker processes: signed, once, in order per case, retried,
paused when the receiver stays down (the admins told), and nothing lost when a worker is killed mid-delivery."""
import json
import signal
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from engine.cases import services, webhooks
from engine.deadlines import delivery
from engine.store.model import Notification, WebhookDelivery
from tests.helpers import open_task, user_id
from tests.integration.test_worker_faults import use_redis
from tests.processes import wait_for

SECRET = "whsec_test-secret-0123456789"
DISPUTE = services.NewCase(type="dispute", title="邻里纠纷", severity="medium")
QUICK = {"GRIDFLOW_WEBHOOK_BACKOFF_SECONDS": "0.2", "GRIDFLOW_WEBHOOK_RETRY_HOURS": str(10 / 3600),
         "GRIDFLOW_SWEEP_SECONDS": "1", "GRIDFLOW_LEASE_SECONDS": "2"}


class Receiver:
    """An HTTP receiver on 127.0.0.1 that records every request and answers what `answer(n, body)` says, where
    n counts the requests so far (from 1); an answer of None holds the request until `release` is set."""

    def __init__(self, answer=lambda n, body: 200):
        self.answer, self.requests, self.lock = answer, [], threading.Lock()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.requests.append((dict(self.headers), body, time.time()))
                    n = len(receiver.requests)
                    code = receiver.answer(n, json.loads(body))
                if code is None:
                    receiver.release.wait(20)
                    code = 200
                receiver.codes[n - 1] = code
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                """Quiet: the test reads what the receiver kept."""

        self.codes = {}  # request index -> the status answered
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def accepted(self) -> list[dict]:
        """The bodies answered 200, in the order they came."""
        return [json.loads(b) for i, (_h, b, _t) in enumerate(self.requests) if self.codes.get(i) == 200]

    def close(self):
        self.release.set()
        self.server.shutdown()


@pytest.fixture
def hooks(deps, clock, redis_url, settings):
    clock.set(datetime.now(UTC))  # the workers read the real clock: the cases' deadlines lie ahead
    use_redis(deps, redis_url, settings)
    receivers = []

    def _endpoint(answer=lambda n, body: 200, events=webhooks.EVENT_TYPES):
        receiver = Receiver(answer)
        receivers.append(receiver)
        endpoint = webhooks.create_endpoint(deps, user_id(deps, "admin"), "热线回访", receiver.url, events,
                                            secret=SECRET)
        return receiver, endpoint
    yield _endpoint
    for receiver in receivers:
        receiver.close()


def statuses(deps, endpoint_id) -> list[str]:
    with deps.uow() as uow:
        return list(uow.session.scalars(select(WebhookDelivery.status).where(
            WebhookDelivery.endpoint_id == endpoint_id).order_by(WebhookDelivery.id)))


def test_signed_events_arrive_once_and_in_order_per_case_after_three_failures(deps, hooks, start_worker):
    failing = {"event": None, "failures": 0}

    def answer(n, body):  # the first event's first three tries fail
        failing["event"] = failing["event"] or body["id"]
        if body["id"] == failing["event"] and failing["failures"] < 3:
            failing["failures"] += 1
            return 503
        return 200
    receiver, endpoint = hooks(answer=answer)
    start_worker(**QUICK)
    first = services.file_case(deps, user_id(deps, "worker"), DISPUTE)
    second = services.file_case(deps, user_id(deps, "worker"), DISPUTE)
    task = open_task(deps, first, "register_case")
    services.complete_task(deps, user_id(deps, "leader"), task.id,
                           {"decision": "valid", "risk": "low", "violence": False})
    wait_for(lambda: set(statuses(deps, endpoint["id"])) == {"delivered"}, seconds=30, what="all delivered")

    for headers, body, at in receiver.requests:
        assert delivery.verify(SECRET, headers["Gridflow-Signature"], body, now=at)
        assert not delivery.verify("another-secret-000000", headers["Gridflow-Signature"], body, now=at)
        assert not delivery.verify(SECRET, headers["Gridflow-Signature"], body + b" ", now=at)
    tries = [receiver.codes[i] for i, (_h, b, _t) in enumerate(receiver.requests)
             if json.loads(b)["id"] == failing["event"]]
    assert tries == [503, 503, 503, 200]
    accepted = receiver.accepted()
    events = [b["id"] for b in accepted]
    assert len(events) == len(set(events)) == len(statuses(deps, endpoint["id"]))  # each event once
    for case_id in (first, second):
        mine = [b for b in accepted if b["data"]["case_id"] == case_id]
        assert [b["id"] for b in mine] == sorted(b["id"] for b in mine)  # in the order they happened
        assert mine[0]["type"] == "case.filed"
    kinds = [b["type"] for b in accepted if b["data"]["case_id"] == first]
    assert "case.status_changed" in kinds and kinds.index("case.filed") < kinds.index("case.status_changed")
    log = webhooks.deliveries(deps, user_id(deps, "admin"), endpoint["id"])
    assert sorted(d["attempts"] for d in log) == [1] * (len(log) - 1) + [4]
    assert all(d["response_code"] == 200 for d in log)


def test_a_receiver_down_for_longer_pauses_its_endpoint_and_the_admins_are_told(deps, hooks, start_worker):
    down = {"yes": True}
    receiver, endpoint = hooks(answer=lambda n, b: 500 if down["yes"] else 200, events=["case.filed"])
    other, healthy = hooks(events=["case.filed"])
    start_worker(**{**QUICK, "GRIDFLOW_WEBHOOK_RETRY_HOURS": str(1 / 3600)})  # 3 tries: 0.2 s, 0.4 s apart
    case_id = services.file_case(deps, user_id(deps, "worker"), DISPUTE)
    wait_for(lambda: statuses(deps, endpoint["id"]) == ["failed"], seconds=20, what="the delivery failed")
    assert webhooks.get_endpoint(deps, user_id(deps, "admin"), endpoint["id"])["status"] == "paused"
    assert statuses(deps, healthy["id"]) == ["delivered"]  # the other endpoint was not held up
    with deps.uow() as uow:
        told = uow.session.execute(select(Notification.user_id, Notification.kind, Notification.case_id)
                                   .where(Notification.kind == "webhook_paused")).all()
    assert told == [(user_id(deps, "admin"), "webhook_paused", case_id)]
    assert len(receiver.requests) == 3

    while_paused = services.file_case(deps, user_id(deps, "worker"), DISPUTE)  # kept, not sent
    time.sleep(1)
    assert statuses(deps, endpoint["id"]) == ["failed", "pending"] and len(receiver.requests) == 3
    down["yes"] = False
    webhooks.set_paused(deps, user_id(deps, "admin"), endpoint["id"], paused=False)
    wait_for(lambda: statuses(deps, endpoint["id"]) == ["delivered", "delivered"], seconds=20,
               what="delivered after resuming")
    # both sent once resumed, the failed one again; two cases are two lines, sent side by side in any order
    assert sorted(b["data"]["case_id"] for b in receiver.accepted()) == sorted([case_id, while_paused])

    [latest, _older] = webhooks.deliveries(deps, user_id(deps, "admin"), endpoint["id"])
    webhooks.redeliver(deps, user_id(deps, "admin"), latest["id"])  # by hand: a new delivery of the event
    wait_for(lambda: statuses(deps, endpoint["id"]) == ["delivered"] * 3, seconds=20, what="redelivered")
    assert [b["id"] for b in receiver.accepted()].count(latest["event_id"]) == 2


def test_nothing_is_lost_when_a_worker_is_killed_mid_delivery(deps, hooks, start_worker):
    receiver, endpoint = hooks(answer=lambda n, b: None if n == 1 else 200)  # the first request hangs
    worker = start_worker(**QUICK)
    ids = [services.file_case(deps, user_id(deps, "worker"), DISPUTE) for _ in range(3)]
    wait_for(lambda: len(receiver.requests) >= 1, seconds=20, what="the first delivery under way")
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    receiver.release.set()
    assert "pending" in statuses(deps, endpoint["id"])
    start_worker(**QUICK)
    wait_for(lambda: set(statuses(deps, endpoint["id"])) == {"delivered"}, seconds=30,
               what="everything delivered by the second worker")
    accepted = receiver.accepted()
    assert {b["id"] for b in accepted} >= {b["id"] for _h, raw, _t in receiver.requests for b in [json.loads(raw)]}
    for case_id in ids:
        mine = [b["id"] for b in accepted if b["data"]["case_id"] == case_id]
        assert mine == sorted(mine) and mine
