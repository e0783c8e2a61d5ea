"""Campaigns over HTTP: launch, the worker's assignments, submit with a photo and a finding, return and resubmit,
accept, progress by area, cancel; out of scope answers 404; the OpenAPI document lists the endpoints."""
import base64

from sqlalchemy import select

from engine.store.model import Case, Finding

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64).decode()
FORM = [{"name": "rooms", "kind": "count", "title": "出租房间数"},
        {"name": "fire_exit", "kind": "bool", "title": "消防通道畅通"},
        {"name": "photo", "kind": "photo", "title": "现场照片"}]


def test_a_campaign_over_http(client, login, app):
    supervisor, worker, leader = login("supervisor"), login("worker"), login("leader")
    refused = client.post("/api/v1/campaigns", headers=worker, json={"title": "x", "form": FORM, "working_days": 2})
    assert refused.status_code == 403
    bad = client.post("/api/v1/campaigns", headers=supervisor, json={"title": "出租房屋摸排", "form": FORM,
                                                                     "working_days": 0})
    assert bad.status_code == 422 and "working_days" in bad.json["errors"]
    launched = client.post("/api/v1/campaigns", headers=supervisor, json={
        "title": "出租房屋摸排", "instructions": "逐户核查", "form": FORM, "working_days": 2,
        "root_grid_code": "350583106201", "target_level": 4, "recurrence": "monthly"})
    assert launched.status_code == 201, launched.json
    campaign = launched.json
    assert campaign["expected"] == 3 and campaign["submitted"] == 0 and campaign["recurrence"] == "monthly"
    assert campaign["events"][0]["kind"] == "launched" and campaign["due_at"].endswith("+08:00")

    [mine] = client.get("/api/v1/campaign-assignments", headers=worker).json
    assert mine["grid_code"] == "350583106201-06-01" and mine["status"] == "issued"
    detail = client.get(f"/api/v1/campaign-assignments/{mine['id']}", headers=worker).json
    assert detail["actions"] == ["accept", "submit"] and [f["name"] for f in detail["form"]] == ["rooms", "fire_exit",
                                                                                               "photo"]
    no_photo = client.post(f"/api/v1/campaign-assignments/{mine['id']}/submit", headers=worker,
                           json={"data": {"rooms": 4, "fire_exit": True}})
    assert no_photo.status_code == 422 and "photo" in str(no_photo.json["errors"])
    sent = client.post(f"/api/v1/campaign-assignments/{mine['id']}/submit", headers=worker, json={
        "data": {"rooms": 4, "fire_exit": False}, "photos": [{"filename": "a.png", "content_base64": PNG}],
        "findings": [{"type": "work_safety", "title": "出租屋消防通道堵塞", "severity": "high"}]})
    assert sent.status_code == 201, sent.json
    assert sent.json["assignment"]["status"] == "submitted"
    assert sent.json["assignment"]["submissions"][0]["photos"][0]["content_type"] == "image/png"

    # the one who submitted may not review it; the leader above returns it with a reason, then accepts
    assert client.post(f"/api/v1/campaign-assignments/{mine['id']}/review", headers=worker,
                       json={"approved": True}).status_code == 403
    no_reason = client.post(f"/api/v1/campaign-assignments/{mine['id']}/review", headers=leader,
                            json={"approved": False})
    assert no_reason.status_code == 422
    back = client.post(f"/api/v1/campaign-assignments/{mine['id']}/review", headers=leader,
                       json={"approved": False, "reason": "房间数与登记不符"})
    assert back.status_code == 200 and back.json["status"] == "returned"
    again = client.post(f"/api/v1/campaign-assignments/{mine['id']}/submit", headers=worker, json={
        "data": {"rooms": 5, "fire_exit": False}, "photos": [{"filename": "b.png", "content_base64": PNG}]})
    assert again.status_code == 201
    ok = client.post(f"/api/v1/campaign-assignments/{mine['id']}/review", headers=leader, json={"approved": True})
    assert ok.status_code == 200 and ok.json["status"] == "approved"

    progress = client.get(f"/api/v1/campaigns/{campaign['id']}/progress", headers=supervisor).json
    assert progress["grid"]["code"] == "350583106201"
    assert {c["code"]: (c["expected"], c["submitted"], c["accepted"]) for c in progress["children"]} == {
        "350583106201-06": (2, 1, 1), "350583106201-07": (1, 0, 0)}
    assert progress["grid"]["totals"] == {"rooms": 5}
    assert progress["grids"]["350583106201-06-01"] == "accepted"

    deps = app.extensions["gridflow"]
    with deps.uow() as uow:
        [(finding, case)] = uow.session.execute(select(Finding, Case).join(Case, Case.id == Finding.case_id)).all()
    assert case.type == "work_safety" and finding.campaign_id == campaign["id"]
    timeline = client.get(f"/api/v1/cases/{case.id}/timeline", headers=supervisor).json
    assert any(e["kind"] == "campaign_finding" for e in timeline)
    assert client.get(f"/api/v1/campaigns/{campaign['id']}", headers=supervisor).json["findings"][0]["case_id"] == \
        case.id

    # another town sees nothing: 404 for the campaign, its progress, its assignments; an empty list
    other = login("shuitou_supervisor")
    assert client.get("/api/v1/campaigns", headers=other).json == []
    for path in (f"/api/v1/campaigns/{campaign['id']}", f"/api/v1/campaigns/{campaign['id']}/progress",
                 f"/api/v1/campaign-assignments/{mine['id']}"):
        assert client.get(path, headers=other).status_code == 404
    assert client.post(f"/api/v1/campaigns/{campaign['id']}/cancel", headers=other,
                       json={"reason": "x"}).status_code == 404

    cancelled = client.post(f"/api/v1/campaigns/{campaign['id']}/cancel", headers=supervisor,
                            json={"reason": "区里统一部署，改期进行"})
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert cancelled.json["events"][-1]["reason"] == "区里统一部署，改期进行"
    assert client.get("/api/v1/campaign-assignments", headers=worker).json == []

    spec = client.get("/api/v1/openapi.json").json
    assert {"/api/v1/campaigns", "/api/v1/campaigns/{campaign_id}/progress",
            "/api/v1/campaign-assignments/{assignment_id}/submit"} <= set(spec["paths"])
