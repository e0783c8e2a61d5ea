"""The supervisor's desk in Chromium over the whole Nan'an city: the city supervisor drills the grid map from the
city down to a unit grid, every count equal to the API's search; a town supervisor issues a 督办 that the grid
leader holding the case sees, and that the city supervisor sees overdue once its answer time has passed."""
import json
from datetime import datetime, timedelta

from playwright.sync_api import expect
from shapely.geometry import shape
from sqlalchemy import select

from engine.cases import services
from engine.deadlines import firing
from engine.imports import demo
from engine.store.model import Deadline, Grid
from tests.browser.conftest import DESK, PHONE
from tests.helpers import open_task, user_id

LUNCANG, HUIHUANG, LEVEL2, UNIT = "350583106", "350583106201", "350583106201-06", "350583106201-06-01"
MONDAY_9AM = datetime.fromisoformat("2026-11-30T09:00:00+08:00")
FLAGS = ({"open": "true"}, {"overdue": "true"}, {"breached": "true"}, {})


def point_in(deps, code: str) -> tuple[float, float]:
    with deps.uow() as uow:
        polygon = shape(json.loads(uow.session.scalar(select(Grid.polygon).where(Grid.code == code))))
    point = polygon.representative_point()
    return point.y, point.x


def file_at(deps, username: str, code: str, title: str) -> int:
    lat, lng = point_in(deps, code)
    return services.file_case(deps, user_id(deps, username), services.NewCase(type="dispute", title=title,
                                                                                lat=lat, lng=lng))


def city_with_cases(deps, clock) -> int:
    """Nan'an with cases in three Luncang villages and in Shuitou: one breached, all but one overdue a day later.
    Returns the id of a case whose registration the grid leader has claimed."""
    demo.load_nanan(deps)
    clock.set(MONDAY_9AM)
    first = file_at(deps, "worker", UNIT, "宅基地边界纠纷")
    file_at(deps, "worker", UNIT, "邻里噪音纠纷")
    file_at(deps, "village", "350583106201-06-02", "土地承包纠纷")
    file_at(deps, "village", "350583106201-07-01", "债务纠纷")
    file_at(deps, "admin", "350583106202-01-01", "山林权属纠纷")
    file_at(deps, "shuitou_worker", "350583103201-01-01", "水头的纠纷")
    with deps.uow() as uow:
        breach = uow.session.scalar(select(Deadline).where(Deadline.case_id == first, Deadline.kind == "breach",
                                                            Deadline.name == "register_case"))
    clock.set(breach.due_at)
    assert firing.fire_deadline(deps, breach.id) == "fired"
    clock.advance(days=1)
    held = file_at(deps, "worker", UNIT, "养殖污染纠纷")  # not overdue yet
    services.claim_task(deps, user_id(deps, "leader"), open_task(deps, held).id)
    return held


def api_counts(client, headers, code: str) -> list[int]:
    """open, overdue, breached, all: as GET /api/v1/cases answers for the grid."""
    found = []
    for flags in FLAGS:
        response = client.get("/api/v1/cases", query_string={"grid": code, "limit": 200, **flags}, headers=headers)
        assert response.status_code == 200 and "X-Next-Cursor" not in response.headers
        found.append(len(response.json))
    return found


def table_counts(page) -> dict[str, list[int]]:
    rows = page.locator("tr[data-grid]").evaluate_all(
        "rows => rows.map(r => [r.dataset.grid, [...r.querySelectorAll('td')].map(td => +td.textContent)])")
    return dict(rows)


def test_the_city_supervisor_drills_the_map_from_the_city_to_a_unit_grid(person, deps, clock, client, login,
                                                                         axe_check):
    city_with_cases(deps, clock)
    headers = login("city_supervisor")
    page = person("city_supervisor", DESK)
    page.get_by_role("link", name="一张图").click()
    expect(page.locator("h1")).to_contain_text("南安市")
    for code, name in ((LUNCANG, "仑苍镇"), (HUIHUANG, "辉煌村"), (LEVEL2, "辉煌村第六网格"), (UNIT, "第一单元")):
        expect(page.locator("#gridmap")).to_have_attribute("data-ready", str(page.locator("tr[data-grid]").count()))
        counted = table_counts(page)
        assert counted and code in counted
        for child, numbers in counted.items():
            assert numbers == api_counts(client, headers, child), child
        assert axe_check(page) == [], page.url
        page.locator(f'path[data-grid="{code}"]').click(position={"x": 6, "y": 6})  # the grid's shape on the map
        expect(page.locator("h1")).to_contain_text(name)
    assert table_counts(page) == {}  # a unit grid: its own shape, its cases as points
    expect(page.locator("#gridmap")).to_have_attribute("data-ready", "1")
    listed = page.locator("#grid-cases > li")
    assert listed.count() == api_counts(client, headers, UNIT)[0] == 3
    expect(page.locator("path.leaflet-interactive:not([data-grid])")).to_have_count(3)
    expect(page.locator(".crumbs")).to_contain_text("仑苍镇")
    page.get_by_role("link", name="超时限 (1)").click()
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text("宅基地边界纠纷")
    page.set_viewport_size(PHONE)
    assert axe_check(page) == []


def test_a_town_supervisors_order_reaches_the_leader_and_turns_overdue_for_the_city(person, deps, clock, axe_check):
    held = city_with_cases(deps, clock)
    town = person("supervisor", PHONE)
    town.get_by_role("link", name="案件查询").click()
    town.get_by_label("关键词").fill("养殖")
    town.get_by_role("button", name="查询").click()
    expect(town.locator(".results tbody tr")).to_have_count(1)
    assert axe_check(town) == []
    town.get_by_role("link", name="350583106-").first.click()
    assert f"/cases/{held}" in town.url
    town.goto(f"/supervision/cases/{held}")
    assert axe_check(town) == []
    town.get_by_label("督办要求").fill("请于明日上午前完成立案登记")
    answer_by = (clock.now() + timedelta(hours=3)).astimezone(MONDAY_9AM.tzinfo)
    town.get_by_label("答复期限").fill(answer_by.strftime("%Y-%m-%dT%H:%M"))
    town.get_by_role("button", name="下发督办").click()
    expect(town.locator("main")).to_contain_text("督办单已下发")
    expect(town.locator(".card", has_text="请于明日上午前完成立案登记")).to_contain_text("在办")
    assert axe_check(town) == []

    leader = person("leader", PHONE)
    leader.goto("/inbox")
    expect(leader.locator(".card", has_text="养殖污染纠纷").locator(".supervised-tag")).to_have_text("督办")
    leader.goto("/notices")
    expect(leader.locator("main")).to_contain_text("请于明日上午前完成立案登记")
    assert axe_check(leader) == []

    city = person("city_supervisor", DESK)
    city.get_by_role("link", name="督办").click()
    city.get_by_role("link", name="已超期").click()
    expect(city.locator("main")).not_to_contain_text("请于明日上午前完成立案登记")
    clock.set(answer_by + timedelta(minutes=1))
    city.reload()
    order = city.locator(".card", has_text="请于明日上午前完成立案登记")
    expect(order.locator(".overdue-tag")).to_have_text("已超期")
    assert axe_check(city) == []
