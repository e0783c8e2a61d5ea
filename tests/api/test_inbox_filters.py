"""The task inbox through the API: filters, overdue first, cursor pages, and what other towns never see.

The fake clock starts on Monday 2026-11-30 09:00 in Shanghai; registering a dispute is due within 2 working
hours when severity is high, 4 when medium, 8 (one working day) when low.
"""
import base64
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from engine.store.model import Task
from tests.api_client import at_town_judicial_office, file, task_id, walk

SHANGHAI_TUESDAY_0930 = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
OTHER_TOWN = ["shuitou_worker", "shuitou_leader", "shuitou_judicial", "shuitou_supervisor"]


def inbox(client, headers, **params) -> list[str]:
    response = client.get("/api/v1/tasks", query_string={"limit": 200, **params}, headers=headers)
    assert response.status_code == 200, response.json
    return [t["id"] for t in response.json]


def without_limit(app, task: str) -> None:
    """Take the due time off a task, as a step without a time limit has none."""
    deps = app.extensions["gridflow"]
    with deps.uow() as uow:
        uow.session.execute(update(Task).where(Task.id == task).values(due_at=None))
        uow.commit()


def test_the_inbox_comes_overdue_first_and_tasks_without_a_time_limit_last(client, login, app, clock):
    low = task_id(file(client, login, severity="low"))  # due Tuesday 10:00
    clock.set(SHANGHAI_TUESDAY_0930)
    medium = task_id(file(client, login, severity="medium"))  # due Tuesday 15:30
    clock.advance(minutes=1)
    high = task_id(file(client, login, severity="high"))  # due Tuesday 11:31
    clock.advance(minutes=1)
    unlimited = task_id(file(client, login, severity="high"))
    without_limit(app, unlimited)
    leader = login("leader")
    assert inbox(client, leader) == [low, high, medium, unlimited]
    assert inbox(client, leader, sort="created") == [low, medium, high, unlimited]
    assert inbox(client, leader, sort="-created") == [unlimited, high, medium, low]
    assert inbox(client, leader, breached="true") == []
    clock.advance(hours=1)  # Tuesday 10:32: the low-severity registration is overdue
    leader = login("leader")  # a fresh token: the clock moved past the first one's hour
    assert inbox(client, leader, breached="true") == [low]
    assert inbox(client, leader, breached="false") == [high, medium, unlimited]
    clock.advance(hours=6)  # Tuesday 16:32: all three limits have passed
    leader = login("leader")
    assert inbox(client, leader, breached="true") == [low, high, medium]


def test_due_before_keeps_the_tasks_due_strictly_earlier(client, login):
    high = task_id(file(client, login, severity="high"))  # due 11:00
    medium = task_id(file(client, login, severity="medium"))  # due 15:00
    leader = login("leader")
    assert inbox(client, leader, due_before="2026-11-30T15:00:00+08:00") == [high]
    assert inbox(client, leader, due_before="2026-11-30T07:00:01Z") == [high, medium]
    assert inbox(client, leader, due_before="2026-11-30T10:59:59+08:00") == []


@pytest.fixture
def spread(client, login):
    """Five open tasks across types, severities, grids and a department, by name."""
    cases = {
        "dispute_high_06_01": file(client, login, severity="high"),
        "work_safety_low_06_02": file(client, login, "leader", type="work_safety", severity="low",
                                      grid_code="350583106201-06-02"),
        "dispute_medium_07_01": file(client, login, "village", grid_code="350583106201-07-01"),
        "public_health_medium_06_01": file(client, login, type="public_health"),
    }
    tasks = {name: task_id(case) for name, case in cases.items()}
    tasks["judicial_office"] = task_id(at_town_judicial_office(client, login, file(client, login, title="宅基地纠纷")))
    return tasks


