"""Case search through the API: by number, text, grid, reporter, type, status and period, newest first, by page,
and only among the cases the searcher may read."""
import pytest

from tests.api_client import at_town_judicial_office, file, walk

OTHER_TOWN = ["shuitou_worker", "shuitou_leader", "shuitou_judicial", "shuitou_supervisor"]


def search(client, headers, **params) -> list[str]:
    """The numbers of the cases found, in the order given."""
    response = client.get("/api/v1/cases", query_string={"limit": 200, **params}, headers=headers)
    assert response.status_code == 200, response.json
    return [c["number"] for c in response.json]


@pytest.fixture
def cases(client, login, clock):
    """Six Luncang cases filed a day apart (Monday 30 November to Saturday 5 December), by name."""
    filed = {}
    for name, username, fields in [
        ("noise", "worker", {"title": "邻里噪音纠纷", "description": "楼上夜间装修 Noise after 22:00"}),
        ("farmland", "leader", {"type": "illegal_construction", "title": "占用耕地建房", "severity": "high",
                                "grid_code": "350583106201-06-02", "subcategory": "farmland"}),
        ("percent", "village", {"title": "租金涨了50%_纠纷", "grid_code": "350583106201-07-01", "severity": "low"}),
        ("fever", "worker", {"type": "public_health", "title": "多人发热", "description": "疑似聚集性 fever"}),
        ("boundary", "worker", {"title": "宅基地边界纠纷", "description": "两户争执围墙"}),
        ("withdrawn", "worker", {"title": "已撤回的噪音投诉"}),
    ]:
        filed[name] = file(client, login, username, **fields)
        clock.advance(days=1)
    return filed


def numbers(cases: dict, *names: str) -> list[str]:
    return [cases[name]["number"] for name in names]


def test_the_newest_case_comes_first_with_a_compact_summary(client, login, cases):
    found = client.get("/api/v1/cases", headers=login("supervisor")).json
    assert [c["number"] for c in found] == numbers(cases, "withdrawn", "boundary", "fever", "percent", "farmland",
                                                   "noise")
    summary = found[-1]
    assert summary == {
        "id": cases["noise"]["id"], "number": cases["noise"]["number"], "type": "dispute", "title": "邻里噪音纠纷",
        "severity": "medium", "status": "registering", "outcome": None, "grid_code": "350583106201-06-01",
        "grid_name": "辉煌村第六网格第一单元", "responsible_grid_code": "350583106201-06", "responsible_level": 3,
        "reporter": "worker", "created_at": "2026-11-30T09:00:00+08:00", "closed_at": None,
        "next_due_at": "2026-11-30T15:00:00+08:00"}
    assert search(client, login("supervisor"), sort="created")[0] == cases["noise"]["number"]


def test_a_number_finds_its_case_and_a_beginning_finds_the_days_cases(client, login, cases):
    supervisor = login("supervisor")
    assert search(client, supervisor, number=cases["fever"]["number"]) == numbers(cases, "fever")
    monday = cases["noise"]["number"].rsplit("-", 1)[0]  # 350583106-20261130
    assert search(client, supervisor, number=monday) == numbers(cases, "noise")
    assert search(client, supervisor, number="350583106-202612") == numbers(
        cases, "withdrawn", "boundary", "fever", "percent", "farmland")
    assert search(client, supervisor, number="350583103-") == []


def test_text_is_found_in_titles_and_descriptions_in_any_letter_case(client, login, cases):
    supervisor = login("supervisor")
    assert search(client, supervisor, q="噪音") == numbers(cases, "withdrawn", "noise")
    assert search(client, supervisor, q="围墙") == numbers(cases, "boundary")
    assert search(client, supervisor, q="noise") == numbers(cases, "noise")
    assert search(client, supervisor, q="FEVER") == numbers(cases, "fever")
    assert search(client, supervisor, q="纠纷") == numbers(cases, "boundary", "percent", "noise")
    assert search(client, supervisor, q="噪音纠纷") == numbers(cases, "noise")
    assert search(client, supervisor, q="拆迁") == []


