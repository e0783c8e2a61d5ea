"""After a breach: the supervision order is listed, answered by a supervisor, and the notices reach people."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine.deadlines import firing
from engine.store.model import Deadline
from tests.api_client import file, in_english

MONDAY_9AM = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def breach_registration(app, clock, case_id):
    deps = app.extensions["gridflow"]
    with deps.uow() as uow:
        deadline = uow.session.scalar(select(Deadline).where(
            Deadline.case_id == case_id, Deadline.kind == "breach", Deadline.name == "register_case"))
    clock.set(deadline.due_at)
    assert firing.fire_deadline(deps, deadline.id) == "fired"


def test_a_breach_leaves_an_order_that_a_supervisor_answers_and_notices_for_the_supervisors(client, login, app,
                                                                                            clock):
    clock.set(MONDAY_9AM)
    case = file(client, login)
    breach_registration(app, clock, case["id"])
    supervisor = login("supervisor")
    [order] = client.get("/api/v1/supervision-orders", headers=supervisor).json
    assert order["case_number"] == case["number"] and order["status"] == "open" and "立案登记" in order["reason"]
    assert client.get("/api/v1/supervision-orders", headers=login("shuitou_supervisor")).json == []
    assert client.post(f"/api/v1/supervision-orders/{order['id']}/answer", headers=login("worker"),
                       json={"answer": "x"}).status_code == 403
    clock.advance(minutes=20)
    answered = client.post(f"/api/v1/supervision-orders/{order['id']}/answer", headers=supervisor,
                           json={"answer": "已责成村调委会当日立案"})
    assert answered.status_code == 200 and answered.json["status"] == "answered"
    assert client.post(f"/api/v1/supervision-orders/{order['id']}/answer", headers=supervisor,
                       json={"answer": "again"}).status_code == 409
    timeline = client.get(f"/api/v1/cases/{case['id']}/timeline", headers=supervisor).json
    assert [(e["actor"], e["reason"]) for e in timeline if e["kind"] == "supervision_answered"] == [
        ("supervisor", "已责成村调委会当日立案")]
    notices = client.get("/api/v1/notifications?unread=true", headers=supervisor).json
    assert [n["kind"] for n in notices if n["case_id"] == case["id"]] == ["sla_breached"]
    assert client.post(f"/api/v1/notifications/{notices[0]['id']}/read", headers=supervisor).status_code == 204
    assert client.get("/api/v1/notifications?unread=true", headers=supervisor).json == []
    assert client.post(f"/api/v1/notifications/{notices[0]['id']}/read", headers=login("leader")).status_code == 404


def test_an_unanswered_order_becomes_overdue_on_the_timeline(client, login, app, clock):
    clock.set(MONDAY_9AM)
    case = file(client, login)
    breach_registration(app, clock, case["id"])
    deps = app.extensions["gridflow"]
    with deps.uow() as uow:
        order_deadline = uow.session.scalar(select(Deadline).where(Deadline.case_id == case["id"],
                                                                   Deadline.kind == "supervision"))
    clock.set(order_deadline.due_at + timedelta(seconds=1))
    assert firing.fire_deadline(deps, order_deadline.id) == "fired"
    kinds = [e["kind"] for e in client.get(f"/api/v1/cases/{case['id']}/timeline", headers=login("supervisor")).json]
    assert "supervision_overdue" in kinds


def test_a_supervisor_issues_an_order_by_hand_which_is_answered_like_any_other(client, login, app, clock):
    clock.set(MONDAY_9AM)
    case = file(client, login)
    path = f"/api/v1/cases/{case['id']}/supervision-orders"
    supervisor = login("supervisor")
    issued = client.post(path, headers=supervisor, json={"reason": "群众反映强烈，限期立案"})
    assert issued.status_code == 201, issued.json
    order = issued.json
    assert (order["status"], order["grid_code"], order["reason"]) == ("open", "350583106", "群众反映强烈，限期立案")
    assert order["due_at"] == "2026-12-01T17:30:00+08:00"  # one working day
    with app.extensions["gridflow"].uow() as uow:
        deadline = uow.session.scalar(select(Deadline).where(Deadline.key == f"supervision:{order['id']}"))
    assert deadline.kind == "supervision" and deadline.fired_at is None
    [event] = [e for e in client.get(f"/api/v1/cases/{case['id']}/timeline", headers=supervisor).json
               if e["kind"] == "supervision_ordered"]
    assert (event["actor"], event["payload"]["order_id"]) == ("supervisor", order["id"])
    assert [o["id"] for o in client.get("/api/v1/supervision-orders", headers=supervisor).json] == [order["id"]]
    answered = client.post(f"/api/v1/supervision-orders/{order['id']}/answer", headers=supervisor,
                           json={"answer": "已督促网格长当日立案"})
    assert answered.json["status"] == "answered"


def test_only_a_supervisor_who_sees_an_open_case_issues_an_order(client, login):
    case = file(client, login)
    path = f"/api/v1/cases/{case['id']}/supervision-orders"
    assert client.post(path, headers=login("leader"), json={"reason": "x"}).status_code == 403
    assert client.post(path, headers=login("shuitou_supervisor"), json={"reason": "x"}).status_code == 404
    assert client.post(path, headers=login("supervisor"), json={"reason": "  "}).status_code == 422
    client.post(f"/api/v1/cases/{case['id']}/withdraw", headers=login("worker"), json={"reason": "已协商"})
    assert client.post(path, headers=login("supervisor"), json={"reason": "x"}).status_code == 409


def test_an_order_out_of_scope_is_not_found_in_the_same_words_as_a_missing_one(client, login, app, clock):
    in_english(client)  # these words are the detailed English ones
    clock.set(MONDAY_9AM)
    case = file(client, login)
    breach_registration(app, clock, case["id"])
    [order] = client.get("/api/v1/supervision-orders", headers=login("supervisor")).json
    stranger = login("shuitou_supervisor")
    hidden = client.post(f"/api/v1/supervision-orders/{order['id']}/answer", headers=stranger, json={"answer": "x"})
    missing = client.post("/api/v1/supervision-orders/999999/answer", headers=stranger, json={"answer": "x"})
    assert (hidden.status_code, missing.status_code) == (404, 404)
    assert hidden.json["message"] == f"supervision order {order['id']} not found"
    assert missing.json["message"] == "supervision order 999999 not found"
    assert f"case {case['id']}" not in hidden.get_data(as_text=True)