FILTERS = [
    ({"type": "work_safety"}, {"work_safety_low_06_02"}),
    ({"type": "public_health"}, {"public_health_medium_06_01"}),
    ({"severity": "high"}, {"dispute_high_06_01"}),
    ({"severity": "low"}, {"work_safety_low_06_02"}),
    ({"grid": "350583106201-06"}, {"dispute_high_06_01", "work_safety_low_06_02", "public_health_medium_06_01",
                                   "judicial_office"}),
    ({"grid": "350583106201-06-02"}, {"work_safety_low_06_02"}),
    ({"grid": "350583106201-07"}, {"dispute_medium_07_01"}),
    ({"grid": "350583103"}, set()),
    ({"department": "350583106-judicial"}, {"judicial_office"}),
    ({"department": "350583106-police"}, set()),
    ({"type": "dispute", "severity": "medium"}, {"dispute_medium_07_01", "judicial_office"}),
    ({"type": "dispute", "grid": "350583106201-06-01"}, {"dispute_high_06_01", "judicial_office"}),
    ({}, {"dispute_high_06_01", "work_safety_low_06_02", "dispute_medium_07_01", "public_health_medium_06_01",
          "judicial_office"}),
]


@pytest.mark.parametrize(("params", "expected"), FILTERS)
def test_each_filter_narrows_the_supervisors_view_of_tasks(client, login, spread, params, expected):
    found = set(inbox(client, login("supervisor"), scope="visible", **params))
    assert found == {spread[name] for name in expected}


def test_the_liaison_finds_the_departments_unclaimed_tasks(client, login, spread):
    judicial = login("judicial")
    assert inbox(client, judicial, scope="offered") == [spread["judicial_office"]]
    assert inbox(client, judicial, scope="offered", type="work_safety") == []
    assert client.post(f"/api/v1/tasks/{spread['judicial_office']}/claim", headers=judicial).status_code == 200
    assert inbox(client, judicial, scope="offered") == []
    assert inbox(client, judicial, scope="mine", department="350583106-judicial") == [spread["judicial_office"]]


def test_status_still_narrows_with_the_other_filters(client, login, spread):
    leader = login("leader")
    client.post(f"/api/v1/tasks/{spread['dispute_high_06_01']}/claim", headers=leader)
    assert inbox(client, leader, status="claimed") == [spread["dispute_high_06_01"]]
    assert inbox(client, leader, status="claimed", severity="low") == []
    assert inbox(client, leader, status="open", grid="350583106201-06-02") == [spread["work_safety_low_06_02"]]


@pytest.mark.parametrize("sort", ["due", "created", "-created"])
def test_pages_walk_every_task_once_when_many_share_a_due_time(client, login, app, clock, sort):
    for _ in range(7):  # seven registrations due at the same minute, filed at the same instant
        file(client, login, severity="medium")
    clock.advance(minutes=5)
    for severity in ("high", "low", "high"):
        file(client, login, severity=severity)
    without_limit(app, task_id(file(client, login)))
    leader = login("leader")
    everything = inbox(client, leader, sort=sort)
    assert len(everything) == 11
    for limit in (1, 2, 3, 10, 11):
        assert walk(client, leader, "/api/v1/tasks", sort=sort, limit=limit) == everything


def test_a_page_keeps_its_filters_in_the_next_link(client, login):
    for severity in ("high", "high", "high", "low"):
        file(client, login, severity=severity)
    leader = login("leader")
    first = client.get("/api/v1/tasks?severity=high&limit=2", headers=leader)
    assert "severity=high" in first.headers["Link"]
    assert len(walk(client, leader, "/api/v1/tasks", severity="high", limit=2)) == 3


def _cursor(document) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode()


