"""Each case type's real route over HTTP, as the demo users who do the work would run it."""
import pytest

L = "350583106_{}".format  # the Luncang department liaisons
DONE = {"action": "feedback", "result": "已处置完毕"}
CLOSE = [("worker", "verify_on_site", None, {"passed": True, "note": "现场核实"}),
         ("leader", "follow_up", None, {"satisfied": True, "note": "群众满意"})]

ROUTES = {
    "illegal_construction_on_farmland": (
        {"type": "illegal_construction", "subcategory": "farmland", "title": "占用耕地建房"},
        [("leader", "register_case", None, {"decision": "valid"}),
         (L("urban_management"), "inspect_site", None, {"confirmed": True, "area_m2": 120}),
         (L("urban_management"), "issue_stop_work_order", None, {"order_no": "仑执停字〔2026〕15号"}),
         (L("natural_resources"), "impose_penalty", None, {"decision_no": "南自然罚〔2026〕8号", "fine_yuan": 24000}),
         ("supervisor", "dispatch_case", None, {"lead_department": "natural_resources",
                                                "co_departments": ["urban_management"]}),
         (L("natural_resources"), "handle_case", "350583106-natural_resources", DONE),
         (L("urban_management"), "co_handle", "350583106-urban_management", {"result": "已拆除"}),
         *CLOSE],
        {}),
    "public_health_cluster_with_food": (
        {"type": "public_health", "title": "学校多名学生腹泻", "severity": "high"},
        [("leader", "register_case", None, {"decision": "valid"}),
         (L("health"), "triage", None, {"cluster": True, "fever": False, "food_related": True,
                                        "assessment": "疑似食源性聚集"}),
         ("350583_cdc", "cdc_response", "350583-cdc", {"result": "已采样流调"}),
         ("supervisor", "dispatch_case", None, {"lead_department": "health", "co_departments": ["market"]}),
         (L("market"), "co_handle", "350583106-market", {"result": "已查封问题食材"}),
         (L("health"), "handle_case", "350583106-health", DONE),
         *CLOSE],
        {}),
    "dispute_with_violence_goes_to_the_police": (
        {"type": "dispute", "title": "邻里冲突动手", "severity": "high"},
        [("leader", "register_case", None, {"decision": "valid", "risk": "high", "violence": True}),
         ("supervisor", "dispatch_case", None, {"lead_department": "police", "co_departments": ["judicial"]}),
         (L("police"), "handle_case", "350583106-police", DONE),
         ("judicial", "co_handle", "350583106-judicial", {"result": "已调解"}),
         *CLOSE],
        {}),
    "petition_returned_and_redispatched": (
        {"type": "petition", "title": "拆迁补偿信访"},
        [("leader", "register_case", None, {"decision": "valid"}),
         ("supervisor", "dispatch_case", None, {"lead_department": "urban_management", "co_departments": []}),
         (L("urban_management"), "handle_case", None, {"action": "return", "reason": "属信访事项"}),
         ("supervisor", "dispatch_case", None, {"lead_department": "petitions", "co_departments": []}),
         (L("petitions"), "handle_case", None, {"action": "extend", "reason": "需协调补偿", "extra_days": 5}),
         ("supervisor", "approve_extension", None, {"approved": True}),
         (L("petitions"), "handle_case", None, DONE),
         ("worker", "verify_on_site", None, {"passed": False, "note": "补偿未到位"}),
         (L("petitions"), "handle_case", None, DONE),
         *CLOSE],
        {"returns": 1, "extensions": 1, "reworks": 1}),
}


def open_task(client, admin, case_id, name, department):
    tasks = client.get(f"/api/v1/cases/{case_id}", headers=admin).json["tasks"]
    found = [t for t in tasks if t["name"] == name and department in (None, t["department_code"])]
    assert len(found) == 1, (name, department, [(t["name"], t["department_code"]) for t in tasks])
    return found[0]


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_the_route_runs_with_the_right_people_departments_and_timeline(client, login, route):
    body, steps, counters = ROUTES[route]
    admin = login("admin")
    filed = client.post("/api/v1/cases", headers=login("worker"), json=body)
    assert filed.status_code == 201, filed.json
    for who, name, department, data in steps:
        task = open_task(client, admin, filed.json["id"], name, department)
        response = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=login(who), json={"data": data})
        assert response.status_code == 200, (who, name, response.json)
    case = response.json
    assert (case["status"], case["outcome"], case["tasks"]) == ("closed", "closed", [])
    assert {k: v for k, v in case["counters"].items() if v} == counters
    completed = [(e["actor"], e["payload"]["task"]) for e in case["timeline"] if e["kind"] == "completed"]
    assert completed == [(who, name) for who, name, _, _ in steps]
    reasons = {e["kind"]: e["reason"] for e in case["timeline"] if e["kind"] in ("returned", "extended", "reworked")}
    expected = {"returned": "属信访事项", "extended": "需协调补偿", "reworked": "补偿未到位"}
    assert reasons == (expected if counters else {})
