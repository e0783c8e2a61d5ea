"""The supervisor's desk through the test client: the grid map's counts, case search and its exports, 督办."""
import csv
import io
import re
from datetime import datetime

import openpyxl
import pytest

from tests.api.test_supervision import MONDAY_9AM, breach_registration
from tests.api_client import file, walk
from web import exports

LUNCANG, HUIHUANG = "350583106", "350583106201"


@pytest.fixture
def cases(client, login, app, clock):
    """Three cases in Luncang (one breached), one in Shuitou; a day later."""
    clock.set(MONDAY_9AM)
    first = file(client, login, title="宅基地纠纷")
    file(client, login, username="village", grid_code="350583106201-07-01", title="占道经营")
    file(client, login, username="village", grid_code="350583106201-06", title="噪音扰民")
    file(client, login, username="shuitou_worker", title="水头的纠纷")
    breach_registration(app, clock, first["id"])
    clock.advance(days=1)
    return first


def cells(page: str, row_code: str) -> list[int]:
    """The counts in the table row of one grid: open, overdue, breached, all."""
    row = re.search(rf'data-grid="{re.escape(row_code)}">(.*?)</tr>', page, re.S).group(1)
    return [int(n) for n in re.findall(r">(\d+)</a></td>", row)]


def test_the_maps_table_gives_each_grid_the_counts_the_api_gives(browser_as, client, login, cases):
    desk = browser_as("city_supervisor")
    page = desk.get("/map").get_data(as_text=True)
    assert "南安市" in page and "仑苍镇" in page and "水头镇" in page
    headers = login("city_supervisor")
    for code in (LUNCANG, "350583103"):
        expected = [len(walk(client, headers, "/api/v1/cases", grid=code, **flag))
                    for flag in ({"open": "true"}, {"overdue": "true"}, {"breached": "true"}, {})]
        assert cells(page, code) == expected
    assert cells(page, LUNCANG) == [3, 3, 1, 3]
    village = desk.get(f"/map?grid={HUIHUANG}").get_data(as_text=True)
    assert cells(village, "350583106201-06") == [2, 2, 1, 2] and "仑苍镇</a>" in village  # the way back up
    shapes = desk.get(f"/map/{LUNCANG}.geojson").json
    assert [f["properties"]["code"] for f in shapes["features"]] == []  # the demo grids carry no polygons here
    unit = desk.get("/map?grid=350583106201-07-01&show=all").get_data(as_text=True)
    assert "占道经营" in unit and "宅基地纠纷" not in unit


def test_the_map_is_for_supervisors_in_their_own_area(browser_as, cases):
    assert browser_as("supervisor").get("/map?grid=350583103").status_code == 404
    assert browser_as("supervisor").get("/map?grid=nowhere").status_code == 404
    assert browser_as("supervisor").get("/map/350583.geojson").status_code == 404
    assert browser_as("worker").get("/map").status_code == 404
    town = browser_as("supervisor").get("/map").get_data(as_text=True)
    assert "辉煌村" in town and "水头" not in town


def test_the_search_page_filters_and_says_what_is_wrong_next_to_the_field(browser_as, cases):
    desk = browser_as("supervisor")
    found = desk.get("/search?breached=true").get_data(as_text=True)
    assert "宅基地纠纷" in found and "占道经营" not in found
    assert "水头的纠纷" not in desk.get("/search").get_data(as_text=True)
    assert "占道经营" in desk.get("/search?q=占道&open=true&grid=350583106201-07").get_data(as_text=True)
    bad = desk.get("/search?filed_from=30.11.2026&reporter=nobody")
    assert bad.status_code == 422 and 'id="filed_from-error"' in bad.get_data(as_text=True)
    unknown = desk.get("/search?reporter=nobody")
    assert unknown.status_code == 422 and 'id="reporter-error"' in unknown.get_data(as_text=True)
    today = desk.get("/search?filed_from=2026-11-30&filed_to=2026-11-30").get_data(as_text=True)
    assert "宅基地纠纷" in today
    assert "宅基地纠纷" not in desk.get("/search?filed_to=2026-11-29").get_data(as_text=True)


def test_the_xlsx_export_has_the_searchs_rows_in_scope_with_chinese_headers(browser_as, client, login, cases):
    response = browser_as("supervisor").get("/search/export.xlsx?open=true")
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.values)
    header, body = rows[0], rows[1:]
    assert header[:4] == ("案件编号", "标题", "类型", "状态")
    api = client.get("/api/v1/cases?open=true", headers=login("supervisor")).json
    assert [r[0] for r in body] == [c["number"] for c in api] and len(body) == 3
    assert "水头的纠纷" not in [r[1] for r in body]
    by_title = {r[1]: dict(zip(header, r, strict=True)) for r in body}
    assert by_title["宅基地纠纷"]["类型"] == "矛盾纠纷" and by_title["宅基地纠纷"]["升级次数"] >= 0
    assert by_title["宅基地纠纷"]["上报时间"] == datetime(2026, 11, 30, 9, 0)  # Shanghai time, a real time
    assert isinstance(by_title["占道经营"]["退回次数"], int)


