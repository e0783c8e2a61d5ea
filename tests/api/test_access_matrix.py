"""Who may read and act on what: every role, in scope and out of scope, through the API.

Out of scope answers 404 (ids leak nothing); in scope with the wrong role for an action answers 403.
"""
import pytest

from tests.api_client import at_town_judicial_office, file

CASE = {"type": "dispute", "title": "邻里纠纷", "severity": "high"}
IN_TOWN = ["worker", "leader", "village", "judicial", "supervisor", "admin"]
OTHER_TOWN = ["shuitou_worker", "shuitou_leader", "shuitou_judicial", "shuitou_supervisor"]


@pytest.fixture
def case(client, login):
    """A Luncang dispute waiting for registration by the level-2 grid leader."""
    return file(client, login, severity="high")


@pytest.fixture
def town_case(client, login, case):
    """The same dispute after village mediation failed: now with the town judicial office."""
    return at_town_judicial_office(client, login, case)


READ_CASE = {
    "worker": 200, "leader": 200, "village": 200, "judicial": 404, "supervisor": 200, "admin": 200,
    **{u: 404 for u in OTHER_TOWN},
}


@pytest.mark.parametrize("username", IN_TOWN + OTHER_TOWN)
def test_reading_a_case_at_registration(client, login, case, username):
    response = client.get(f"/api/v1/cases/{case['id']}", headers=login(username))
    assert response.status_code == READ_CASE[username]
    task_read = client.get(f"/api/v1/tasks/{case['tasks'][0]['id']}", headers=login(username))
    assert task_read.status_code == READ_CASE[username]
    visible = [t["id"] for t in client.get("/api/v1/tasks?scope=visible", headers=login(username)).json]
    assert (case["tasks"][0]["id"] in visible) == (READ_CASE[username] == 200)
    inbox = [t["id"] for t in client.get("/api/v1/tasks", headers=login(username)).json]
    assert (case["tasks"][0]["id"] in inbox) == (CLAIM_REGISTRATION[username] == 200)


@pytest.mark.parametrize("username", IN_TOWN + OTHER_TOWN)
def test_reading_a_case_at_the_town_judicial_office(client, login, town_case, username):
    expected = {**READ_CASE, "judicial": 200}[username]
    assert client.get(f"/api/v1/cases/{town_case['id']}", headers=login(username)).status_code == expected


CLAIM_REGISTRATION = {
    "worker": 403, "leader": 200, "village": 200, "judicial": 404, "supervisor": 403, "admin": 200,
    **{u: 404 for u in OTHER_TOWN},
}


@pytest.mark.parametrize("username", IN_TOWN + OTHER_TOWN)
def test_claiming_the_registration_task(client, login, case, username):
    response = client.post(f"/api/v1/tasks/{case['tasks'][0]['id']}/claim", headers=login(username))
    assert response.status_code == CLAIM_REGISTRATION[username], response.json


@pytest.mark.parametrize("username", IN_TOWN + OTHER_TOWN)
def test_completing_the_registration_task(client, login, case, username):
    response = client.post(f"/api/v1/tasks/{case['tasks'][0]['id']}/complete", headers=login(username),
                           json={"data": {"decision": "valid", "risk": "low", "violence": False}})
    assert response.status_code == CLAIM_REGISTRATION[username], response.json


COMPLETE_TOWN_MEDIATION = {
    "worker": 403, "leader": 403, "village": 403, "judicial": 200, "supervisor": 403, "admin": 200,
    "shuitou_worker": 404, "shuitou_leader": 404, "shuitou_judicial": 404, "shuitou_supervisor": 404,
}


@pytest.mark.parametrize("username", IN_TOWN + OTHER_TOWN)
def test_completing_the_town_mediation_needs_the_towns_judicial_office(client, login, town_case, username):
    [task] = town_case["tasks"]
    response = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=login(username),
                           json={"data": {"resolved": True, "outcome": "达成协议"}})
    assert response.status_code == COMPLETE_TOWN_MEDIATION[username], response.json


@pytest.mark.parametrize("username", ["worker", "village", "supervisor", "admin"])
def test_only_the_claimant_or_an_admin_releases_a_task(client, login, case, username):
    task_id = case["tasks"][0]["id"]
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=login("leader")).status_code == 200
    response = client.post(f"/api/v1/tasks/{task_id}/release", headers=login(username))
    assert response.status_code == {"worker": 403, "village": 403, "supervisor": 403, "admin": 200}[username]


FILE_IN_LUNCANG = {
    "worker": 201, "leader": 201, "village": 201, "judicial": 403, "supervisor": 403, "admin": 201,
    "shuitou_worker": 422, "shuitou_leader": 422, "shuitou_judicial": 403, "shuitou_supervisor": 403,
}


@pytest.mark.parametrize("username", IN_TOWN + OTHER_TOWN)
def test_filing_a_case_in_a_luncang_unit_grid(client, login, username):
    response = client.post("/api/v1/cases", headers=login(username),
                           json={**CASE, "grid_code": "350583106201-06-01"})
    assert response.status_code == FILE_IN_LUNCANG[username], response.json


@pytest.mark.parametrize("username", IN_TOWN + OTHER_TOWN)
def test_everyone_signed_in_reads_the_grid_tree(client, login, username):
    assert client.get("/api/v1/grids?parent=350583", headers=login(username)).status_code == 200
    assert client.get("/api/v1/grids/350583106", headers=login(username)).status_code == 200
