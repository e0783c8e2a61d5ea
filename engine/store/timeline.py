"""The case timeline: append-only events, each sealed together with the seal of the one before.

Each event's `hash` is an HMAC-SHA256, under the timeline key, of every column of the event (case, seq, time,
actor id and name, kind, task, reason, payload) and the previous event's hash. The case row keeps the head:
the last seq and hash (`timeline_seq`, `timeline_hash`) and `timeline_seal`, an HMAC of the two, all updated
in the same transaction as each append. Verifying walks the events and compares the end with the head.

The key never enters the database: sessions carry it (`session.info["timeline_key"]`, set by
engine.store.db.make_session_factory from the GRIDFLOW_TIMELINE_KEY setting, by default derived from
SECRET_KEY). Someone who can change the database but does not hold the key cannot seal a changed, inserted or
re-ordered event, nor a shorter head; so a rewrite (with or without recomputing the later hashes), a deleted
event anywhere (the last one included) and deleting them all are reported. What stays possible for them: putting
back an *older copy* of a case's events together with its case row (a backup of both), which is a genuine
earlier state, and deleting a case row with its events altogether. Whoever holds the key and the database can
rewrite anything: the chain then proves nothing. docs/architecture.md has the threat model.
"""
import hashlib
import hmac
import json
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from engine.store.model import Case, TimelineEvent, column_values

PENDING, HEADS = "timeline_pending", "timeline_heads"  # session.info: events to write at commit, heads so far

GENESIS = "0" * 64
SYSTEM = "system"
SCHEME = "gridflow-timeline/2"  # the first scheme was unkeyed sha256 (migration 0010 re-sealed its events)


def event_hash(key: bytes, e) -> str:
    """The seal of one event (a TimelineEvent, or anything with its attributes): all its columns but the row id."""
    at = e.at.astimezone(UTC)  # as the column gives it back, whatever zone the clock that wrote it used
    return _mac(key, [SCHEME, e.prev_hash, e.case_id, e.seq, at.isoformat(), e.actor_id, e.actor, e.kind,
                      e.task_id, e.reason, e.payload])


def head_seal(key: bytes, case_id: int, seq: int, last_hash: str) -> str:
    """The seal of a case's head: no event's hash can stand in for it, so a shortened chain cannot be sealed."""
    return _mac(key, [SCHEME + "/head", case_id, seq, last_hash])


def append(session: Session, case_id: int, at: datetime, actor, kind: str, *, task_id=None,
           reason=None, payload=None) -> TimelineEvent:
    """Add an event to a case (whose row the caller has locked); the case's head moves with it in the same
    transaction. `actor` is a User or None.

    The events of a transaction are sealed as they come but written together when it commits (with the case's
    new head): one batch instead of an INSERT (and an UPDATE of the case) at each flush in between."""
    key = _key(session)
    heads = session.info.setdefault(HEADS, {})
    if case_id not in heads:
        case = session.get(Case, case_id)
        heads[case_id] = (case.timeline_seq or 0, case.timeline_hash or GENESIS)
    seq, previous = heads[case_id]
    event = TimelineEvent(
        case_id=case_id, seq=seq + 1, at=at, actor_id=actor.id if actor is not None else None,
        actor=actor.username if actor is not None else SYSTEM, kind=kind, task_id=task_id, reason=reason,
        payload=payload or {}, prev_hash=previous)
    event.hash = event_hash(key, event)
    session.info.setdefault(PENDING, []).append(event)
    heads[case_id] = (event.seq, event.hash)
    return event


def pending(session: Session) -> list[TimelineEvent]:
    """The events appended in this transaction and not written yet."""
    return list(session.info.get(PENDING, ()))


def head_seq(session: Session, case: Case) -> int:
    """The seq of the case's last event, counting those not written yet."""
    return session.info.get(HEADS, {}).get(case.id, (case.timeline_seq or 0, None))[0]


def write_pending(session: Session) -> list[TimelineEvent]:
    """Before a commit: move each case's head to its last event, flush the transaction's changes with the heads,
    then insert its events in one statement without asking their ids back (nothing needs them; an INSERT that
    returns ids costs several times as much). Returns the events written."""
    events = session.info.get(PENDING)
    if not events:
        return []
    key = _key(session)
    for case_id, (seq, last_hash) in session.info[HEADS].items():
        case = session.get(Case, case_id)
        if (case.timeline_seq or 0) != seq:
            case.timeline_seq, case.timeline_hash = seq, last_hash
            case.timeline_seal = head_seal(key, case_id, seq, last_hash)
    session.flush()  # with the events still pending: the outbox places a case's status change among them
    forget_pending(session)
    session.execute(insert(TimelineEvent.__table__), [column_values(e) for e in events])
    return events


def forget_pending(session: Session) -> None:
    """After a rollback: the events of the transaction that failed are not written."""
    session.info.pop(PENDING, None)
    session.info.pop(HEADS, None)


def verify(session: Session, case_id: int) -> dict:
    """Recompute a case's chain and compare its end with the case's head: intact, or the first thing wrong."""
    case = session.get(Case, case_id)
    events = session.scalars(select(TimelineEvent).where(TimelineEvent.case_id == case_id)
                             .order_by(TimelineEvent.seq))
    return verify_chain(_key(session), case_id, case.timeline_seq, case.timeline_hash, case.timeline_seal, events)


def verify_chain(key: bytes, case_id: int, recorded: int | None, head_hash: str | None, seal: str | None,
                 events) -> dict:
    """The check itself, on a case's head and its events in seq order (rows, or anything with their
    attributes, such as an archive's copy)."""
    recorded = recorded or 0
    previous, count = GENESIS, 0
    for e in events:
        count += 1
        if e.seq != count:
            return _broken(count, recorded, count, f"event {count} is missing (the next one found is {e.seq})")
        if e.prev_hash != previous:
            return _broken(count, recorded, count, f"event {count} does not follow event {count - 1}: "
                                                   "an event before it was replaced or removed")
        if not _same(e.hash, event_hash(key, e)):
            return _broken(count, recorded, count, f"event {count} does not match its seal: it was changed, "
                                                   "or sealed without the key")
        previous = e.hash
    if count == 0:  # a case is filed and its first event written in one transaction: never legitimately empty
        return _broken(0, recorded, 1, f"all {recorded or 'of its'} events are missing: the case has none")
    if count < recorded:
        what = f"events {count + 1} to {recorded} are missing" if count + 1 < recorded else \
            f"event {recorded} is missing"
        return _broken(count, recorded, count + 1, f"{what}: the case records {recorded}, the last found is {count}")
    if count > recorded:
        return _broken(count, recorded, recorded + 1, f"event {recorded + 1} was added after the last event the "
                                                      f"case records ({recorded})")
    if previous != head_hash or not _same(seal, head_seal(key, case_id, count, previous)):
        return _broken(count, recorded, count, "the case's record of its last event does not match event "
                                               f"{count}: the head was altered")
    return {"intact": True, "events": count, "recorded": recorded, "broken_at": None, "reason": None}


def _broken(count: int, recorded: int, at: int, reason: str) -> dict:
    return {"intact": False, "events": count, "recorded": recorded, "broken_at": at, "reason": reason}


def _same(stored: str | None, expected: str) -> bool:
    return hmac.compare_digest((stored or "").encode(), expected.encode())


def _mac(key: bytes, fields: list) -> str:
    body = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def _key(session: Session) -> bytes:
    try:
        return session.info["timeline_key"]
    except KeyError:
        raise RuntimeError("this session has no timeline key: make sessions with "
                           "engine.store.db.make_session_factory(engine, timeline_key)") from None