def test_the_csv_export_opens_in_excel_and_walks_every_page(browser_as, client, login, cases, monkeypatch):
    monkeypatch.setattr(exports, "BATCH", 2)
    for n in range(3):
        file(client, login, title=f"补充{n}")
    response = browser_as("city_supervisor").get("/search/export.csv")
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode()) and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][0] == "案件编号" and len(rows) == 1 + 7
    assert "水头的纠纷" in [r[1] for r in rows]  # the city sees both towns
    only_luncang = browser_as("supervisor").get("/search/export.csv").get_data().decode("utf-8-sig")
    assert "水头的纠纷" not in only_luncang and "2026-11-30 09:00" in only_luncang
    assert browser_as("supervisor").get("/search/export.pdf").status_code == 404
    assert browser_as("supervisor").get("/search/export.csv?reporter=nobody").status_code == 422


def test_a_supervision_order_with_its_own_deadline_turns_overdue_for_the_city(browser_as, cases, clock):
    town = browser_as("supervisor")
    case_id = cases["id"]
    page = town.get(f"/supervision/cases/{case_id}").get_data(as_text=True)
    assert "督办" in page
    refused = town.post(f"/supervision/cases/{case_id}/order",
                        data={"csrf_token": town.csrf, "reason": "限期化解", "due_at": "2026-11-01T10:00"})
    assert refused.status_code == 422 and 'id="due_at-error"' in refused.get_data(as_text=True)
    assert "限期化解" in refused.get_data(as_text=True)  # what was typed stays
    empty = town.post(f"/supervision/cases/{case_id}/order", data={"csrf_token": town.csrf, "reason": " "})
    assert empty.status_code == 422 and 'id="reason-error"' in empty.get_data(as_text=True)
    issued = town.post(f"/supervision/cases/{case_id}/order",
                       data={"csrf_token": town.csrf, "reason": "限期化解", "due_at": "2026-12-01T16:00"})
    assert issued.status_code == 302
    city = browser_as("city_supervisor")
    assert "限期化解" not in city.get("/supervision?tab=overdue").get_data(as_text=True)
    clock.set(datetime.fromisoformat("2026-12-01T16:01:00+08:00"))
    assert "限期化解" in city.get("/supervision?tab=overdue").get_data(as_text=True)
    assert "水头" not in browser_as("shuitou_supervisor").get("/supervision?tab=overdue").get_data(as_text=True)
    assert "限期化解" not in browser_as("shuitou_supervisor").get("/supervision?tab=open").get_data(as_text=True)
    assert browser_as("leader").get("/supervision").status_code == 404


def test_an_order_is_answered_and_a_case_escalated_from_the_pages(browser_as, client, login, cases):
    town = browser_as("supervisor")
    case_id = cases["id"]
    town.post(f"/supervision/cases/{case_id}/order", data={"csrf_token": town.csrf, "reason": "尽快处理"})
    [order] = [o for o in client.get("/api/v1/supervision-orders", headers=login("supervisor")).json
               if o["reason"] == "尽快处理"]
    blank = town.post(f"/supervision/{order['id']}/answer", data={"csrf_token": town.csrf, "answer": ""})
    assert blank.status_code == 422 and 'id="answer-error"' in blank.get_data(as_text=True)
    assert town.post(f"/supervision/{order['id']}/answer",
                     data={"csrf_token": town.csrf, "answer": "已责成村里当日处理"}).status_code == 302
    assert "已责成村里当日处理" in town.get("/supervision?tab=answered").get_data(as_text=True)
    no_reason = town.post(f"/supervision/cases/{case_id}/escalate", data={"csrf_token": town.csrf})
    assert no_reason.status_code == 422 and 'id="escalate_reason-error"' in no_reason.get_data(as_text=True)
    escalated = town.post(f"/supervision/cases/{case_id}/escalate",
                          data={"csrf_token": town.csrf, "escalate_reason": "村级久拖不决"})
    assert escalated.status_code in (302, 409)
    assert browser_as("shuitou_supervisor").get(f"/supervision/cases/{case_id}").status_code == 404


def test_the_desk_reads_in_english_and_exports_in_chinese(browser_as, cases):
    desk = browser_as("supervisor")
    desk.set_cookie("gridflow_lang", "en")
    assert "Open" in desk.get("/map").get_data(as_text=True)
    assert "Case search" in desk.get("/search").get_data(as_text=True)
    assert "Supervision orders" in desk.get("/supervision").get_data(as_text=True)
    assert desk.get("/search/export.csv").get_data().decode("utf-8-sig").startswith("案件编号,标题")
