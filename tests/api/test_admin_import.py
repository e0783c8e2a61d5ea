"""POST /api/v1/admin/imports/<kind>: admins import grids, departments and users over HTTP."""
import io
import json
import math

from sqlalchemy import func, select

from engine.model import Grid

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
    response = client.post(URL, headers=login("admin"), data=b"\xff\xfe\x00\x81garbage", content_type="text/csv")
    assert response.status_code == 422
    assert "UTF-8" in response.json["message"] and "file" in response.json["errors"]


def test_invalid_rows_get_422_with_errors_by_row_and_field(client, login, app):
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
