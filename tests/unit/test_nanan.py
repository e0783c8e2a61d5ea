"""The generated Nan'an hierarchy: exact counts, codes, tiling polygons, demo users and the written files."""
import csv
import json
from collections import Counter, defaultdict

import numpy as np
import pytest
import shapely
from shapely.geometry import shape
from shapely.strtree import STRtree

from engine.imports import nanan

KINDS = {"police", "market", "judicial", "health", "natural_resources", "urban_management", "environment",
         "work_safety", "petitions"}


@pytest.fixture(scope="module")
def city():
    return nanan.generate()


@pytest.fixture(scope="module")
def by_code(city):
    return {g["code"]: g for g in city.grids}


@pytest.fixture(scope="module")
def children(city):
    kids = defaultdict(list)
    for g in city.grids:
        kids[g["parent_code"]].append(g)
    return dict(kids)


@pytest.fixture(scope="module")
def shapes(city):
    return {g["code"]: shape(g["polygon"]) for g in city.grids}


def test_counts_for_the_city(city):
    levels = Counter(g["level"] for g in city.grids)
    assert levels[0] == 1 and levels[1] == 26 and levels[2] == 424
    assert levels[2] + levels[3] + levels[4] == 2480
    assert city.grids[0] | {"polygon": None} == {"code": "350583", "name": "南安市", "level": 0,
                                                 "parent_code": None, "polygon": None}


def test_towns_have_their_real_names_and_codes(city, by_code):
    names = {g["name"] for g in city.grids if g["level"] == 1}
    assert names == {"溪美街道", "柳城街道", "美林街道", "省新镇", "仑苍镇", "东田镇", "英都镇", "翔云镇", "金淘镇",
                     "诗山镇", "蓬华镇", "码头镇", "九都镇", "乐峰镇", "罗东镇", "梅山镇", "洪濑镇", "洪梅镇", "康美镇",
                     "丰州镇", "霞美镇", "官桥镇", "水头镇", "石井镇", "眉山乡", "向阳乡"}
    assert by_code["350583106"]["name"] == "仑苍镇" and by_code["350583103"]["name"] == "水头镇"
    assert all(len(g["code"]) == 9 and g["code"].startswith("350583") for g in city.grids if g["level"] == 1)


def test_luncang_and_huihuang_counts(city):
    def count(prefix, level):
        return sum(1 for g in city.grids if g["level"] == level and g["code"].startswith(prefix))
    assert [count("350583106", level) for level in (2, 3, 4)] == [14, 75, 238]
    assert [count("350583106201", level) for level in (3, 4)] == [7, 29]


def test_named_grids_exist(by_code):
    assert by_code["350583106201"]["name"] == "辉煌村"
    assert by_code["350583106201-06"]["name"] == "辉煌村第六网格"
    assert by_code["350583106201-06-01"]["name"] == "辉煌村第六网格第一单元"
    assert by_code["350583106201-06-02"]["parent_code"] == "350583106201-06"
    assert by_code["350583103201"]["name"] == "水头村"
    assert by_code["350583103201-01-01"]["parent_code"] == "350583103201-01"


def test_codes_are_unique_and_shaped_by_level(city, by_code):
    assert len(by_code) == len(city.grids)
    for g in city.grids:
        parent = g["parent_code"]
        if g["level"] == 2:
            assert len(g["code"]) == 12 and g["code"][:9] == parent and int(g["code"][9:]) >= 201
        elif g["level"] in (3, 4):
            assert g["code"][:-3] == parent and g["code"][-3] == "-" and g["code"][-2:].isdigit()


def test_parents_precede_children_and_levels_fit(city):
    seen = {}
    for g in city.grids:
        if g["parent_code"] is None:
            assert g["level"] == 0
        else:
            assert seen[g["parent_code"]] == g["level"] - 1
        seen[g["code"]] = g["level"]


def test_names_are_unique_among_siblings(children):
    for kids in children.values():
        assert len({g["name"] for g in kids}) == len(kids)


def test_every_village_and_level2_grid_has_children(city, children):
    assert all(children.get(g["code"]) for g in city.grids if g["level"] in (0, 1, 2, 3))
    assert not any(children.get(g["code"]) for g in city.grids if g["level"] == 4)


def test_polygons_are_closed_ccw_rectangles_rounded_inside_the_box(city, shapes):
    west, south, east, north = nanan.BOX
    for g in city.grids:
        assert g["polygon"]["type"] == "Polygon"
        ring = g["polygon"]["coordinates"][0]
        assert len(ring) == 5 and ring[0] == ring[-1]
        assert all(round(v, 6) == v for point in ring for v in point)
        assert all(west <= x <= east and south <= y <= north for x, y in ring)
        polygon = shapes[g["code"]]
        assert polygon.is_valid and polygon.exterior.is_ccw and polygon.area > 0


def test_children_tile_their_parent(city, children, shapes):
    assert len(children) == sum(1 for g in city.grids if g["level"] < 4) + 1  # + the city under None
    for code, kids in children.items():
        if code is None:
            continue
        parent = shapes[code]
        polygons = [shapes[g["code"]] for g in kids]
        assert all(parent.covers(p) for p in polygons), code
        assert abs(shapely.union_all(polygons).area - parent.area) < 1e-9, code
        assert abs(sum(p.area for p in polygons) - parent.area) < 1e-9, code


@pytest.mark.parametrize("level", [1, 2, 3, 4])
def test_no_two_grids_of_a_level_overlap(city, shapes, level):
    polygons = [shapes[g["code"]] for g in city.grids if g["level"] == level]
    left, right = STRtree(polygons).query(polygons, predicate="intersects")
    pairs = left < right
    overlaps = shapely.area(shapely.intersection(np.take(polygons, left[pairs]), np.take(polygons, right[pairs])))
    assert pairs.sum() > 0 and overlaps.max() == 0


