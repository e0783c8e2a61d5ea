"""GET /api/v1/indicators: the hand-built set through HTTP, in the caller's scope only, as JSON, CSV and XLSX;
the ranking; the settings an admin changes; the OpenAPI document."""
import csv
import io

import pytest
from openpyxl import load_workbook

from tests import indicator_set
from tests.api_client import assert_error


@pytest.fixture
def hand_built(app, clock):
    return indicator_set.build(app.extensions["gridflow"], clock)


def get(client, login, username="supervisor", **params):
    return client.get("/api/v1/indicators", query_string=params, headers=login(username))


def test_luncangs_march_by_village_with_its_changes(client, login, hand_built):
    response = get(client, login, period="month", date="2026-03-15")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["start"] == "2026-03-01" and body["end"] == "2026-03-31" and body["by"] == "village"
    assert body["grid"]["code"] == "350583106"
    assert body["total"]["counts"]["reported"] == 9 and body["total"]["values"]["close_on_time"] == 1.0
    assert body["total"]["score"] == 92.1 and body["total"]["grade"] == "A"
    [village] = body["rows"]
    assert (village["code"], village["label"], village["values"]["handle_on_time"]) == ("350583106201", "辉煌村",
                                                                                         0.7778)
    assert body["total"]["previous"]["values"]["close_rate"] is None  # nothing was due in February
    assert {i["code"] for i in body["definitions"]} >= {"close_on_time", "valid_report_rate", "overdue_open"}
    april = get(client, login, period="month", date="2026-04-02").json
    assert april["total"]["previous"]["change"]["handle_on_time"] == 0.2222  # 环比
    by_type = get(client, login, date="2026-03-01", by="type").json["rows"]
    assert {(r["code"], r["label"]) for r in by_type} == {("work_safety", "安全隐患"), ("environment", "环境污染")}
    worker = get(client, login, date="2026-03-01", worker="worker", by="none").json["total"]
    assert worker["values"]["valid_report_rate"] == 0.7778


def test_the_scope_is_the_callers_own(client, login, hand_built):
    assert get(client, login, "shuitou_supervisor", date="2026-04-02").json["total"]["counts"]["reported"] == 1
    assert get(client, login, "supervisor", date="2026-04-02").json["total"]["counts"]["reported"] == 0
    assert_error(get(client, login, "supervisor", grid="350583103"), 404)
    assert_error(get(client, login, "supervisor", grid="350583"), 404)
    assert_error(get(client, login, "worker"), 403)
    city = get(client, login, "city_supervisor", date="2026-04-02", by="town").json["rows"]
    assert {r["code"]: r["counts"]["reported"] for r in city} == {"350583103": 1, "350583106": 0}
    assert client.get("/api/v1/indicators").status_code == 401


def test_bad_filters_name_their_field(client, login, hand_built):
    assert_error(get(client, login, period="decade"), 422, "period")
    assert_error(get(client, login, by="planet"), 422, "by")
    assert_error(get(client, login, type="nope"), 422, "type")
    assert_error(get(client, login, department="nope"), 422, "department")
    assert_error(get(client, login, worker="nobody"), 422, "worker")
    assert_error(get(client, login, **{"from": "2026-03-01"}), 422, "to")
    assert_error(get(client, login, **{"from": "2026-03-02", "to": "2026-03-01"}), 422, "to")
    assert_error(get(client, login, date="2026-13-01"), 422, "date")
    assert_error(get(client, login, date="0001-01-01"), 422, "date")  # no year 0 to compare with
    assert_error(get(client, login, **{"from": "1999-12-31", "to": "2000-01-31"}), 422, "from")


def test_csv_and_xlsx_have_chinese_headers_and_numbers(client, login, hand_built):
    response = get(client, login, date="2026-03-01", by="department", format="csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["名称", "代码", "按时立案率(%)", "按时派遣率(%)"] and "综合得分" in rows[0]
    assert rows[-1][0] == "合计" and len(rows) == 4  # header, the department, "no department", the total
    response = get(client, login, date="2026-03-01", format="xlsx")
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.data)).active
    header = [c.value for c in sheet[1]]
    total = [c.value for c in sheet[sheet.max_row]]
    assert total[0] == "合计" and total[header.index("按时处置率(%)")] == 77.78
    assert total[header.index("上报数")] == 9 and isinstance(total[header.index("上报数")], int)
    assert total[header.index("平均办结时长(工时)")] == 14.0 and total[header.index("等级")] == "A"


def test_the_ranking_of_towns_departments_and_workers(client, login, hand_built):
    towns = client.get("/api/v1/indicators/ranking", query_string={"level": "town", "date": "2026-04-02"},
                       headers=login("city_supervisor")).json["rows"]
    assert [(r["rank"], r["code"]) for r in towns] == [(1, "350583106"), (2, "350583103")]
    assert (towns[1]["score"], towns[1]["grade"]) == (0.0, "E")  # its one report is not registered yet
    workers = client.get("/api/v1/indicators/ranking", query_string={"level": "worker", "date": "2026-03-01"},
                         headers=login("supervisor")).json["rows"]
    assert [(r["rank"], r["code"], r["grade"]) for r in workers] == [(1, "worker", "A")]
    sheet = client.get("/api/v1/indicators/ranking", query_string={"level": "department", "date": "2026-03-01",
                                                                   "format": "xlsx"}, headers=login("supervisor"))
    rows = list(load_workbook(io.BytesIO(sheet.data)).active.values)
    assert rows[0][0] == "排名" and rows[1][0] == 1


def test_an_admin_changes_weights_and_grades(client, login, hand_built):
    url = "/api/v1/indicators/settings"
    assert client.get(url, headers=login("supervisor")).json["settings"]["weight.close_on_time"] == 25.0
    assert_error(client.put(url, json={"settings": {"grade.A": 95}}, headers=login("supervisor")), 403)
    assert_error(client.put(url, json={"settings": {"weight.nope": 5}}, headers=login("admin")), 422,
                 "weight.nope")
    assert_error(client.put(url, json={"settings": {"grade.A": 50}}, headers=login("admin")), 422, "grade.A")
    assert client.put(url, json={"settings": {"grade.A": 95}}, headers=login("admin")).status_code == 200
    march = get(client, login, date="2026-03-01").json["total"]
    assert march["score"] == 92.1 and march["grade"] == "B"


def test_the_openapi_document_describes_the_indicators(client):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/indicators"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"grid", "department", "type", "worker", "period", "date", "from", "to", "by", "format"} <= names
    assert "text/csv" in operation["responses"]["200"]["content"]
    assert "/api/v1/indicators/ranking" in spec["paths"] and "/api/v1/indicators/settings" in spec["paths"]
