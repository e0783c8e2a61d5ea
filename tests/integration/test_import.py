"""Importing grids, departments and users from CSV and GeoJSON files into the real database."""
import json
from dataclasses import replace

import pytest
from sqlalchemy import event, select

from engine.errors import ValidationError
from engine.imports import importer
from engine.people import auth
from engine.store.model import Department, Grid, User
from workflows.dispute import DISPUTE
from workflows.shared import LOOP

VILLAGE = "350583106201"
GRID_06 = "350583106201-06"
SHUITOU_VILLAGE = "350583103201"
GRIDS_HEADER = "code,name,level,parent_code\n"
USERS_HEADER = "username,display_name,role,grid_code,department_code,password,phone,leader\n"


def csv(text: str) -> bytes:
    return text.encode("utf-8")


def square(lng: float, lat: float, size: float = 0.01) -> dict:
    ring = [[lng, lat], [lng + size, lat], [lng + size, lat + size], [lng, lat + size], [lng, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(code, name, level, parent_code, geometry) -> dict:
    properties = {"code": code, "name": name, "level": level, "parent_code": parent_code}
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def geojson(*features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}, ensure_ascii=False).encode()


def grid(deps, code: str) -> Grid:
    with deps.uow() as uow:
        return uow.session.scalar(select(Grid).where(Grid.code == code))


def user(deps, username: str) -> User:
    with deps.uow() as uow:
        return uow.session.scalar(select(User).where(User.username == username))


def snapshot(deps) -> list:
    """Every grid, department and user row, to show that a refused import changed nothing."""
    with deps.uow() as uow:
        return [uow.session.execute(select(table).order_by(table.c.id)).all()
                for table in (Grid.__table__, Department.__table__, User.__table__)]


def refused(deps, kind: str, content: bytes, filename: str = "file.csv") -> ValidationError:
    """Import a bad file; check that it is refused and leaves the database as it was."""
    before = snapshot(deps)
    with pytest.raises(ValidationError) as refusal:
        importer.import_file(deps, kind, filename, content)
    assert snapshot(deps) == before
    return refusal.value


def test_a_csv_of_grids_creates_each_grid_under_its_parent_with_its_path(deps):
    report = importer.import_file(deps, "grids", "grids.csv", csv(
        "code,name,level,parent_code\n350583106202,新村,2,350583106\n350583106202-01,新村第一网格,3,350583106202\n"))
    assert (report.kind, report.created, report.updated, report.unchanged) == ("grids", 2, 0, 0)
    child = grid(deps, "350583106202-01")
    assert child.level == 3 and child.parent_id == grid(deps, "350583106202").id
    assert child.path == "/350583/350583106/350583106202/350583106202-01/"


def test_a_parent_may_come_later_in_the_file_than_its_children(deps):
    importer.import_file(deps, "grids", "grids.csv", csv(
        "code,name,level,parent_code\nN-01,新村第一网格,3,N\nN,新村,2,350583106\n"))
    assert grid(deps, "N-01").path == "/350583/350583106/N/N-01/"


def test_a_geojson_file_stores_each_grids_polygon(deps):
    report = importer.import_file(deps, "grids", "grids.geojson", geojson(
        feature("350583106202", "新村", 2, "350583106", square(118.30, 24.90)),
        feature("350583106202-01", "新村第一网格", 3, "350583106202", square(118.30, 24.90, 0.005))))
    assert report.created == 2
    stored = grid(deps, "350583106202-01")
    assert json.loads(stored.polygon) == square(118.30, 24.90, 0.005)
    assert stored.path == "/350583/350583106/350583106202/350583106202-01/"


def test_a_multipolygon_is_accepted(deps):
    geometry = {"type": "MultiPolygon", "coordinates": [square(118.3, 24.9)["coordinates"],
                                                         square(118.4, 24.9)["coordinates"]]}
    importer.import_file(deps, "grids", "grids.geojson", geojson(feature("M", "飞地村", 2, "350583106", geometry)))
    assert json.loads(grid(deps, "M").polygon)["type"] == "MultiPolygon"


def test_importing_the_same_file_again_creates_nothing_and_reports_every_row_unchanged(deps):
    content = geojson(feature("350583106202", "新村", 2, "350583106", square(118.30, 24.90)),
                      feature(VILLAGE, "辉煌村", 2, "350583106", square(118.31, 24.90)))
    first = importer.import_file(deps, "grids", "grids.geojson", content)
    before = snapshot(deps)
    again = importer.import_file(deps, "grids", "grids.geojson", content)
    assert (first.created, first.updated, first.unchanged) == (1, 1, 0)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert snapshot(deps) == before


def test_a_changed_name_or_polygon_is_reported_as_an_update(deps):
    importer.import_file(deps, "grids", "g.geojson", geojson(feature(VILLAGE, "辉煌村", 2, "350583106",
                                                                     square(118.3, 24.9))))
    report = importer.import_file(deps, "grids", "g.geojson", geojson(
        feature(VILLAGE, "辉煌社区", 2, "350583106", square(118.3, 24.9)),
        feature(GRID_06, "辉煌村第六网格", 3, VILLAGE, square(118.3, 24.9, 0.002))))
    assert (report.created, report.updated, report.unchanged) == (0, 2, 0)
    assert grid(deps, VILLAGE).name == "辉煌社区"
    assert json.loads(grid(deps, GRID_06).polygon) == square(118.3, 24.9, 0.002)


def test_a_csv_without_polygons_keeps_the_polygons_already_stored(deps):
    importer.import_file(deps, "grids", "g.geojson", geojson(feature(VILLAGE, "辉煌村", 2, "350583106",
                                                                     square(118.3, 24.9))))
    report = importer.import_file(deps, "grids", "g.csv", csv(f"{GRIDS_HEADER}{VILLAGE},辉煌村,2,350583106\n"))
    assert report.unchanged == 1 and json.loads(grid(deps, VILLAGE).polygon) == square(118.3, 24.9)


def test_moving_a_grid_recomputes_its_path_and_the_paths_of_all_its_descendants(deps):
    report = importer.import_file(deps, "grids", "move.csv", csv(
        f"code,name,level,parent_code\n{GRID_06},辉煌村第六网格,3,{SHUITOU_VILLAGE}\n"))
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    moved = grid(deps, GRID_06)
    assert moved.parent_id == grid(deps, SHUITOU_VILLAGE).id
    assert moved.path == f"/350583/350583103/{SHUITOU_VILLAGE}/{GRID_06}/"
    for unit in ("350583106201-06-01", "350583106201-06-02"):
        assert grid(deps, unit).path == f"/350583/350583103/{SHUITOU_VILLAGE}/{GRID_06}/{unit}/"
    assert grid(deps, "350583106201-07-01").path.startswith(f"/350583/350583106/{VILLAGE}/")


def test_moving_a_town_carries_a_whole_subtree_moved_in_the_same_file(deps):
    importer.import_file(deps, "grids", "move.csv", csv(
        "code,name,level,parent_code\n350584,另一市,0,\n350583106,仑苍镇,1,350584\n"
        f"{GRID_06},辉煌村第六网格,3,{SHUITOU_VILLAGE}\n"))
    assert grid(deps, "350583106201-07-01").path == f"/350584/350583106/{VILLAGE}/350583106201-07/350583106201-07-01/"
    assert grid(deps, "350583106201-06-01").path.startswith(f"/350583/350583103/{SHUITOU_VILLAGE}/{GRID_06}/")


def test_a_grid_cannot_be_moved_under_its_own_descendant(deps):
    errors = refused(deps, "grids", csv(f"code,name,level,parent_code\n{VILLAGE},辉煌村,2,{GRID_06}\n")).errors
    assert list(errors) == ["row 2.level"]


BOW_TIE = {"type": "Polygon", "coordinates": [[[118.3, 24.9], [118.31, 24.91], [118.31, 24.9], [118.3, 24.91],
                                               [118.3, 24.9]]]}
BAD_FILES = {  # kind, content, the error's key, a piece of its message
    "a bad level and an empty name": ("grids", csv(GRIDS_HEADER + "A,,7,350583106\n"), "row 2.level", "not a level"),
    "a code with a space": ("grids", csv(GRIDS_HEADER + "A B,甲,2,350583106\n"), "row 2.code", "not valid"),
    "a code twice in the file": ("grids", csv(GRIDS_HEADER + "A,甲,2,350583106\nA,乙,2,350583106\n"),
                                 "row 3.code", "first on row 2"),
    "a parent that does not exist": ("grids", csv(GRIDS_HEADER + "A,甲,2,NOPE\n"), "row 2.parent_code", "NOPE"),
    "a level that does not fit its parent": ("grids", csv(GRIDS_HEADER + "A,甲,3,350583106\n"), "row 2.level",
                                             "level 1"),
    "a village without a parent": ("grids", csv(GRIDS_HEADER + "A,甲,2,\n"), "row 2.parent_code", "Required"),
    "a city with a parent": ("grids", csv(GRIDS_HEADER + "A,甲,0,350583\n"), "row 2.parent_code", "no parent"),
    "a self-intersecting polygon": ("grids", geojson(feature("A", "甲", 2, "350583106", BOW_TIE)),
                                    "row 1.polygon", "Self-intersection"),
    "a polygon in lat, lng order": ("grids", geojson(feature("A", "甲", 2, "350583106", square(24.9, 118.3))),
                                    "row 1.polygon", "-90..90"),
    "a point instead of a polygon": ("grids", geojson(feature("A", "甲", 2, "350583106", {
        "type": "Point", "coordinates": [118.3, 24.9]})), "row 1.polygon", "Polygon or MultiPolygon"),
    "an unknown column": ("grids", csv("code,name,level,parent_code,area\nA,甲,2,350583106,3\n"), "row 1.area",
                          "Unknown column"),
    "a missing column": ("grids", csv("code,name,parent_code\nA,甲,350583106\n"), "row 1.level", "Missing column"),
    "a department whose jurisdiction is a village": (
        "departments", csv(f"code,name,kind,grid_code\nV-police,村警务室,police,{VILLAGE}\n"), "row 2.grid_code",
        "city or a town"),
    "a department of an unknown kind": ("departments", csv("code,name,kind,grid_code\nD,某局,army,350583\n"),
                                        "row 2.kind", "not one of"),
    "a liaison without a department": ("users", csv(USERS_HEADER + "li,联络员,liaison,,,password1,,\n"),
                                       "row 2.department_code", "Required"),
    "a liaison with a grid": ("users", csv(USERS_HEADER + "li,联络员,liaison,350583106,350583106-police,password1,,\n"),
                              "row 2.grid_code", "Leave empty"),
    "a new user without a password": ("users", csv(USERS_HEADER + "nu,新人,grid_worker,350583106,,,,\n"),
                                      "row 2.password", "new user"),
    "a grid worker leading a grid": ("users", csv(USERS_HEADER + "nu,新人,grid_worker,350583106,,password1,,是\n"),
                                     "row 2.leader", "grid_leader"),
    "a username twice": ("users", csv(USERS_HEADER + "nu,甲,admin,,,password1,,\nnu,乙,admin,,,password1,,\n"),
                         "row 3.username", "twice"),
}


@pytest.mark.parametrize("kind, content, key, message", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_file_with_a_problem_changes_nothing_and_names_the_row_and_field(deps, kind, content, key, message):
    refusal = refused(deps, kind, content, "file.geojson" if content.startswith(b"{") else "file.csv")
    errors, count = refusal.errors, sum(map(len, refusal.errors.values()))
    assert refusal.message == f"the file has {count} problem{'s' if count > 1 else ''}"
    assert key in errors and any(message in text for text in errors[key]), errors


def test_every_problem_in_a_file_is_listed_at_once(deps):
    errors = refused(deps, "grids", csv(GRIDS_HEADER + "A,甲,2,350583106\nB,,2,NOPE\nA,丙,9,\n")).errors
    assert set(errors) == {"row 3.name", "row 3.parent_code", "row 4.code", "row 4.level"}
    assert [key[:5] for key in errors] == ["row 3", "row 3", "row 4", "row 4"]  # in the order of the file


def test_a_utf8_bom_written_by_excel_is_accepted(deps):
    content = "\ufeffcode,name,level,parent_code\r\nA,甲村,2,350583106\r\n".encode()
    assert importer.import_file(deps, "grids", "excel.csv", content).created == 1


def test_blank_lines_are_skipped_and_still_counted_as_rows(deps):
    errors = refused(deps, "grids", csv(GRIDS_HEADER + "A,甲,2,350583106\n\n,,,\nB,乙,2,NOPE\n")).errors
    assert list(errors) == ["row 5.parent_code"]


def test_a_dry_run_reports_what_would_happen_and_writes_nothing(deps):
    before = snapshot(deps)
    report = importer.import_file(deps, "grids", "g.csv", csv(GRIDS_HEADER + "A,甲,2,350583106\n"
                                                              f"{VILLAGE},辉煌社区,2,350583106\n"), dry_run=True)
    assert (report.created, report.updated, report.unchanged, report.dry_run) == (1, 1, 0, True)
    assert snapshot(deps) == before


def test_a_file_that_is_not_utf8_or_not_json_or_of_an_unknown_kind_is_refused(deps):
    assert "UTF-8" in refused(deps, "grids", "code,name\n甲".encode("gbk")).errors["file"][0]
    assert "JSON" in refused(deps, "grids", b'{"type": "FeatureCollection", ', "g.geojson").errors["file"][0]
    assert "CSV only" in refused(deps, "users", geojson(), "u.geojson").errors["file"][0]
    assert "no data rows" in refused(deps, "grids", csv(GRIDS_HEADER)).errors["file"][0]
    with pytest.raises(ValidationError) as refusal:
        importer.import_file(deps, "cases", "c.csv", b"x\n")
    assert "kind" in refusal.value.errors


def test_departments_are_created_and_then_updated_by_code(deps):
    content = "code,name,kind,grid_code\n350583103-market,水头市场监管所,market,350583103\n" \
              "350583-petitions,南安市信访局,petitions,350583\n350583106-police,仑苍镇派出所,police,350583106\n"
    report = importer.import_file(deps, "departments", "d.csv", csv(content))
    assert (report.created, report.updated, report.unchanged) == (2, 1, 0)
    again = importer.import_file(deps, "departments", "d.csv", csv(content))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    with deps.uow() as uow:
        city = uow.session.scalar(select(Department).where(Department.code == "350583-petitions"))
    assert city.kind == "petitions" and city.grid_id == grid(deps, "350583").id


def test_a_department_kind_is_one_the_case_type_catalogue_names(deps):
    content = csv("code,name,kind,grid_code\n350583-fire,南安市消防救援大队,fire,350583\n")
    errors = refused(deps, "departments", content).errors
    assert errors["row 2.kind"] == [f"'fire' is not one of: {', '.join(LOOP.department_kinds)}."]
    with_fire = replace(LOOP, department_kinds=(*LOOP.department_kinds, "fire"))
    deps.catalogue = {**deps.catalogue, "fire": replace(DISPUTE, code="fire", loop=with_fire)}
    assert importer.import_file(deps, "departments", "d.csv", content).created == 1


def test_new_users_can_sign_in_with_their_imported_password(deps):
    report = importer.import_file(deps, "users", "u.csv", csv(
        USERS_HEADER + "zhao,赵网格员,grid_worker,350583106201-07-01,,first-pass,13800000000,\n"
        "qian,钱联络员,liaison,,350583106-police,first-pass,,\nsun,孙管理员,admin,,,second-pass,,\n"))
    assert report.created == 3
    zhao = user(deps, "zhao")
    assert zhao.grid_id == grid(deps, "350583106201-07-01").id and zhao.phone == "13800000000"
    assert user(deps, "qian").department_id is not None and user(deps, "qian").grid_id is None
    assert auth.issue_token(deps, "sun", "second-pass", hours=1).user_id == user(deps, "sun").id


def test_an_empty_password_on_an_update_keeps_the_old_one(deps):
    old_hash = user(deps, "worker").password_hash
    report = importer.import_file(deps, "users", "u.csv", csv(
        USERS_HEADER + "worker,李网格员,grid_worker,350583106201-06-01,,,,\n"))
    assert (report.updated, report.unchanged) == (0, 1)
    report = importer.import_file(deps, "users", "u.csv", csv(
        USERS_HEADER + "worker,李明,grid_worker,350583106201-06-02,,,139,\n"))
    changed = user(deps, "worker")
    assert report.updated == 1 and changed.password_hash == old_hash
    assert (changed.display_name, changed.phone) == ("李明", "139")


def test_each_distinct_password_is_hashed_once_per_import(deps, monkeypatch):
    hashed = []
    monkeypatch.setattr(importer, "hash_password", lambda password: hashed.append(password) or f"hash-{password}")
    importer.import_file(deps, "users", "u.csv", csv(
        USERS_HEADER + "".join(f"u{n},用户{n},admin,,,same-password,,\n" for n in range(5))
        + "u9,用户9,admin,,,other-password,,\n"))
    assert sorted(hashed) == ["other-password", "same-password"]


def test_a_grid_leader_marked_as_leader_leads_their_grid_until_marked_otherwise(deps):
    lead = USERS_HEADER + "zhou,周网格长,grid_leader,350583106201-07,,leader-pass,,{}\n"
    importer.import_file(deps, "users", "u.csv", csv(lead.format("是")))
    assert grid(deps, "350583106201-07").leader_id == user(deps, "zhou").id
    assert importer.import_file(deps, "users", "u.csv", csv(lead.format("yes"))).updated == 1  # the password
    report = importer.import_file(deps, "users", "u.csv", csv(lead.format("否").replace("leader-pass", "")))
    assert report.updated == 1 and grid(deps, "350583106201-07").leader_id is None


def test_a_new_leader_replaces_the_old_one_whichever_row_comes_first(deps):
    importer.import_file(deps, "users", "u.csv", csv(
        USERS_HEADER + "leader,王网格长,grid_leader,350583106201-06,,,,true\n"))
    importer.import_file(deps, "users", "u.csv", csv(
        USERS_HEADER + "wu,吴网格长,grid_leader,350583106201-06,,leader-pass,,true\n"
        "leader,王网格长,grid_leader,350583106201-06,,,,false\n"))
    assert grid(deps, "350583106201-06").leader_id == user(deps, "wu").id


def test_a_leader_who_becomes_a_grid_worker_no_longer_leads_the_grid(deps):
    importer.import_file(deps, "users", "u.csv", csv(
        USERS_HEADER + "leader,王网格长,grid_leader,350583106201-06,,,,true\n"))
    report = importer.import_file(deps, "users", "u.csv", csv(
        USERS_HEADER + "leader,王网格员,grid_worker,350583106201-06-01,,,,\n"))
    assert report.updated == 1 and grid(deps, "350583106201-06").leader_id is None


def test_rows_from_a_data_generator_import_without_a_file(deps):
    rows = [{"code": "G", "name": "生成村", "level": 2, "parent_code": "350583106", "polygon": square(118.3, 24.9)},
            {"code": "G-01", "name": "生成网格", "level": 3, "parent_code": "G"}]
    report = importer.import_rows(deps, "grids", rows)
    assert report.created == 2 and grid(deps, "G-01").path == "/350583/350583106/G/G-01/"
    users = [{"username": "gen", "display_name": "生成", "role": "grid_leader", "grid_code": "G-01",
              "password": "generated", "leader": True}]
    assert importer.import_rows(deps, "users", users).created == 1
    assert grid(deps, "G-01").leader_id == user(deps, "gen").id


def test_a_large_import_reads_existing_rows_in_bulk_not_once_per_row(deps):
    rows = [{"code": f"V{n}", "name": f"村{n}", "level": 2, "parent_code": "350583106", "polygon": square(118, 24)}
            for n in range(300)]
    statements = []
    sql_engine = deps.sessions.kw["bind"]
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(sql_engine, "before_cursor_execute", listener)
    try:
        assert importer.import_rows(deps, "grids", rows).created == 300
        assert importer.import_rows(deps, "grids", rows).unchanged == 300
    finally:
        event.remove(sql_engine, "before_cursor_execute", listener)
    assert len(statements) < 20, statements