def test_percent_and_underscore_are_plain_letters_in_a_text_search(client, login, cases):
    supervisor = login("supervisor")
    assert search(client, supervisor, q="%") == numbers(cases, "percent")
    assert search(client, supervisor, q="50%_") == numbers(cases, "percent")
    assert search(client, supervisor, q="_") == numbers(cases, "percent")
    assert search(client, supervisor, q="噪%纠") == []


def test_a_grid_finds_the_cases_reported_in_its_subtree(client, login, cases):
    supervisor = login("supervisor")
    assert search(client, supervisor, grid="350583106201-06") == numbers(
        cases, "withdrawn", "boundary", "fever", "farmland", "noise")
    assert search(client, supervisor, grid="350583106201-06-02") == numbers(cases, "farmland")
    assert search(client, supervisor, grid="350583106201-07") == numbers(cases, "percent")
    assert search(client, supervisor, grid="350583103") == []


def test_reporter_type_severity_and_status_narrow_the_search(client, login, cases):
    supervisor = login("supervisor")
    assert search(client, supervisor, reporter="leader") == numbers(cases, "farmland")
    assert search(client, supervisor, reporter="worker", type="public_health") == numbers(cases, "fever")
    assert search(client, supervisor, reporter="supervisor") == []
    assert search(client, supervisor, type="illegal_construction") == numbers(cases, "farmland")
    assert search(client, supervisor, severity="low") == numbers(cases, "percent")
    assert search(client, supervisor, severity="high", type="dispute") == []
    assert search(client, supervisor, status="registering", grid="350583106201-07") == numbers(cases, "percent")
    assert search(client, supervisor, status="closed") == []


def test_a_period_keeps_the_cases_filed_from_its_start_until_before_its_end(client, login, cases):
    supervisor = login("supervisor")
    assert search(client, supervisor, filed_from="2026-12-01T00:00:00+08:00",
                  filed_to="2026-12-03T00:00:00+08:00") == numbers(cases, "percent", "farmland")
    assert search(client, supervisor, filed_from="2026-12-02T09:00:00+08:00",
                  filed_to="2026-12-03T09:00:00+08:00") == numbers(cases, "percent")
    assert search(client, supervisor, filed_to="2026-11-30T01:00:00Z") == []
    assert search(client, supervisor, filed_from="2026-12-05T00:00:00+08:00") == numbers(cases, "withdrawn")


def test_open_and_closed_cases_are_told_apart(client, login, cases):
    worker = login("worker")
    withdrawn = client.post(f"/api/v1/cases/{cases['withdrawn']['id']}/withdraw", headers=worker,
                            json={"reason": "已自行解决"})
    assert withdrawn.status_code == 200, withdrawn.json
    supervisor = login("supervisor")
    [closed] = client.get("/api/v1/cases?open=false", headers=supervisor).json
    assert closed["number"] == cases["withdrawn"]["number"] and closed["status"] == "withdrawn"
    assert closed["closed_at"] is not None and closed["next_due_at"] is None
    assert search(client, supervisor, open="true") == numbers(cases, "boundary", "fever", "percent", "farmland",
                                                              "noise")
    assert search(client, supervisor, status="withdrawn") == numbers(cases, "withdrawn")


SEES = {
    "worker": {"noise", "fever", "boundary", "withdrawn"},  # their unit grid, where they filed
    "leader": {"noise", "farmland", "fever", "boundary", "withdrawn"},  # level-2 grid 06
    "village": {"noise", "farmland", "percent", "fever", "boundary", "withdrawn"},
    "supervisor": {"noise", "farmland", "percent", "fever", "boundary", "withdrawn"},
    "city_supervisor": {"noise", "farmland", "percent", "fever", "boundary", "withdrawn"},
    "admin": {"noise", "farmland", "percent", "fever", "boundary", "withdrawn"},
    "judicial": set(),  # no task of theirs yet
    **{username: set() for username in OTHER_TOWN},
}


