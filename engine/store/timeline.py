"""The case timeline: append-only events, each chained to the one before by its hash."""
import hashlib
import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.store.model import TimelineEvent

GENESIS = "0" * 64
SYSTEM = "system"


def event_hash(prev_hash: str, case_id: int, seq: int, at: datetime, actor: str, kind: str,
               task_id: str | None, reason: str | None, payload: dict) -> str:
    """The hash of one event's content and its predecessor's hash."""
    body = json.dumps([prev_hash, case_id, seq, at.isoformat(), actor, kind, task_id, reason, payload],
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def append(session: Session, case_id: int, at: datetime, actor, kind: str, *, task_id=None,
           reason=None, payload=None) -> TimelineEvent:
    """Add an event to a case (whose row the caller has locked). `actor` is a User or None."""
    tails = session.info.setdefault("timeline_tails", {})  # per transaction: one read per case
    if case_id not in tails:
        last = session.execute(
            select(TimelineEvent.seq, TimelineEvent.hash).where(TimelineEvent.case_id == case_id)
            .order_by(TimelineEvent.seq.desc()).limit(1)
        ).first()
        tails[case_id] = (last.seq, last.hash) if last else (0, GENESIS)
    seq, prev = tails[case_id][0] + 1, tails[case_id][1]
    name = actor.username if actor is not None else SYSTEM
    payload = payload or {}
    event = TimelineEvent(
        case_id=case_id, seq=seq, at=at, actor_id=actor.id if actor is not None else None, actor=name,
        kind=kind, task_id=task_id, reason=reason, payload=payload, prev_hash=prev,
        hash=event_hash(prev, case_id, seq, at, name, kind, task_id, reason, payload),
    )
    session.add(event)
    tails[case_id] = (seq, event.hash)
    return event


def verify(session: Session, case_id: int) -> dict:
    """Recompute a case's hash chain: intact, or the first event whose hash or link does not hold."""
    previous, count = GENESIS, 0
    for e in session.scalars(select(TimelineEvent).where(TimelineEvent.case_id == case_id)
                             .order_by(TimelineEvent.seq)):
        count += 1
        expected = event_hash(e.prev_hash, e.case_id, e.seq, e.at, e.actor, e.kind, e.task_id, e.reason, e.payload)
        if e.seq != count or e.prev_hash != previous or e.hash != expected:
            why = ("a missing or reordered event" if e.seq != count else
                   "the link to the previous event is broken" if e.prev_hash != previous else
                   "the event's content does not match its hash")
            return {"intact": False, "events": count, "broken_at": e.seq, "reason": why}
        previous = e.hash
    return {"intact": True, "events": count, "broken_at": None, "reason": None}
