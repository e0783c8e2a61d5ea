"""A day's work through the API alone: the town's work-safety liaison works their inbox, returns a case that is
not theirs and asks for more time on another; the town supervisor approves, re-dispatches, escalates, and checks
that the timelines are intact."""
from io import BytesIO

from tests.api.test_attachments import png

LIAISON = "350583106_work_safety"


def ok(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.json


class Api:
    """One signed-in person's calls."""

    def __init__(self, client, headers):
        self.client, self.headers = client, headers

    def get(self, path, **query):
        return ok(self.client.get(f"/api/v1/{path}", query_string=query, headers=self.headers))

    def post(self, path, body=None, status=200):
        return ok(self.client.post(f"/api/v1/{path}", json=body, headers=self.headers), status)

    def complete(self, task_id, evidence=(), **data):
        return self.post(f"tasks/{task_id}/complete", {"data": data, "attachments": list(evidence)})

    def upload(self, case_id, content, kind, task_id):
        form = {"file": (BytesIO(content), "现场.png"), "kind": kind, "task_id": task_id}
        return ok(self.client.post(f"/api/v1/cases/{case_id}/attachments", data=form, headers=self.headers,
                                   content_type="multipart/form-data"), 201)

    def inbox(self, name):
        return [t for t in self.get("tasks") if t["name"] == name]


def test_a_liaisons_whole_day_and_the_supervisors(client, login):
    worker, leader, supervisor, liaison = (Api(client, login(u)) for u in ("worker", "leader", "supervisor", LIAISON))

    # the morning's reports, registered and dispatched to the work-safety office
    blocked = worker.post("cases", {"type": "work_safety", "title": "违规占道经营", "severity": "medium"}, 201)
    leaking = worker.post("cases", {"type": "work_safety", "title": "燃气管道泄漏隐患", "severity": "medium"}, 201)
    for case in (blocked, leaking):
        case = leader.complete(case["tasks"][0]["id"], decision="valid")
        supervisor.complete(case["tasks"][0]["id"], lead_department="work_safety", co_departments=[])

    # the liaison's inbox holds both; the first one is not the office's business: returned with a reason
    inbox = liaison.inbox("handle_case")
    assert sorted(t["case_id"] for t in inbox) == sorted([blocked["id"], leaking["id"]])
    first = next(t for t in inbox if t["case_id"] == blocked["id"])
    claimed = liaison.post(f"tasks/{first['id']}/claim")
    assert claimed["assignee"] == LIAISON and "complete" in claimed["actions"]
    liaison.post(f"cases/{blocked['id']}/comments", {"text": "现场为流动摊贩占道，非安全生产隐患"}, 201)
    case = liaison.complete(first["id"], action="return", reason="属占道经营，应由综合执法队处理")
    assert case["status"] == "dispatching" and case["counters"]["returns"] == 1

    # the second needs a gas company's test: more time is asked for
    second = liaison.post(f"tasks/{liaison.inbox('handle_case')[0]['id']}/claim")
    assert second["case_id"] == leaking["id"]
    case = liaison.complete(second["id"], action="extend", reason="需燃气公司检测", extra_days=3)
    assert case["status"] == "extension_review"

    # the supervisor approves the extension and re-dispatches the returned case to urban management
    [approval] = supervisor.inbox("approve_extension")
    assert supervisor.get(f"tasks/{approval['id']}")["actions"] == ["claim", "complete", "assign"]
    case = supervisor.complete(approval["id"], approved=True)
    assert case["counters"]["extensions"] == 1
    [redispatch] = supervisor.inbox("dispatch_case")
    assert redispatch["case_id"] == blocked["id"]
    case = supervisor.complete(redispatch["id"], lead_department="urban_management", co_departments=[],
                               note="改派综合执法队")
    assert case["tasks"][0]["department_code"] == "350583106-urban_management"

    # the liaison finishes the extended case with its result; it goes to the reporter for verification
    [again] = liaison.inbox("handle_case")
    assert again["case_id"] == leaking["id"]
    before = liaison.upload(leaking["id"], png(1), "evidence_before", again["id"])
    after = liaison.upload(leaking["id"], png(2), "evidence_after", again["id"])
    case = liaison.complete(again["id"], evidence=[before["id"], after["id"]], action="feedback",
                            result="已更换破损管段，检测合格")
    assert case["status"] == "verifying" and case["tasks"][0]["assignee"] == "worker"
    [completed] = [e for e in case["timeline"] if e["kind"] == "completed" and e["task_id"] == again["id"]]
    assert [a["sha256"] for a in completed["payload"]["attachments"]] == [before["sha256"], after["sha256"]]
    assert liaison.inbox("handle_case") == []

    # the supervisor escalates the re-dispatched case, which sits unhandled, to the city
    case = supervisor.post(f"cases/{blocked['id']}/escalate", {"reason": "占道问题反复出现，需市级协调"})
    assert case["counters"]["escalations"] == 1 and case["responsible_level"] == 0
    assert [t["name"] for t in case["tasks"]] == ["review_escalation"]

    # and checks the record of the day
    for case_id in (blocked["id"], leaking["id"]):
        assert supervisor.get(f"cases/{case_id}/timeline/verify")["intact"] is True
    kinds = [e["kind"] for e in supervisor.get(f"cases/{blocked['id']}/timeline")]
    assert {"claimed", "commented", "returned", "escalation_requested", "escalated"} <= set(kinds)
    [escalated] = [e for e in supervisor.get(f"cases/{blocked['id']}/timeline") if e["kind"] == "escalated"]
    assert escalated["reason"] == "占道问题反复出现，需市级协调" and escalated["actor"] == "supervisor"
    extended = [e for e in supervisor.get(f"cases/{leaking['id']}/timeline") if e["kind"] == "extended"]
    assert len(extended) == 1