TAMPERED = [
    "not-a-cursor",
    "!!!!",
    "e30",  # {}
    _cursor(["tasks:due"]),
    _cursor({"sort": "tasks:due", "key": [None, "2026-11-30T01:00:00+00:00"]}),
    _cursor({"sort": "tasks:due", "key": ["soon", "2026-11-30T01:00:00+00:00", "x"]}),
    _cursor({"sort": "tasks:due", "key": ["2026-11-30T01:00:00", "2026-11-30T01:00:00+00:00", "x"]}),
    _cursor({"sort": "tasks:due", "key": [None, None, "x"]}),
    _cursor({"sort": "tasks:due", "key": [None, "2026-11-30T01:00:00+00:00", "a\u0000b"]}),
    _cursor({"sort": "tasks:due", "key": [None, "2026-11-30T01:00:00+00:00", "\ud800"]}),
    _cursor({"sort": "tasks:due", "key": [None, "2026-11-30T01:00:00+00:00", 12]}),
    _cursor({"sort": "tasks:due", "key": [None, "2026-11-30T01:00:00+00:00", "x" * 37]}),
    _cursor({"sort": "tasks:created", "key": ["2026-11-30T01:00:00+00:00", "x"]}),  # made for another order
    _cursor({"sort": "cases:-created", "key": ["2026-11-30T01:00:00+00:00", 1]}),  # made for the case list
    _cursor({"sort": "tasks:due", "key": [None, "9999-12-31T23:59:59-23:59", "x"]}),
    "W" * 1000,
]


@pytest.mark.parametrize("cursor", TAMPERED)
def test_a_tampered_cursor_answers_422_naming_the_cursor(client, login, cursor):
    file(client, login)
    response = client.get("/api/v1/tasks", query_string={"cursor": cursor}, headers=login("leader"))
    assert response.status_code == 422, response.json
    assert set(response.json) == {"code", "message", "errors"} and "cursor" in response.json["errors"]


def test_a_truncated_cursor_answers_422(client, login):
    for _ in range(3):
        file(client, login)
    cursor = client.get("/api/v1/tasks?limit=1", headers=login("leader")).headers["X-Next-Cursor"]
    response = client.get("/api/v1/tasks", query_string={"cursor": cursor[:-7]}, headers=login("leader"))
    assert response.status_code == 422 and "cursor" in response.json["errors"]


UNKNOWN = [
    ({"grid": "350583999"}, "grid"),
    ({"department": "350583106-nothing"}, "department"),
    ({"type": "parking"}, "type"),
    ({"severity": "urgent"}, "severity"),
    ({"due_before": "tomorrow"}, "due_before"),
    ({"due_before": "2026-12-01T09:00:00"}, "due_before"),  # no offset: which 09:00?
    ({"due_before": "0001-01-01T00:00:00+08:00"}, "due_before"),  # before year 1 in UTC
    ({"breached": "maybe"}, "breached"),
    ({"sort": "severity"}, "sort"),
    ({"limit": 201}, "limit"),
    ({"limit": 0}, "limit"),
    ({"grid": "a\x00b"}, "grid"),
]


@pytest.mark.parametrize(("params", "field"), UNKNOWN)
def test_an_unknown_filter_value_answers_422_naming_the_field(client, login, params, field):
    response = client.get("/api/v1/tasks", query_string=params, headers=login("supervisor"))
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]


@pytest.mark.parametrize("username", OTHER_TOWN)
def test_another_town_sees_none_of_luncangs_tasks_however_it_filters(client, login, spread, username):
    headers = login(username)
    for params in ({}, {"grid": "350583106"}, {"department": "350583106-judicial"}, {"type": "dispute"},
                   {"breached": "false"}, {"sort": "-created"}):
        for scope in ("inbox", "mine", "offered", "visible"):
            assert inbox(client, headers, scope=scope, **params) == []


def test_the_openapi_document_names_the_paging_headers(client):
    document = client.get("/api/v1/openapi.json").json
    for path in ("/api/v1/tasks", "/api/v1/cases"):
        headers = document["paths"][path]["get"]["responses"]["200"]["headers"]
        assert set(headers) == {"X-Next-Cursor", "Link"}
    names = {p["name"] for p in document["paths"]["/api/v1/tasks"]["get"]["parameters"]}
    assert {"type", "status", "grid", "department", "severity", "due_before", "breached", "sort", "cursor",
            "limit", "scope"} <= names
