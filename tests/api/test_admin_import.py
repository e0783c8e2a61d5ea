"""POST /api/v1/admin/imports/<kind>: admins import grids, departments and users over HTTP."""
import io
import json
import math

from sqlalchemy import func, select

from engine.store.model import Grid
from tests.api_client import in_english

URL = "/api/v1/admin/imports/grids"
GRIDS_CSV = "code,name,level,parent_code\n350583106202,新村,2,350583106\n".encode()


def grid_count(app) -> int:
    with app.extensions["gridflow"].uow() as uow:
        return uow.session.scalar(select(func.count(Grid.id)))


def test_an_admin_uploads_a_csv_file_and_gets_the_report(client, login, app):
    before = grid_count(app)
    response = client.post(URL, headers=login("admin"), content_type="multipart/form-data",
                           data={"file": (io.BytesIO(GRIDS_CSV), "grids.csv")})
    assert response.status_code == 200, response.json
    assert response.json == {"kind": "grids", "created": 1, "updated": 0, "unchanged": 0, "dry_run": False}
    assert grid_count(app) == before + 1


def test_a_geojson_body_is_imported_and_a_second_time_reports_it_unchanged(client, login):
    ring = [[118.3, 24.9], [118.31, 24.9], [118.31, 24.91], [118.3, 24.91], [118.3, 24.9]]
    body = json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"code": "350583106202", "name": "新村", "level": 2, "parent_code": "350583106"}}]})
    first = client.post(URL, headers=login("admin"), data=body, content_type="application/geo+json")
    again = client.post(URL, headers=login("admin"), data=body, content_type="application/geo+json")
    assert (first.status_code, first.json["created"]) == (200, 1)
    assert (again.status_code, again.json["created"], again.json["unchanged"]) == (200, 0, 1)


def test_a_dry_run_answers_with_the_counts_and_writes_nothing(client, login, app):
    before = grid_count(app)
    response = client.post(f"{URL}?dry_run=true&filename=grids.csv", headers=login("admin"), data=GRIDS_CSV,
                           content_type="text/plain")
    assert response.status_code == 200 and response.json["created"] == 1 and response.json["dry_run"] is True
    assert grid_count(app) == before


def test_a_file_larger_than_the_apps_one_megabyte_request_limit_is_accepted(client, login):
    ring = [[118.3 + 0.01 * math.cos(i * math.tau / 60000), 24.9 + 0.01 * math.sin(i * math.tau / 60000)]
            for i in range(60000)]
    body = json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]},
        "properties": {"code": "ROUND", "name": "圆村", "level": 2, "parent_code": "350583106"}}]})
    assert len(body) > 1024 * 1024
    response = client.post(URL, headers=login("admin"), data=body, content_type="application/geo+json")
    assert response.status_code == 200, response.json


def test_a_grid_worker_is_refused_with_403_and_nothing_changes(client, login, app):
    before = grid_count(app)
    response = client.post(URL, headers=login("worker"), data=GRIDS_CSV, content_type="text/csv")
    assert response.status_code == 403 and response.json["code"] == 403
    assert grid_count(app) == before


def test_a_request_without_a_token_gets_401(client):
    response = client.post(URL, data=GRIDS_CSV, content_type="text/csv")
    assert response.status_code == 401


def test_a_garbage_body_gets_422_naming_the_problem(client, login):
    in_english(client)  # these words are the detailed English ones
    response = client.post(URL, headers=login("admin"), data=b"\xff\xfe\x00\x81garbage", content_type="text/csv")
    assert response.status_code == 422
    assert "UTF-8" in response.json["message"] and "file" in response.json["errors"]


def test_invalid_rows_get_422_with_errors_by_row_and_field(client, login, app):
    in_english(client)  # these words are the detailed English ones
    before = grid_count(app)
    body = "code,name,level,parent_code\nA,甲,2,NOPE\nB,乙,9,350583106\n".encode()
    response = client.post(URL, headers=login("admin"), data=body, content_type="text/csv")
    assert response.status_code == 422 and response.json["message"] == "the file has 2 problems"
    assert set(response.json["errors"]) == {"row 2.parent_code", "row 3.level"}
    assert grid_count(app) == before


def test_an_empty_request_and_an_unknown_kind_get_422(client, login):
    empty = client.post(URL, headers=login("admin"), content_type="multipart/form-data", data={})
    unknown = client.post("/api/v1/admin/imports/cases", headers=login("admin"), data=b"a\n1\n",
                          content_type="text/csv")
    assert empty.status_code == 422 and "file" in empty.json["errors"]
    assert unknown.status_code == 422 and "kind" in unknown.json["errors"]


def test_an_admin_declares_a_2027_holiday_and_new_clocks_skip_it(client, login, app, clock):
    from datetime import datetime
    from zoneinfo import ZoneInfo
    admin = login("admin")
    assert client.put("/api/v1/admin/holidays/2027-01-04", headers=admin,
                      json={"kind": "holiday", "name": "元旦调整"}).status_code == 200
    assert client.get("/api/v1/admin/holidays", headers=admin).json == [
        {"day": "2027-01-04", "kind": "holiday", "name": "元旦调整"}]
    clock.set(datetime(2027, 1, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))  # a Friday the library does not know
    case = client.post("/api/v1/cases", headers=login("worker"), json={"type": "dispute", "title": "纠纷"}).json
    [register] = [c for c in case["clocks"] if c["step"] == "register_case"]
    assert register["due_at"] == "2027-01-01T15:00:00+08:00"
    whole = [c for c in case["clocks"] if c["step"] == "case"][0]
    skipped = whole["explanation"]["calendar"]["skipped_days"]
    assert {"date": "2027-01-04", "why": "override: holiday"} in skipped
    assert whole["explanation"]["calendar"]["warnings"]


def test_only_admins_touch_the_holidays_and_bad_dates_are_named(client, login):
    assert client.put("/api/v1/admin/holidays/2027-01-04", headers=login("supervisor"),
                      json={"kind": "holiday"}).status_code == 403
    bad = client.put("/api/v1/admin/holidays/2027-13-40", headers=login("admin"), json={"kind": "holiday"})
    assert bad.status_code == 422 and "day" in bad.json["errors"]
    assert client.delete("/api/v1/admin/holidays/2027-01-05", headers=login("admin")).status_code == 404
