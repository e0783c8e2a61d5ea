"""A dispute walked over HTTP from filing to closed, and every kind of bad request."""
import pytest

from tests.api_client import assert_error

CASE = {"type": "dispute", "title": "邻里噪音纠纷", "description": "楼上夜间装修", "severity": "medium"}
REGISTER_LOW = {"decision": "valid", "risk": "low", "violence": False}


def file(client, headers, body=CASE):
    response = client.post("/api/v1/cases", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def inbox(client, headers, **query):
    response = client.get("/api/v1/tasks", query_string=query, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def complete(client, headers, task_id, data):
    response = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": data}, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_a_dispute_goes_from_filing_to_closed_over_http(client, login):
    worker, leader, village = login("worker"), login("leader"), login("village")
    case = file(client, worker)
    assert case["number"].startswith("350583106-") and case["status"] == "registering"
    [register] = case["tasks"]
    assert (register["name"], register["title"], register["role"]) == ("register_case", "立案登记", "grid_leader")
    assert [f["name"] for f in register["form"]] == ["decision", "reason", "duplicate_of", "risk", "violence"]

    assert [t["id"] for t in inbox(client, leader)] == [register["id"]]
    claimed = client.post(f"/api/v1/tasks/{register['id']}/claim", headers=leader)
    assert claimed.status_code == 200 and claimed.json["assignee"] == "leader"
    assert [t["id"] for t in inbox(client, leader, scope="mine")] == [register["id"]]

    case = complete(client, leader, register["id"],
                    {"decision": "valid", "risk": "medium", "violence": False, "reason": "属实"})
    [grid] = case["tasks"]
    case = complete(client, leader, grid["id"], {"resolved": False, "outcome": "未达成一致"})
    [village_task] = case["tasks"]
    assert village_task["name"] == "mediate_at_village" and case["responsible_level"] == 2
    case = complete(client, village, village_task["id"], {"resolved": True, "outcome": "达成调解协议"})
    [verify] = case["tasks"]
    assert verify["assignee"] == "worker" and verify["status"] == "claimed"
    case = complete(client, worker, verify["id"], {"passed": True, "note": "现场已恢复安宁"})
    [follow_up] = case["tasks"]
    case = complete(client, leader, follow_up["id"], {"satisfied": True, "note": "双方满意"})

    assert (case["status"], case["outcome"], case["tasks"]) == ("closed", "closed", [])
    kinds = [e["kind"] for e in case["timeline"]]
    assert kinds[0] == "filed" and kinds[-1] == "closed" and "responsibility_moved" in kinds
    assert all(e["actor"] for e in case["timeline"])
    assert {e["actor"] for e in case["timeline"] if e["kind"] == "completed"} == {"leader", "village", "worker"}
    assert case["timeline"][0]["at"].endswith("+08:00")

    fetched = client.get(f"/api/v1/cases/{case['id']}", headers=worker)
    assert fetched.status_code == 200 and fetched.json["timeline"] == case["timeline"]


def test_completing_a_task_that_is_no_longer_open_answers_409(client, login):
    leader = login("leader")
    [task] = file(client, login("worker"))["tasks"]
    complete(client, leader, task["id"], REGISTER_LOW)
    again = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": REGISTER_LOW},
                        headers=leader)
    assert_error(again, 409)


def test_a_task_claimed_by_someone_else_answers_409(client, login):
    [task] = file(client, login("worker"))["tasks"]
    assert client.post(f"/api/v1/tasks/{task['id']}/claim", headers=login("leader")).status_code == 200
    assert_error(client.post(f"/api/v1/tasks/{task['id']}/claim", headers=login("village")), 409)


def test_a_role_the_task_does_not_ask_for_answers_403(client, login):
    [task] = file(client, login("worker"))["tasks"]
    assert_error(client.post(f"/api/v1/tasks/{task['id']}/claim", headers=login("supervisor")), 403)


def test_another_towns_user_gets_404_and_an_empty_inbox(client, login):
    case = file(client, login("worker"))
    outsider = login("shuitou_worker")
    assert_error(client.get(f"/api/v1/cases/{case['id']}", headers=outsider), 404)
    assert_error(client.post(f"/api/v1/tasks/{case['tasks'][0]['id']}/claim", headers=outsider), 404)
    assert inbox(client, outsider) == []


@pytest.mark.parametrize("body, field", [
    ({**CASE, "colour": "red"}, "colour"),
    ({**CASE, "title": 42}, "title"),
    ({**CASE, "severity": "apocalyptic"}, "severity"),
    ({k: v for k, v in CASE.items() if k != "title"}, "title"),
    ({**CASE, "location": {"lat": 95, "lng": 118.4}}, "location"),
    ({**CASE, "type": "ufo"}, "type"),
    ({**CASE, "grid_code": "nowhere"}, "grid_code"),
    ({**CASE, "grid_code": "350583103201-01-01"}, "grid_code"),
])
def test_a_bad_filing_names_the_field_and_files_nothing(client, login, body, field):
    worker = login("worker")
    response = client.post("/api/v1/cases", json=body, headers=worker)
    assert response.status_code in (404, 422)
    assert_error(response, response.status_code, field)
    assert inbox(client, login("leader")) == []


@pytest.mark.parametrize("data, content_type", [
    ("{not json", "application/json"),
    ("[]", "application/json"),
    ('"a string"', "application/json"),
])
def test_a_malformed_body_gets_a_json_4xx(client, login, data, content_type):
    response = client.post("/api/v1/cases", data=data, content_type=content_type, headers=login("worker"))
    assert 400 <= response.status_code < 500
    assert_error(response, response.status_code)


def test_bad_form_data_names_each_field(client, login):
    [task] = file(client, login("worker"))["tasks"]
    response = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=login("leader"),
                           json={"data": {"decision": "yes", "risk": "extreme", "colour": 1}})
    assert_error(response, 422)
    assert set(response.json["errors"]) == {"decision", "risk", "colour"}


def test_every_endpoint_but_sign_in_needs_a_valid_token(client):
    for method, path in [("get", "/api/v1/tasks"), ("post", "/api/v1/cases"), ("get", "/api/v1/cases/1"),
                         ("post", "/api/v1/tasks/x/claim")]:
        assert_error(getattr(client, method)(path), 401)
        assert_error(getattr(client, method)(path, headers={"Authorization": "Bearer nope"}), 401)


def test_wrong_password_gets_401_and_unknown_task_404(client, login):
    response = client.post("/api/v1/auth/token", json={"username": "worker", "password": "wrong"})
    assert_error(response, 401)
    assert_error(client.get("/api/v1/tasks/00000000-0000-0000-0000-000000000000", headers=login("worker")), 404)
    assert_error(client.get("/api/v1/cases/999999", headers=login("worker")), 404)


def test_an_oversized_body_gets_413(client, login):
    response = client.post("/api/v1/cases", headers=login("worker"),
                           json={**CASE, "description": "x" * (2 * 1024 * 1024)})
    assert_error(response, 413)


def test_the_openapi_document_lists_the_endpoints_and_the_bearer_scheme(client):
    spec = client.get("/api/v1/openapi.json").json
    assert {"/api/v1/cases", "/api/v1/cases/{case_id}", "/api/v1/tasks", "/api/v1/tasks/{task_id}/claim",
            "/api/v1/tasks/{task_id}/release", "/api/v1/tasks/{task_id}/complete",
            "/api/v1/auth/token"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_the_interactive_docs_are_served_with_their_assets_from_the_app(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and b"/api/v1/docs/assets/swagger-ui-bundle.js" in page.data
    assert b"/api/v1/openapi.json" in page.data
    script = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.data) > 100_000
