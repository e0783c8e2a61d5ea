"""The timeline is a sealed chain whose head the case row keeps: a change, an insertion, a deletion anywhere
(the last event and all of them included) and a rewrite with every later hash recomputed are all found, and
where. Only the key, which never enters the database, can seal an event."""
import hashlib
import json

import pytest
from sqlalchemy import select, text

from engine.store import timeline
from engine.store.model import TimelineEvent

CASE = {"type": "dispute", "title": "邻里纠纷"}


@pytest.fixture
def case_id(client, login) -> int:
    """A filed dispute, registered and commented on: six events or so."""
    worker, leader = login("worker"), login("leader")
    case = client.post("/api/v1/cases", headers=worker, json=CASE).json
    client.post(f"/api/v1/tasks/{case['tasks'][0]['id']}/complete", headers=leader,
                json={"data": {"decision": "valid", "risk": "low", "violence": False}})
    client.post(f"/api/v1/cases/{case['id']}/comments", headers=worker, json={"text": "still noisy"})
    return case["id"]


@pytest.fixture
def sql(app):
    def run(statement: str, **params):
        with app.extensions["gridflow"].sessions() as session:
            session.execute(text(statement), params)
            session.commit()
    return run


@pytest.fixture
def check(client, login, case_id):
    return lambda: client.get(f"/api/v1/cases/{case_id}/timeline/verify", headers=login("worker")).json


def events(app, case_id) -> list[TimelineEvent]:
    with app.extensions["gridflow"].sessions() as session:
        return list(session.scalars(select(TimelineEvent).where(TimelineEvent.case_id == case_id)
                                    .order_by(TimelineEvent.seq)))


def test_an_untouched_timeline_verifies_against_the_cases_head(client, login, case_id, check):
    listed = client.get(f"/api/v1/cases/{case_id}/timeline", headers=login("worker")).json
    assert [e["seq"] for e in listed] == list(range(1, len(listed) + 1)) and len(listed) >= 4
    assert check() == {"intact": True, "events": len(listed), "recorded": len(listed), "broken_at": None,
                       "reason": None}


def test_a_changed_event_is_found(case_id, sql, check):
    sql("UPDATE timeline_events SET reason = 'rewritten' WHERE case_id = :c AND seq = 2", c=case_id)
    result = check()
    assert (result["intact"], result["broken_at"]) == (False, 2) and "seal" in result["reason"]


def test_a_changed_actor_id_is_found(app, case_id, sql, check):
    first = events(app, case_id)[0]
    sql("UPDATE timeline_events SET actor_id = (SELECT id FROM users WHERE username = 'admin') WHERE id = :e",
        e=first.id)
    assert (check()["intact"], check()["broken_at"]) == (False, 1)


def test_a_deleted_event_in_the_middle_is_found(case_id, sql, check):
    sql("DELETE FROM timeline_events WHERE case_id = :c AND seq = 2", c=case_id)
    result = check()
    assert (result["intact"], result["broken_at"]) == (False, 2) and "event 2 is missing" in result["reason"]


def test_deleting_the_last_event_is_found(app, case_id, sql, check):
    last = events(app, case_id)[-1].seq
    sql("DELETE FROM timeline_events WHERE case_id = :c AND seq = :s", c=case_id, s=last)
    result = check()
    assert (result["intact"], result["broken_at"], result["events"], result["recorded"]) == \
        (False, last, last - 1, last)
    assert f"event {last} is missing" in result["reason"]


def test_deleting_every_event_is_found(case_id, sql, check):
    sql("DELETE FROM timeline_events WHERE case_id = :c", c=case_id)
    result = check()
    assert (result["intact"], result["events"], result["broken_at"]) == (False, 0, 1)
    assert "all" in result["reason"]


def test_cutting_the_end_off_and_moving_the_head_back_is_found(app, case_id, sql, check):
    *kept, cut = events(app, case_id)
    sql("DELETE FROM timeline_events WHERE id = :e", e=cut.id)
    # the head made to point at the new last event; its seal cannot be made without the key, so the best a
    # database-only attacker has is a seal they saw before (here the deleted event's link, the previous hash)
    sql("UPDATE cases SET timeline_seq = :s, timeline_hash = :h, timeline_seal = :p WHERE id = :c",
        s=kept[-1].seq, h=kept[-1].hash, p=cut.prev_hash, c=case_id)
    result = check()
    assert (result["intact"], result["broken_at"]) == (False, kept[-1].seq) and "head" in result["reason"]


def test_a_rewrite_with_every_later_hash_recomputed_is_found(app, case_id, sql, check):
    chain = events(app, case_id)
    previous = chain[0].hash
    for e in chain[1:]:  # what the unkeyed chain allowed: change event 2, recompute it and everything after it
        reason = "rewritten" if e.seq == 2 else e.reason
        body = json.dumps([timeline.SCHEME, previous, e.case_id, e.seq, e.at.isoformat(), e.actor_id, e.actor,
                           e.kind, e.task_id, reason, e.payload], sort_keys=True, ensure_ascii=False,
                          separators=(",", ":"))
        digest = hashlib.sha256(body.encode()).hexdigest()
        sql("UPDATE timeline_events SET reason = :r, prev_hash = :p, hash = :h WHERE id = :e",
            r=reason, p=previous, h=digest, e=e.id)
        previous = digest
    sql("UPDATE cases SET timeline_hash = :h WHERE id = :c", h=previous, c=case_id)
    result = check()
    assert (result["intact"], result["broken_at"]) == (False, 2) and "seal" in result["reason"]


def test_the_chain_only_verifies_under_its_own_key(app, case_id):
    sessions = app.extensions["gridflow"].sessions
    with sessions() as session:
        assert timeline.verify(session, case_id)["intact"]
    with sessions(info={"timeline_key": b"a key that is not the one"}) as session:
        assert timeline.verify(session, case_id) == {**timeline.verify(session, case_id), "intact": False,
                                                     "broken_at": 1}


def test_another_towns_user_cannot_read_or_verify_the_timeline(client, login, case_id):
    outsider = login("shuitou_worker")
    assert client.get(f"/api/v1/cases/{case_id}/timeline", headers=outsider).status_code == 404
    assert client.get(f"/api/v1/cases/{case_id}/timeline/verify", headers=outsider).status_code == 404


def test_a_chain_written_by_a_clock_in_shanghai_time_verifies(client, login, clock):
    """The column gives times back in UTC: the seal is made over the same instant in UTC, whatever the clock's zone."""
    from datetime import datetime
    from zoneinfo import ZoneInfo
    clock.set(datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    case = client.post("/api/v1/cases", headers=login("worker"), json=CASE).json
    verified = client.get(f"/api/v1/cases/{case['id']}/timeline/verify", headers=login("worker")).json
    assert verified["intact"] is True and verified["events"] >= 2
