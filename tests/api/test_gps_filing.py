"""Filing by GPS over the whole Nan'an demo: the case lands in the unit grid that contains the point."""
import json

import pytest
from shapely.geometry import shape
from sqlalchemy import select

from engine.imports import demo
from engine.store.model import Grid

UNIT, NEIGHBOUR = "350583106201-06-01", "350583106201-06-02"


@pytest.fixture
def nanan(app):
    demo.load_nanan(app.extensions["gridflow"])
    return app


def polygon(app, code):
    with app.extensions["gridflow"].uow() as uow:
        return shape(json.loads(uow.session.scalar(select(Grid.polygon).where(Grid.code == code))))


def file_at(client, headers, lat, lng):
    return client.post("/api/v1/cases", headers=headers, json={
        "type": "dispute", "title": "邻里纠纷", "location": {"lat": lat, "lng": lng}})


def test_a_point_inside_the_workers_unit_grid_files_the_case_there(client, login, nanan):
    point = polygon(nanan, UNIT).representative_point()
    response = file_at(client, login("worker"), point.y, point.x)
    assert response.status_code == 201, response.json
    assert response.json["grid_code"] == UNIT and response.json["location"] == {"lat": point.y, "lng": point.x}


def test_a_point_on_the_border_of_two_unit_grids_lands_in_the_lower_code_every_time(client, login, nanan):
    border = polygon(nanan, UNIT).intersection(polygon(nanan, NEIGHBOUR))
    assert border.length > 0
    point = border.interpolate(0.5, normalized=True)
    codes = {file_at(client, login("leader"), point.y, point.x).json["grid_code"] for _ in range(3)}
    assert codes == {UNIT}


def test_a_point_outside_every_grid_is_refused_with_the_location_named(client, login, nanan):
    response = file_at(client, login("worker"), 39.9, 116.4)
    assert response.status_code == 422 and "location" in response.json["errors"]


def test_a_point_in_another_town_is_outside_the_workers_area(client, login, nanan):
    point = polygon(nanan, "350583103201-01-01").representative_point()
    response = file_at(client, login("worker"), point.y, point.x)
    assert response.status_code == 422 and "location" in response.json["errors"]


def test_a_user_of_another_town_can_neither_read_nor_list_the_case(client, login, nanan):
    point = polygon(nanan, UNIT).representative_point()
    case = file_at(client, login("worker"), point.y, point.x).json
    outsider = login("shuitou_worker")
    assert client.get(f"/api/v1/cases/{case['id']}", headers=outsider).status_code == 404
    for scope in ("inbox", "mine", "offered", "visible"):
        listed = client.get(f"/api/v1/tasks?scope={scope}", headers=outsider).json
        assert all(t["case_id"] != case["id"] for t in listed)
    assert client.get("/api/v1/tasks?scope=visible", headers=login("supervisor")).json[0]["case_id"] == case["id"]
