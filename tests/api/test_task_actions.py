"""Assigning, delegating, commenting, marking a duplicate, what a task offers, and request size limits, over HTTP.

A dispute's registration task is for grid leaders over the level-2 grid: `leader` there and `village` above it;
`supervisor` runs the town. A work-safety case at handling has a task for the town's work-safety office.
"""
import io

import pytest
from flask import Flask
from sqlalchemy import update

from api import context, errors
from engine.imports import demo
from engine.people import auth
from engine.store.model import User
from tests.api_client import assert_error, in_english

DISPUTE = {"type": "dispute", "title": "邻里纠纷", "severity": "low"}
HAZARD = {"type": "work_safety", "title": "消防通道堵塞", "severity": "medium"}
SAFETY = "350583106_work_safety"


def file(client, login, body=DISPUTE, who="worker") -> dict:
    response = client.post("/api/v1/cases", json=body, headers=login(who))
    assert response.status_code == 201, response.json
    return response.json


def post(client, login, who, path, body=None):
    return client.post(f"/api/v1/{path}", json=body, headers=login(who))


def ok(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.json


def events(client, login, case_id, kind):
    timeline = ok(client.get(f"/api/v1/cases/{case_id}/timeline", headers=login("admin")))
    return [e for e in timeline if e["kind"] == kind]


@pytest.fixture
def registration(client, login) -> dict:
    """The open registration task of a freshly filed dispute."""
    return file(client, login)["tasks"][0]


@pytest.fixture
def handling(client, login) -> dict:
    """The work-safety office's open handling task of a registered, dispatched hazard."""
    case = file(client, login, HAZARD)
    case = ok(post(client, login, "leader", f"tasks/{case['tasks'][0]['id']}/complete",
                   {"data": {"decision": "valid"}}))
    case = ok(post(client, login, "supervisor", f"tasks/{case['tasks'][0]['id']}/complete",
                   {"data": {"lead_department": "work_safety", "co_departments": []}}))
    [task] = case["tasks"]
    assert task["name"] == "handle_case"
    return task


# assign

def test_a_supervisor_assigns_an_open_task_to_a_candidate_who_then_holds_it(client, login, registration):
    task = ok(post(client, login, "supervisor", f"tasks/{registration['id']}/assign",
                   {"username": "village", "reason": "村调委会熟悉当事人"}))
    assert (task["assignee"], task["status"], task["actions"]) == ("village", "claimed", ["assign"])
    [event] = events(client, login, registration["case_id"], "assigned")
    assert (event["actor"], event["reason"]) == ("supervisor", "村调委会熟悉当事人")
    assert (event["payload"]["from"], event["payload"]["to"]) == (None, "village")
    assert_error(post(client, login, "leader", f"tasks/{registration['id']}/claim"), 409)
    notices = ok(client.get("/api/v1/notifications", headers=login("village")))
    assert [n["kind"] for n in notices] == ["task_assigned"] and "黄督查员" in notices[0]["message"]


def test_a_claimed_task_is_reassigned_and_the_timeline_names_from_and_to(client, login, registration):
    ok(post(client, login, "leader", f"tasks/{registration['id']}/claim"))
    ok(post(client, login, "supervisor", f"tasks/{registration['id']}/assign", {"username": "village"}))
    [event] = events(client, login, registration["case_id"], "assigned")
    assert (event["payload"]["from"], event["payload"]["to"], event["reason"]) == ("leader", "village", None)
    case = ok(post(client, login, "village", f"tasks/{registration['id']}/complete",
                   {"data": {"decision": "valid", "risk": "low", "violence": False}}))
    assert case["status"] == "mediating"


def test_a_grid_leader_assigns_grid_tasks_in_their_grid_but_not_a_departments(client, login, registration,
                                                                               handling):
    ok(post(client, login, "leader", f"tasks/{registration['id']}/assign", {"username": "village"}))
    assert_error(post(client, login, "leader", f"tasks/{handling['id']}/assign", {"username": SAFETY}), 403)
    task = ok(post(client, login, "supervisor", f"tasks/{handling['id']}/assign", {"username": SAFETY}))
    assert task["assignee"] == SAFETY


@pytest.mark.parametrize("who, status", [("worker", 403), ("judicial", 404), ("shuitou_supervisor", 404)])
def test_assigning_needs_a_supervisor_or_grid_leader_who_sees_the_task(client, login, registration, who, status):
    assert_error(post(client, login, who, f"tasks/{registration['id']}/assign", {"username": "village"}), status)


@pytest.mark.parametrize("username", ["worker", "nobody", "shuitou_leader", "inactive"])
def test_a_task_goes_only_to_an_active_candidate(client, login, app, registration, username):
    if username == "inactive":
        with app.extensions["gridflow"].uow() as uow:
            uow.session.execute(update(User).where(User.username == "village").values(active=False))
            uow.commit()
        username = "village"
    response = post(client, login, "supervisor", f"tasks/{registration['id']}/assign", {"username": username})
    assert_error(response, 422, "username")


def test_assigning_a_task_to_whoever_holds_it_says_so(client, login, registration):
    ok(post(client, login, "leader", f"tasks/{registration['id']}/claim"))
    response = post(client, login, "supervisor", f"tasks/{registration['id']}/assign", {"username": "leader"})
    assert_error(response, 422, "username")


def test_a_finished_task_cannot_be_assigned_or_delegated(client, login, registration):
    ok(post(client, login, "leader", f"tasks/{registration['id']}/complete",
            {"data": {"decision": "invalid", "reason": "非本网格事项"}}))
    assert_error(post(client, login, "supervisor", f"tasks/{registration['id']}/assign", {"username": "village"}), 409)
    assert_error(post(client, login, "leader", f"tasks/{registration['id']}/delegate",
                      {"username": "village", "reason": "x"}), 409)


def test_an_assignment_without_a_username_names_the_field(client, login, registration):
    assert_error(post(client, login, "supervisor", f"tasks/{registration['id']}/assign", {}), 422, "username")


# delegate

def test_the_holder_delegates_with_a_reason_and_the_timeline_says_who_to_whom(client, login, registration):
    ok(post(client, login, "leader", f"tasks/{registration['id']}/claim"))
    task = ok(post(client, login, "leader", f"tasks/{registration['id']}/delegate",
                   {"username": "village", "reason": "当事人是村干部亲属，回避"}))
    assert (task["assignee"], task["status"]) == ("village", "claimed")
    [event] = events(client, login, registration["case_id"], "delegated")
    assert (event["actor"], event["payload"]["from"], event["payload"]["to"], event["reason"]) == (
        "leader", "leader", "village", "当事人是村干部亲属，回避")
    assert [n["kind"] for n in ok(client.get("/api/v1/notifications", headers=login("village")))] == [
        "task_delegated"]


@pytest.mark.parametrize("body, field", [({"username": "village"}, "reason"),
                                         ({"username": "village", "reason": "   "}, "reason"),
                                         ({"username": "worker", "reason": "x"}, "username"),
                                         ({"username": "leader", "reason": "x"}, "username")])
def test_a_delegation_needs_a_reason_and_another_candidate(client, login, registration, body, field):
    ok(post(client, login, "leader", f"tasks/{registration['id']}/claim"))
    assert_error(post(client, login, "leader", f"tasks/{registration['id']}/delegate", body), 422, field)


def test_only_the_holder_delegates_and_an_unclaimed_task_must_be_claimed_first(client, login, registration):
    body = {"username": "village", "reason": "回避"}
    assert_error(post(client, login, "leader", f"tasks/{registration['id']}/delegate", body), 409)
    ok(post(client, login, "leader", f"tasks/{registration['id']}/claim"))
    assert_error(post(client, login, "village", f"tasks/{registration['id']}/delegate", body), 403)
    assert_error(post(client, login, "shuitou_leader", f"tasks/{registration['id']}/delegate", body), 404)


# what a task offers

@pytest.mark.parametrize("who, actions", [
    ("leader", ["claim", "complete", "assign"]), ("village", ["claim", "complete", "assign"]),
    ("supervisor", ["assign"]), ("worker", []), ("admin", ["claim", "complete", "assign"])])
def test_a_task_says_what_its_reader_may_do_with_it(client, login, registration, who, actions):
    task = ok(client.get(f"/api/v1/tasks/{registration['id']}", headers=login(who)))
    assert task["actions"] == actions


def test_the_holder_is_offered_complete_release_and_delegate(client, login, handling):
    task = ok(post(client, login, SAFETY, f"tasks/{handling['id']}/claim"))
    assert task["actions"] == ["complete", "release", "delegate"]
    assert {f["name"]: f["choices"] for f in task["form"]}["action"] == ["feedback", "return", "extend", "suspend"]


# comments

def test_anyone_who_sees_a_case_comments_and_the_comments_are_listed_in_order(client, login, registration):
    case_id = registration["case_id"]
    first = ok(post(client, login, "worker", f"cases/{case_id}/comments", {"text": "  当事人电话已核实  "}), 201)
    ok(post(client, login, "supervisor", f"cases/{case_id}/comments", {"text": "请尽快立案"}), 201)
    assert (first["actor"], first["text"]) == ("worker", "当事人电话已核实") and first["at"].endswith("+08:00")
    listed = ok(client.get(f"/api/v1/cases/{case_id}/comments", headers=login("leader")))
    assert [(c["actor"], c["text"]) for c in listed] == [("worker", "当事人电话已核实"), ("supervisor", "请尽快立案")]
    assert [e["payload"]["text"] for e in events(client, login, case_id, "commented")] == [
        "当事人电话已核实", "请尽快立案"]
    assert ok(client.get(f"/api/v1/cases/{case_id}/timeline/verify", headers=login("supervisor")))["intact"]


@pytest.mark.parametrize("body", [{"text": ""}, {"text": "   "}, {"text": "长" * 2001}, {}, {"text": 7}])
def test_an_empty_or_overlong_comment_names_the_text(client, login, registration, body):
    assert_error(post(client, login, "worker", f"cases/{registration['case_id']}/comments", body), 422, "text")


def test_a_case_out_of_scope_has_no_comments_to_read_or_write(client, login, registration):
    path = f"cases/{registration['case_id']}/comments"
    assert_error(post(client, login, "shuitou_worker", path, {"text": "看看"}), 404)
    assert_error(client.get(f"/api/v1/{path}", headers=login("shuitou_worker")), 404)


# duplicates

def test_a_report_registered_as_a_duplicate_of_a_visible_case_ends_as_duplicate(client, login):
    original, again = file(client, login), file(client, login)
    case = ok(post(client, login, "leader", f"tasks/{again['tasks'][0]['id']}/complete", {"data": {
        "decision": "duplicate", "reason": "同一纠纷重复上报", "duplicate_of": original["number"]}}))
    assert (case["status"], case["outcome"], case["tasks"]) == ("duplicate", "duplicate", [])
    assert case["closed_at"] is not None
    [completed] = [e for e in case["timeline"] if e["kind"] == "completed"]
    assert completed["payload"]["data"]["duplicate_of"] == original["number"]


def test_the_register_form_asks_for_the_original_case_number_when_duplicate(client, login, registration):
    form = {f["name"]: f for f in registration["form"]}
    assert form["decision"]["choices"] == ["valid", "invalid", "duplicate"]
    assert form["duplicate_of"]["kind"] == "case_number"
    assert form["duplicate_of"]["required_when"] == {"field": "decision", "values": ["duplicate"]}


@pytest.mark.parametrize("number", ["missing", "350583103-20261130-0001", "itself", "unknown"])
def test_a_duplicate_must_name_another_case_the_registrar_can_see(client, login, registration, number):
    if number == "350583103-20261130-0001":  # Shuitou's: exists, but not in the leader's grid
        number = file(client, login, who="shuitou_worker")["number"]
    elif number == "itself":
        number = ok(client.get(f"/api/v1/cases/{registration['case_id']}", headers=login("leader")))["number"]
    data = {"decision": "duplicate", "reason": "重复"}
    if number != "missing":
        data["duplicate_of"] = number if number != "unknown" else "350583106-19990101-0001"
    response = post(client, login, "leader", f"tasks/{registration['id']}/complete", {"data": data})
    assert_error(response, 422, "duplicate_of")
    assert ok(client.get(f"/api/v1/tasks/{registration['id']}", headers=login("leader")))["status"] == "open"


# request size limits

def test_a_100_kb_json_filing_is_refused_with_413_in_the_error_format(client, login):
    in_english(client)  # these words are the detailed English ones
    response = client.post("/api/v1/cases", headers=login("worker"),
                           json={**DISPUTE, "description": "x" * 100 * 1024})
    assert_error(response, 413, "description")
    assert response.json["message"] == "the request body is larger than 64 KB, the most this endpoint accepts"


def test_a_100_kb_comment_or_completion_is_refused_with_413(client, login, registration):
    assert_error(post(client, login, "worker", f"cases/{registration['case_id']}/comments",
                      {"text": "x" * 100 * 1024}), 413)
    assert_error(post(client, login, "leader", f"tasks/{registration['id']}/complete",
                      {"data": {"decision": "invalid", "reason": "x" * 100 * 1024}}), 413)


def test_an_import_opts_into_a_larger_body(client, login):
    rows = "".join(f"350583106{900 + i % 99},新村{i},2,350583106\n" for i in range(4000))
    body = ("code,name,level,parent_code\n" + rows).encode()
    assert len(body) > 100 * 1024
    response = client.post("/api/v1/admin/imports/grids?dry_run=true", headers=login("admin"),
                           content_type="multipart/form-data", data={"file": (io.BytesIO(body), "grids.csv")})
    assert response.status_code != 413, response.json


def test_a_blueprint_default_and_a_view_decorator_set_the_limit():
    app = Flask(__name__)
    bulky = context.Blueprint("bulky", __name__, body_limit=2048)
    small = context.Blueprint("small", __name__)

    @bulky.post("/bulky")
    def bulky_view():
        from flask import request
        return {"size": len(request.get_data())}

    @small.post("/small")
    def small_view():
        from flask import request
        return {"size": len(request.get_data())}

    @small.post("/upload")
    @context.body_limit(4096)
    def upload_view():
        from flask import request
        return {"size": len(request.get_data())}

    app.register_blueprint(bulky)
    app.register_blueprint(small)
    errors.register(app)
    client = app.test_client()
    assert client.post("/bulky", data=b"x" * 2000).status_code == 200
    assert_error(client.post("/bulky", data=b"x" * 3000), 413)
    assert client.post("/small", data=b"x" * 60_000).status_code == 200
    assert_error(client.post("/small", data=b"x" * 70_000), 413)
    assert client.post("/upload", data=b"x" * 4000).status_code == 200
    assert_error(client.post("/upload", data=b"x" * 5000), 413)


# clear answers at the edges: each names what was wrong and leaks nothing


def test_someone_out_of_scope_acting_on_a_task_hears_only_that_the_task_is_not_found(client, login, registration):
    in_english(client)  # these words are the detailed English ones
    for action in ("claim", "release", "complete"):
        response = client.post(f"/api/v1/tasks/{registration['id']}/{action}", json={"data": {}},
                               headers=login("shuitou_worker"))
        assert_error(response, 404)
        assert response.json["message"] == f"task {registration['id']} not found"


def test_more_time_is_at_least_one_working_day(client, login, handling):
    ok(post(client, login, SAFETY, f"tasks/{handling['id']}/claim"))
    response = post(client, login, SAFETY, f"tasks/{handling['id']}/complete",
                    {"data": {"action": "extend", "reason": "等待检测", "extra_days": 0}})
    assert_error(response, 422, "extra_days")
    form = {f["name"]: f for f in ok(client.get(f"/api/v1/tasks/{handling['id']}", headers=login(SAFETY)))["form"]}
    assert (form["extra_days"]["min_value"], form["extra_days"]["max_value"]) == (1, 365)


def test_a_required_answer_of_only_spaces_is_missing(client, login, handling):
    ok(post(client, login, SAFETY, f"tasks/{handling['id']}/claim"))
    response = post(client, login, SAFETY, f"tasks/{handling['id']}/complete",
                    {"data": {"action": "feedback", "result": "   "}})
    assert_error(response, 422, "result")
    assert ok(client.get(f"/api/v1/tasks/{handling['id']}", headers=login(SAFETY)))["status"] == "claimed"


def test_escalating_a_case_the_diagram_does_not_let_climb_yet_says_its_stage(client, login, registration):
    in_english(client)  # these words are the detailed English ones
    response = post(client, login, "supervisor", f"cases/{registration['case_id']}/escalate", {"reason": "太慢"})
    assert_error(response, 409)
    assert response.json["message"] == "the case cannot be escalated while it is registering"


def test_a_body_sent_without_a_json_content_type_is_refused_with_the_reason(client, login):
    in_english(client)  # these words are the detailed English ones
    response = client.post("/api/v1/cases", data='{"type": "dispute", "title": "噪音"}', headers={
        **login("worker"), "Content-Type": "application/x-www-form-urlencoded"})
    assert_error(response, 400)
    assert "Content-Type: application/json" in response.json["message"]


def test_releasing_a_task_nobody_claimed_is_a_conflict(client, login, registration):
    assert_error(post(client, login, "leader", f"tasks/{registration['id']}/release"), 409)


def test_case_search_refuses_a_status_that_does_not_exist(client, login):
    assert_error(client.get("/api/v1/cases?status=bogus", headers=login("leader")), 422, "status")
    assert client.get("/api/v1/cases?status=registering", headers=login("leader")).status_code == 200


def test_an_unknown_parent_grid_names_the_parent(client, login):
    assert_error(client.get("/api/v1/grids?parent=nope", headers=login("worker")), 404, "parent")


def test_signing_out_of_the_browser_revokes_the_session_even_without_the_csrf_token(client):
    signed_in = client.post("/api/v1/auth/session", json={"username": "worker", "password": demo.DEMO_PASSWORD})
    assert client.get("/api/v1/auth/me").status_code == 200
    cookie = client.get_cookie("session")
    assert client.delete("/api/v1/auth/session").status_code == 204
    client.set_cookie(cookie.key, cookie.value)  # the old cookie, kept by whoever had it
    assert client.get("/api/v1/auth/me").status_code == 401
    tokens = auth.list_tokens(client.application.extensions["gridflow"], signed_in.json["user"]["id"])
    assert not [t for t in tokens if t["name"] == "browser session"]


def test_the_docs_page_asks_no_outside_validator(client):
    assert b"validatorUrl: null" in client.get("/api/v1/docs/swagger-init.js").data


def test_a_misspelt_filter_is_refused_rather_than_ignored(client, login):
    assert_error(client.get("/api/v1/tasks?stauts=open", headers=login("leader")), 422, "stauts")
    assert_error(client.get("/api/v1/cases?grdi=350583106", headers=login("leader")), 422, "grdi")
