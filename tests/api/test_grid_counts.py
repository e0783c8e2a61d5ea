"""一张图's counts: each grid's open, overdue and breached cases equal what the case search answers for it."""
from tests.api.test_supervision import MONDAY_9AM, breach_registration
from tests.api_client import assert_error, file, walk

LUNCANG, HUIHUANG = "350583106", "350583106201"


def counted(client, headers, code):
    response = client.get(f"/api/v1/grids/{code}/counts", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def searched(client, headers, code, **flags):
    return len(walk(client, headers, "/api/v1/cases", grid=code, limit=2, **flags))


def some_cases(client, login, app, clock):
    """Four cases in Luncang (one breached, one withdrawn), one in Shuitou; then time moves on a day."""
    clock.set(MONDAY_9AM)
    first = file(client, login)
    file(client, login, username="village", grid_code="350583106201-07-01", title="占道经营")
    withdrawn = file(client, login, username="leader", grid_code="350583106201-06-02")
    client.post(f"/api/v1/cases/{withdrawn['id']}/withdraw", headers=login("leader"), json={"reason": "已协商"})
    breach_registration(app, clock, first["id"])
    file(client, login, username="village", grid_code="350583106201-06")  # at a level-2 grid itself
    file(client, login, username="shuitou_worker")
    clock.advance(days=1)


def test_every_childs_counts_equal_the_searchs_for_the_same_grid_and_filter(client, login, app, clock):
    some_cases(client, login, app, clock)
    for username, top in (("city_supervisor", "350583"), ("supervisor", LUNCANG)):
        headers = login(username)
        for code in (top, LUNCANG, HUIHUANG, "350583106201-06", "350583106201-06-01"):
            found = counted(client, headers, code)
            for place in (found, *found["children"]):
                assert place["total"] == searched(client, headers, place["code"]), (username, place)
                assert place["open"] == searched(client, headers, place["code"], open="true"), (username, place)
                assert place["overdue"] == searched(client, headers, place["code"], overdue="true"), place
                assert place["breached"] == searched(client, headers, place["code"], breached="true"), place
    luncang = counted(client, login("supervisor"), LUNCANG)
    assert (luncang["total"], luncang["open"], luncang["breached"]) == (4, 3, 1)
    assert luncang["overdue"] >= 1 and luncang["ancestors"] == []
    huihuang = counted(client, login("supervisor"), HUIHUANG)
    assert huihuang["ancestors"] == [{"code": LUNCANG, "name": "仑苍镇"}]
    assert [(c["code"], c["total"]) for c in huihuang["children"]] == [("350583106201-06", 3),
                                                                      ("350583106201-07", 1)]
    city = counted(client, login("city_supervisor"), "350583")
    assert {c["code"]: c["total"] for c in city["children"]} == {LUNCANG: 4, "350583103": 1}


def test_the_negative_filters_split_the_cases_in_two(client, login, app, clock):
    some_cases(client, login, app, clock)
    headers = login("supervisor")
    for flag in ("open", "overdue", "breached"):
        assert searched(client, headers, LUNCANG, **{flag: "true"}) + \
            searched(client, headers, LUNCANG, **{flag: "false"}) == 4


def test_a_grid_outside_my_area_is_not_found_and_counts_only_what_i_see(client, login, app, clock):
    some_cases(client, login, app, clock)
    assert_error(client.get("/api/v1/grids/350583103/counts", headers=login("supervisor")), 404)
    assert_error(client.get("/api/v1/grids/350583/counts", headers=login("supervisor")), 404)
    assert_error(client.get("/api/v1/grids/nowhere/counts", headers=login("supervisor")), 404)
    judicial = counted(client, login("judicial"), LUNCANG)  # a liaison sees cases their department worked on
    assert judicial["total"] == searched(client, login("judicial"), LUNCANG) == 0


def test_an_order_with_its_own_answer_time_lists_as_overdue_once_that_time_has_passed(client, login, clock):
    clock.set(MONDAY_9AM)
    case = file(client, login)
    path, supervisor = f"/api/v1/cases/{case['id']}/supervision-orders", login("supervisor")
    assert_error(client.post(path, headers=supervisor, json={"reason": "限期", "due_at": "2026-11-30T08:00:00+08:00"}),
                 422, "due_at")
    assert_error(client.post(path, headers=supervisor, json={"reason": "限期", "due_at": "2027-06-01T08:00:00+08:00"}),
                 422, "due_at")
    issued = client.post(path, headers=supervisor, json={"reason": "限期", "due_at": "2026-11-30T11:00:00+08:00"})
    assert issued.status_code == 201 and issued.json["due_at"] == "2026-11-30T11:00:00+08:00"
    city = login("city_supervisor")
    assert client.get("/api/v1/supervision-orders?status=overdue", headers=city).json == []
    clock.set(MONDAY_9AM.replace(hour=11, minute=1))
    listed = client.get("/api/v1/supervision-orders?status=overdue", headers=login("city_supervisor"))
    assert listed.status_code == 200, listed.json
    assert [o["id"] for o in listed.json] == [
        issued.json["id"]]
    assert client.get("/api/v1/supervision-orders?status=overdue", headers=login("shuitou_supervisor")).json == []
