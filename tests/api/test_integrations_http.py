"""The admin API for partner keys and webhook endpoints: admins only, keys shown once, validation, the log."""
from engine.cases import services
from tests.helpers import user_id


def test_partner_keys_are_shown_once_and_revoked(client, login):
    admin = login("admin")
    created = client.post("/api/v1/admin/partner-keys", headers=admin, json={
        "partner": "12345 热线", "username": "leader", "grid_code": "350583106201-06"})
    assert created.status_code == 201 and created.json["key"].startswith("gfp_")
    assert created.json["key"].startswith(created.json["prefix"])
    listed = client.get("/api/v1/admin/partner-keys", headers=admin).json
    assert [k["partner"] for k in listed] == ["12345 热线"] and "key" not in listed[0]
    revoke = f"/api/v1/admin/partner-keys/{created.json['id']}/revoke"
    assert client.post(revoke, headers=admin).json["active"] is False
    assert client.post(revoke, headers=admin).status_code == 409
    wrong = client.post("/api/v1/admin/partner-keys", headers=admin, json={
        "partner": "x", "username": "judicial", "grid_code": "nope"})
    assert wrong.status_code == 422 and {"username", "grid_code"} <= set(wrong.json["errors"])
    assert client.get("/api/v1/admin/partner-keys", headers=login("supervisor")).status_code == 403


def test_webhook_endpoints_pause_resume_and_the_delivery_log(app, client, login):
    admin = login("admin")
    bad = client.post("/api/v1/admin/webhooks", headers=admin, json={
        "name": "x", "url": "ftp://example.org", "events": ["case.filed"]})
    assert bad.status_code == 422 and "url" in bad.json["errors"]
    assert client.post("/api/v1/admin/webhooks", headers=admin, json={
        "name": "x", "url": "http://127.0.0.1:9/", "events": ["case.nope"]}).status_code == 422
    created = client.post("/api/v1/admin/webhooks", headers=admin, json={
        "name": "热线", "url": "http://127.0.0.1:9/hook", "events": ["case.filed", "case.closed"],
        "grid_code": "350583106"})
    assert created.status_code == 201 and created.json["secret"].startswith("whsec_")
    endpoint = created.json["id"]
    deps = app.extensions["gridflow"]
    services.file_case(deps, user_id(deps, "worker"), services.NewCase(type="dispute", title="纠纷"))
    services.file_case(deps, user_id(deps, "shuitou_worker"), services.NewCase(type="dispute", title="纠纷"))
    log = client.get(f"/api/v1/admin/webhooks/{endpoint}/deliveries", headers=admin).json
    assert [(d["event"], d["status"], d["attempts"]) for d in log] == [("case.filed", "pending", 0)]  # its subtree
    assert client.get("/api/v1/admin/webhooks", headers=admin).json[0]["pending"] == 1
    assert client.post(f"/api/v1/admin/webhooks/{endpoint}/pause", headers=admin).json["status"] == "paused"
    assert client.post(f"/api/v1/admin/webhooks/{endpoint}/pause", headers=admin).status_code == 409
    assert client.post(f"/api/v1/admin/webhooks/{endpoint}/resume", headers=admin).json["status"] == "active"
    again = client.post(f"/api/v1/admin/webhook-deliveries/{log[0]['id']}/redeliver", headers=admin)
    assert again.status_code == 200 and again.json["status"] == "pending"
    assert client.get("/api/v1/admin/webhooks/999/deliveries", headers=admin).status_code == 404
    assert client.get("/api/v1/admin/webhooks", headers=login("worker")).status_code == 403