def test_each_point_of_the_city_lies_in_exactly_one_unit_grid(city, shapes):
    west, south, east, north = nanan.BOX
    n = 80  # 7th-decimal offsets keep the points off the 6-decimal borders
    xs = west + (np.arange(n) + 0.5) * (east - west) / n + 3.7e-7
    ys = south + (np.arange(n) + 0.5) * (north - south) / n + 2.3e-7
    points = shapely.points(*np.meshgrid(xs, ys))
    units = [shapes[g["code"]] for g in city.grids if g["level"] == 4]
    hits = STRtree(units).query(points.ravel(), predicate="intersects")[0]
    assert np.bincount(hits, minlength=n * n).tolist() == [1] * (n * n)


def test_departments(city, by_code):
    codes = [d["code"] for d in city.departments]
    assert len(codes) == len(set(codes)) == 26 * 9 + 10
    towns = [g["code"] for g in city.grids if g["level"] == 1]
    for town in towns:
        assert {d["kind"] for d in city.departments if d["grid_code"] == town} == KINDS
    city_rows = {d["kind"]: d["name"] for d in city.departments if d["grid_code"] == "350583"}
    assert set(city_rows) == KINDS | {"cdc"}
    assert (city_rows["police"], city_rows["judicial"], city_rows["health"], city_rows["cdc"]) == (
        "南安市公安局", "南安市司法局", "南安市卫健局", "南安市疾控中心")
    assert all(d["code"] == f"{d['grid_code']}-{d['kind']}" and d["grid_code"] in by_code for d in city.departments)
    assert {d["code"]: d["name"] for d in city.departments}["350583106-judicial"] == "仑苍镇司法所"


def test_named_demo_users(city):
    users = {u["username"]: u for u in city.users}
    expected = {  # username: display name, role, grid, department, leader
        "worker": ("李网格员", "grid_worker", "350583106201-06-01", "", ""),
        "leader": ("王网格长", "grid_leader", "350583106201-06", "", "true"),
        "village": ("陈村调委会主任", "grid_leader", "350583106201", "", "true"),
        "judicial": ("林司法所调解员", "liaison", "", "350583106-judicial", ""),
        "supervisor": ("黄督查员", "supervisor", "350583106", "", ""),
        "admin": ("系统管理员", "admin", "", "", ""),
        "shuitou_worker": ("张网格员", "grid_worker", "350583103201-01-01", "", ""),
    }
    for username, (name, role, grid, department, leader) in expected.items():
        u = users[username]
        assert (u["display_name"], u["role"], u["grid_code"], u["department_code"], u["leader"]) == (
            name, role, grid, department, leader)
    assert (users["city_supervisor"]["role"], users["city_supervisor"]["grid_code"]) == ("supervisor", "350583")
    assert [row[0] for row in nanan.DEMO_USERS] == list(expected) + ["city_supervisor"]


def test_generated_users(city, by_code):
    users = {u["username"]: u for u in city.users}
    assert len(users) == len(city.users)
    assert all(u["department_code"] in {d["code"] for d in city.departments} for u in city.users
               if u["role"] == "liaison")
    assert {u["department_code"] for u in city.users if u["role"] == "liaison"} == {d["code"] for d in
                                                                                     city.departments}
    assert users["350583106_police"]["department_code"] == "350583106-police"
    leaders = {u["grid_code"] for u in city.users if u["role"] == "grid_leader" and u["grid_code"] != "350583106201"}
    assert leaders == {g["code"] for g in city.grids if g["level"] == 3 and g["code"].startswith("350583106")}
    assert "gl_350583106201_06" not in users and "gw_350583106201_06_01" not in users
    assert users["gw_350583106201_06_02"]["grid_code"] == "350583106201-06-02"
    workers = {u["grid_code"] for u in city.users if u["role"] == "grid_worker"}
    assert workers >= {g["code"] for g in city.grids if g["level"] == 4 and g["code"].startswith("350583106201")}
    assert {users[f"sup_{g['code']}"]["grid_code"] for g in city.grids if g["level"] == 1} == {
        g["code"] for g in city.grids if g["level"] == 1}
    assert all(u["grid_code"] == "" or u["grid_code"] in by_code for u in city.users)
    assert all(u["leader"] == ("true" if u["role"] == "grid_leader" else "") for u in city.users)


def test_user_fields_are_ascii_usernames_and_strings(city):
    for u in city.users:
        assert tuple(u) == nanan.USER_FIELDS and all(isinstance(v, str) for v in u.values())
        assert u["username"].isascii() and u["display_name"] and u["password"] == "gridflow-demo"
        assert len(u["phone"]) == 11 and u["phone"].startswith("1") and u["phone"].isdigit()
    assert {u["password"] for u in nanan.generate(password="s3cret").users} == {"s3cret"}


def test_generation_is_deterministic(city):
    assert nanan.generate() == city


def test_written_files_parse_back(tmp_path, city):
    grids_path, departments_path, users_path = nanan.write(tmp_path / "out", password="another-pw")
    collection = json.loads(grids_path.read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == len(city.grids)
    first = collection["features"][3]
    assert first["geometry"] == city.grids[3]["polygon"]
    assert first["properties"] == {key: city.grids[3][key] for key in ("code", "name", "level", "parent_code")}
    with departments_path.open(encoding="utf-8", newline="") as f:
        departments = list(csv.DictReader(f))
    with users_path.open(encoding="utf-8", newline="") as f:
        users = list(csv.DictReader(f))
    assert departments == city.departments
    assert len(users) == len(city.users) and {u["password"] for u in users} == {"another-pw"}
    assert users[0] == city.users[0] | {"password": "another-pw"}
