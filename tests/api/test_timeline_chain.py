"""The timeline is hash-chained: a quiet change to any event is found, and where."""
from sqlalchemy import text

CASE = {"type": "dispute", "title": "邻里纠纷"}


def test_an_untouched_timeline_verifies_and_a_changed_event_is_found(client, login, app):
    worker = login("worker")
    case = client.post("/api/v1/cases", headers=worker, json=CASE).json
    listed = client.get(f"/api/v1/cases/{case['id']}/timeline", headers=worker).json
    assert [e["seq"] for e in listed] == list(range(1, len(listed) + 1))
    check = client.get(f"/api/v1/cases/{case['id']}/timeline/verify", headers=worker).json
    assert check == {"intact": True, "events": len(listed), "broken_at": None, "reason": None}
    with app.extensions["gridflow"].sessions() as session:
        session.execute(text("UPDATE timeline_events SET reason = 'rewritten' WHERE case_id = :c AND seq = 2"),
                        {"c": case["id"]})
        session.commit()
    check = client.get(f"/api/v1/cases/{case['id']}/timeline/verify", headers=worker).json
    assert (check["intact"], check["broken_at"]) == (False, 2)
    assert "content" in check["reason"]


def test_a_deleted_event_breaks_the_chain(client, login, app):
    worker = login("worker")
    case = client.post("/api/v1/cases", headers=worker, json=CASE).json
    with app.extensions["gridflow"].sessions() as session:
        session.execute(text("DELETE FROM timeline_events WHERE case_id = :c AND seq = 1"), {"c": case["id"]})
        session.commit()
    check = client.get(f"/api/v1/cases/{case['id']}/timeline/verify", headers=worker).json
    assert (check["intact"], check["broken_at"]) == (False, 2)


def test_another_towns_user_cannot_read_or_verify_the_timeline(client, login):
    case = client.post("/api/v1/cases", headers=login("worker"), json=CASE).json
    outsider = login("shuitou_worker")
    assert client.get(f"/api/v1/cases/{case['id']}/timeline", headers=outsider).status_code == 404
    assert client.get(f"/api/v1/cases/{case['id']}/timeline/verify", headers=outsider).status_code == 404
