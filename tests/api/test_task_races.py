"""Two grid leaders claim, or complete, the same task at the same moment through a real threaded HTTP server:
exactly one gets 200, the other 409 with a message that says what happened, round after round."""
import json
import threading
from functools import partial
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
from werkzeug.serving import make_server

from tests.helpers import race

ROUNDS = 20
DISPUTE = {"type": "dispute", "title": "邻里纠纷", "severity": "low"}
REGISTER = {"decision": "valid", "risk": "low", "violence": False}


@pytest.fixture
def server(app):
    """The app behind werkzeug's threaded server on a free port: each request on its own thread."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.port}/api/v1"
    httpd.shutdown()
    thread.join()


def call(url: str, headers: dict, body=None) -> tuple[int, dict]:
    request = Request(url, data=json.dumps(body if body is not None else {}).encode(), method="POST",
                      headers={**headers, "Content-Type": "application/json", "Accept-Language": "en"})
    try:
        with urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except HTTPError as error:
        with error:
            return error.code, json.load(error)


def registration_task(server, login) -> dict:
    status, case = call(f"{server}/cases", login("worker"), DISPUTE)
    assert status == 201, case
    return case["tasks"][0]


def test_two_leaders_claiming_one_task_at_once_one_wins_and_the_other_hears_409(server, login):
    leader, village = login("leader"), login("village")
    for _ in range(ROUNDS):
        task = registration_task(server, login)
        url = f"{server}/tasks/{task['id']}/claim"
        results = race(partial(call, url, leader), partial(call, url, village))
        assert sorted(status for status, _ in results) == [200, 409], results
        [(_, won)] = [r for r in results if r[0] == 200]
        [(_, lost)] = [r for r in results if r[0] == 409]
        assert lost == {"code": 409, "message": "the task has already been claimed by someone else", "errors": {}}
        assert won["assignee"] == ("leader" if results[0][0] == 200 else "village") and won["status"] == "claimed"


def test_two_leaders_completing_one_task_at_once_advance_the_case_once(server, login, client):
    leader, village = login("leader"), login("village")
    for _ in range(ROUNDS):
        task = registration_task(server, login)
        url = f"{server}/tasks/{task['id']}/complete"
        body = {"data": REGISTER}
        results = race(partial(call, url, leader, body), partial(call, url, village, body))
        assert sorted(status for status, _ in results) == [200, 409], results
        [(_, lost)] = [r for r in results if r[0] == 409]
        assert lost == {"code": 409, "message": "the task is already completed", "errors": {}}
        case = client.get(f"/api/v1/cases/{task['case_id']}", headers=leader).json
        assert [t["name"] for t in case["tasks"]] == ["mediate_at_grid"]
        assert [e["kind"] for e in case["timeline"]].count("completed") == 1
