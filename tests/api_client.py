"""Helpers for API tests: file a case, bring a dispute to the town judicial office, walk a list page by page."""


def file(client, login, username="worker", **fields) -> dict:
    """File a case as `username` (a medium dispute unless `fields` say otherwise); the 201 answer."""
    body = {"type": "dispute", "title": "邻里纠纷", "severity": "medium", **fields}
    response = client.post("/api/v1/cases", json=body, headers=login(username))
    assert response.status_code == 201, response.json
    return response.json


def task_id(case: dict) -> str:
    """The id of a case's one open task."""
    [task] = case["tasks"]
    return task["id"]


def at_town_judicial_office(client, login, case: dict) -> dict:
    """Register the dispute as high risk and let village mediation fail: the case, now with the town judicial office."""
    client.post(f"/api/v1/tasks/{task_id(case)}/complete", headers=login("leader"),
                json={"data": {"decision": "valid", "risk": "high", "violence": False}})
    village_task = client.get(f"/api/v1/cases/{case['id']}", headers=login("leader")).json["tasks"][0]
    response = client.post(f"/api/v1/tasks/{village_task['id']}/complete", headers=login("village"),
                           json={"data": {"resolved": False, "outcome": "未果"}})
    assert [(t["name"], t["department_code"]) for t in response.json["tasks"]] == [
        ("mediate_at_town", "350583106-judicial")], response.json
    return response.json


def walk(client, headers, url, **params) -> list:
    """Every id over every page, following the Link header and checking it agrees with X-Next-Cursor."""
    seen, response = [], client.get(url, query_string=params, headers=headers)
    while True:
        assert response.status_code == 200, response.json
        seen += [row["id"] for row in response.json]
        cursor = response.headers.get("X-Next-Cursor")
        if cursor is None:
            assert "Link" not in response.headers
            return seen
        link = response.headers["Link"]
        assert link.startswith(f"<{url}?") and link.endswith('>; rel="next"') and f"cursor={cursor}" in link
        response = client.get(link[1:link.index(">")], headers=headers)


def assert_error(response, status, field=None):
    """An error answer in the API's format, naming `field` when given."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.json
    assert set(body) == {"code", "message", "errors"} and body["code"] == status and body["message"]
    if field:
        assert field in body["errors"], body


def in_english(client) -> None:
    """Ask for English answers from now on (Chinese is the default): for tests that read the detailed message."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
