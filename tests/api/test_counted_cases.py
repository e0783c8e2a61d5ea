"""From a number of the indicators to its cases: GET /api/v1/cases?counted=... on the hand-built set
(tests/indicator_set.py) finds, for every counter, grid, period and department, the cases whose amounts add up
to the number GET /api/v1/indicators reports, in the searcher's scope only."""
import pytest

from engine.indicators.definitions import COUNTERS
from tests import indicator_set
from tests.api_client import assert_error

DEPT = indicator_set.DEPARTMENT
ONCE = ("reported", "valid_reports", "reg_decided", "registered", "registered_on_time", "supervised",
        "due_to_close", "closed", "closed_on_time", "overdue_open")  # at most once per case: a count of cases
PERIODS = {"march": ("2026-03-01", "2026-03-31"), "april": ("2026-04-01", "2026-04-30"),
           "week of 30 March": ("2026-03-30", "2026-04-05")}


@pytest.fixture
def hand_built(app, clock):
    return indicator_set.build(app.extensions["gridflow"], clock)


def counted(client, headers, **params) -> list[dict]:
    response = client.get("/api/v1/cases", query_string={"limit": 200, **params}, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def indicator_rows(client, headers, start, end, by):
    response = client.get("/api/v1/indicators", query_string={"from": start, "to": end, "by": by,
                                                              "compare": "false"}, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_every_counter_finds_the_cases_behind_its_number(client, login, hand_built):
    supervisor = login("supervisor")
    checked = 0
    for start, end in PERIODS.values():
        days = {"counted_from": start, "counted_to": end}
        report = indicator_rows(client, supervisor, start, end, "department")
        groups = [({"grid": report["grid"]["code"]}, report["total"])]
        groups += [({"grid": report["grid"]["code"], "department": row["key"] or "(none)"}, row)
                   for row in report["rows"]]
        village = indicator_rows(client, supervisor, start, end, "village")
        groups += [({"grid": row["code"]}, row) for row in village["rows"]]
        for filters, row in groups:
            for counter in COUNTERS:
                when = {} if counter == "overdue_open" else days  # a standing: read over every day
                found = counted(client, supervisor, counted=counter, **when, **filters)
                number = row["counts"][counter]
                assert round(sum(c["counted"] for c in found), 1) == number, (counter, filters, start)
                assert all(c["counted"] > 0 for c in found)
                if counter in ONCE:
                    assert len(found) == number, (counter, filters, start)
                checked += number > 0
    assert checked > 40  # most counters have cases in March


def test_the_cases_are_the_ones_the_counters_name(client, login, hand_built):
    supervisor = login("supervisor")
    march = {"counted_from": "2026-03-01", "counted_to": "2026-03-31"}
    ids = {name: case_id for name, case_id in hand_built.items()}
    handled = {c["id"]: c["counted"] for c in counted(client, supervisor, counted="due_to_handle", **march)}
    assert handled == {ids["on_time"]: 1, ids["late"]: 1, ids["reworked"]: 3, ids["returned"]: 2,
                       ids["extended"]: 2}  # nine assignments of five cases
    late = counted(client, supervisor, counted="handled", **march)
    on_time = counted(client, supervisor, counted="handled_on_time", **march)
    assert {c["id"] for c in late} - {c["id"] for c in on_time} == {ids["late"]}
    never = counted(client, supervisor, counted="reported", department="(none)", **march)
    assert {c["id"] for c in never} == {ids["withdrawn"], ids["invalid"], ids["duplicate"]}
    assert {c["id"] for c in counted(client, supervisor, department=DEPT)} == {
        ids[n] for n in ("on_time", "late", "reworked", "returned", "extended", "suspended")}
    april = counted(client, supervisor, counted="closed", counted_from="2026-04-01", counted_to="2026-04-30")
    assert [c["id"] for c in april] == [ids["suspended"]]


def test_only_the_searchers_cases_are_found(client, login, hand_built):
    april = {"counted": "reported", "counted_from": "2026-04-01", "counted_to": "2026-04-30"}
    assert counted(client, login("supervisor"), **april) == []
    assert [c["id"] for c in counted(client, login("shuitou_supervisor"), **april)] == [hand_built["shuitou"]]
    assert [c["id"] for c in counted(client, login("admin"), **april)] == [hand_built["shuitou"]]


def test_a_bad_counter_or_day_names_its_field(client, login, hand_built):
    supervisor = login("supervisor")
    search = "/api/v1/cases"
    assert_error(client.get(search, query_string={"counted": "nope"}, headers=supervisor), 422, "counted")
    assert_error(client.get(search, query_string={"counted": "closed", "counted_from": "2026-13-01"},
                            headers=supervisor), 422, "counted_from")
    assert_error(client.get(search, query_string={"counted": "closed", "counted_from": "2026-03-02",
                                                  "counted_to": "2026-03-01"}, headers=supervisor), 422, "counted_to")
    assert_error(client.get(search, query_string={"counted_from": "2026-03-01"}, headers=supervisor), 422,
                 "counted")
    assert_error(client.get(search, query_string={"counted": "closed", "counted_to": "1999-12-31"},
                            headers=supervisor), 422, "counted_to")
    assert_error(client.get(search, query_string={"department": "nope"}, headers=supervisor), 422, "department")


def test_the_openapi_document_describes_the_filter(client):
    document = client.get("/api/v1/openapi.json").json
    parameters = {p["name"]: p for p in document["paths"]["/api/v1/cases"]["get"]["parameters"]}
    assert {"counted", "counted_from", "counted_to", "department"} <= set(parameters)
    assert "closed_on_time" in parameters["counted"]["schema"]["enum"]
    assert "counted" in document["components"]["schemas"]["CaseSummary"]["properties"]