@pytest.mark.parametrize("username", sorted(SEES))
def test_a_search_finds_only_the_cases_its_user_may_read(client, login, cases, username):
    headers = login(username)
    assert set(search(client, headers)) == set(numbers(cases, *SEES[username]))
    for number in search(client, headers):
        case_id = next(c["id"] for c in cases.values() if c["number"] == number)
        assert client.get(f"/api/v1/cases/{case_id}", headers=headers).status_code == 200


@pytest.mark.parametrize("username", OTHER_TOWN)
def test_another_town_finds_nothing_of_luncang_by_number_text_or_grid(client, login, cases, username):
    headers = login(username)
    for params in ({"number": cases["noise"]["number"]}, {"number": "350583106"}, {"q": "噪音"},
                   {"grid": "350583106"}, {"reporter": "worker"}, {"open": "true"}):
        assert search(client, headers, **params) == []


def test_the_liaison_finds_the_cases_behind_the_departments_tasks(client, login, cases):
    at_town_judicial_office(client, login, cases["boundary"])
    assert search(client, login("judicial")) == numbers(cases, "boundary")
    assert search(client, login("shuitou_judicial")) == []


@pytest.mark.parametrize("sort", ["-created", "created"])
def test_pages_walk_every_case_once_when_many_were_filed_at_one_instant(client, login, cases, sort):
    for _ in range(5):
        file(client, login, title="同一时刻上报")
    admin = login("admin")
    everything = [c["id"] for c in client.get("/api/v1/cases", query_string={"sort": sort}, headers=admin).json]
    assert len(everything) == 11
    for limit in (1, 2, 4, 11):
        assert walk(client, admin, "/api/v1/cases", sort=sort, limit=limit) == everything
    assert walk(client, admin, "/api/v1/cases", q="纠纷", limit=1) == [
        cases[name]["id"] for name in ("boundary", "percent", "noise")]


def test_a_cursor_from_the_task_list_or_another_order_answers_422(client, login, cases):
    admin = login("admin")
    task_cursor = client.get("/api/v1/tasks?limit=1", headers=admin).headers["X-Next-Cursor"]
    newest_cursor = client.get("/api/v1/cases?limit=1", headers=admin).headers["X-Next-Cursor"]
    for params in ({"cursor": task_cursor}, {"cursor": newest_cursor, "sort": "created"}, {"cursor": "x"}):
        response = client.get("/api/v1/cases", query_string=params, headers=admin)
        assert response.status_code == 422 and "cursor" in response.json["errors"], response.json


UNKNOWN = [
    ({"grid": "350583999"}, "grid"),
    ({"reporter": "nobody"}, "reporter"),
    ({"type": "parking"}, "type"),
    ({"severity": "urgent"}, "severity"),
    ({"filed_from": "2026-12-01"}, "filed_from"),
    ({"filed_to": "2026-12-01T00:00:00"}, "filed_to"),
    ({"open": "perhaps"}, "open"),
    ({"sort": "due"}, "sort"),
    ({"q": "a\x00b"}, "q"),
    ({"q": "x" * 201}, "q"),
    ({"limit": 500}, "limit"),
]


@pytest.mark.parametrize(("params", "field"), UNKNOWN)
def test_an_unknown_search_value_answers_422_naming_the_field(client, login, params, field):
    response = client.get("/api/v1/cases", query_string=params, headers=login("supervisor"))
    assert response.status_code == 422, response.json
    assert set(response.json) == {"code", "message", "errors"} and field in response.json["errors"]


def test_a_time_past_the_end_of_the_calendar_in_utc_answers_422(client, login):
    response = client.get("/api/v1/cases", query_string={"filed_to": "9999-12-31T23:59:59-12:00"},
                          headers=login("supervisor"))
    assert response.status_code == 422 and "filed_to" in response.json["errors"]
