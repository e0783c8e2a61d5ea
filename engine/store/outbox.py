"""The webhook outbox: case events written in the same transaction as the change that caused them.

One place decides what goes out, from hooks on every service session (engine/store/db.py): the timeline events
a transaction writes (a case filed, a task assigned, an SLA warning or breach, a supervision order, a case
closed), as they are written, and the cases whose status changes, at each flush. For each one that some
webhook endpoint wants it keeps a `webhook_events` row and a pending `webhook_deliveries` row per endpoint,
which a `before_commit` hook writes, in the same transaction, just before it commits. So an event is in the
database exactly when its change is: a rollback takes both away, a commit keeps both, and nothing is sent
from inside the transaction. The worker sends them after commit (engine/deadlines/delivery.py).

The endpoints are read once per session, only when something of interest is flushed; with no endpoint no
row is written.
"""
from sqlalchemy import insert, inspect, select
from sqlalchemy.orm import Session

from engine.store import timeline as chain
from engine.store.model import Case, Grid, TimelineEvent, WebhookDelivery, WebhookEndpoint, WebhookEvent

KINDS = {  # timeline kind -> webhook event type
    "filed": "case.filed",
    "assigned": "task.assigned",
    "delegated": "task.assigned",
    "sla_warning": "sla.warning",
    "sla_breached": "sla.breached",
    "supervision_ordered": "supervision.ordered",
    "closed": "case.closed",
}
STATUS_CHANGED = "case.status_changed"
EVENT_TYPES = ("case.filed", STATUS_CHANGED, "task.assigned", "sla.warning", "sla.breached", "supervision.ordered",
               "case.closed")
WRITTEN = "webhook_events_written"  # session.info flag: the unit of work wakes the delivery worker after commit
_ENDPOINTS = "webhook_endpoints"
_PENDING = "webhook_outbox"  # session.info: (event row, endpoint ids) collected by flushes, written at commit


def collect(session: Session, _flush_context, _instances) -> None:
    """before_flush: the outbox rows for the cases whose status is about to change, kept in the session until
    its commit (`write`)."""
    moved = [c for c in session.dirty if isinstance(c, Case) and _status_change(c)]
    if not moved or not _endpoints(session):
        return
    items = []  # (case id, order, case, type, at, fields)
    for case in moved:  # after the events so far, but before the closing (which may not be written yet)
        before, after = _status_change(case)
        closing = [e.seq for e in chain.pending(session) if e.case_id == case.id and e.kind == "closed"]
        order = closing[0] - 0.5 if closing else chain.head_seq(session, case) + 0.5
        items.append((case.id, order, case, STATUS_CHANGED, case.updated_at, {"from": before, "to": after}))
    _keep(session, items)


def collect_events(session: Session, events: list[TimelineEvent]) -> None:
    """As the timeline writes a transaction's events: the outbox rows for those of interest."""
    events = [e for e in events if _kind(e)]
    if not events or not _endpoints(session):
        return
    _keep(session, [(e.case_id, e.seq, session.get(Case, e.case_id), _kind(e), e.at, {
        "seq": e.seq, "kind": e.kind, "actor": e.actor, "task_id": e.task_id, "reason": e.reason,
        "detail": e.payload or {}}) for e in events])


def _keep(session: Session, items: list) -> None:
    endpoints = _endpoints(session)
    events, targets, orders = [], [], []
    for case_id, order, case, kind, at, fields in sorted(items, key=lambda i: (i[0], i[1])):
        wanted = [(eid, path) for eid, kinds, path in endpoints if kind in kinds]
        if not wanted:
            continue
        grid = session.get(Grid, case.grid_id)
        chosen = [eid for eid, path in wanted if path is None or grid.path.startswith(path)]
        if not chosen:
            continue
        events.append({"case_id": case_id, "type": kind, "created_at": at, "payload": {
            "type": kind, "case_id": case_id, "case_number": case.number, "case_type": case.type,
            "status": case.status, "grid": grid.code, "at": at.isoformat(), **fields}})
        targets.append(chosen)
        orders.append((case_id, order))
    if events:
        session.info.setdefault(_PENDING, []).extend(zip(events, targets, orders, strict=True))


def write(session: Session) -> None:
    """before_commit: the last flush first (it may hold more events), then every event collected in this
    transaction and its deliveries, with two Core INSERTs however many flushes, events and endpoints: no
    unit-of-work bookkeeping per row. The case rows they point at are in the database by then."""
    session.flush()
    pending = sorted(session.info.pop(_PENDING, ()), key=lambda p: p[2])  # in each case's order, across flushes
    if not pending:
        return
    event_ids = session.execute(insert(WebhookEvent).returning(WebhookEvent.id, sort_by_parameter_order=True),
                                [e for e, _chosen, _order in pending]).scalars().all()
    session.execute(insert(WebhookDelivery), [
        {"endpoint_id": endpoint_id, "event_id": event_id, "case_id": e["case_id"], "status": "pending",
         "attempts": 0, "next_at": e["created_at"], "created_at": e["created_at"]}
        for event_id, (e, chosen, _order) in zip(event_ids, pending, strict=True) for endpoint_id in chosen])
    session.info[WRITTEN] = True


def forget(session: Session, transaction) -> None:
    """after_transaction_end: whatever was collected for a transaction that ended without writing it (rolled
    back) is dropped with it."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def _kind(event: TimelineEvent) -> str | None:
    """The webhook event type of a timeline event, if any: a task opened already assigned (to the reporter,
    for verification) is an assignment too."""
    if event.kind == "task_opened":
        return "task.assigned" if (event.payload or {}).get("assignee_id") else None
    return KINDS.get(event.kind)


def _status_change(case: Case):
    """(before, after) when the case's status is being changed in this flush, else None."""
    if case not in inspect(case).session.dirty:
        return None
    history = inspect(case).attrs.status.history
    if not history.added or not history.deleted or history.added[0] == history.deleted[0]:
        return None
    return history.deleted[0], history.added[0]


def _endpoints(session: Session) -> list:
    """(id, events, grid path or None) of every endpoint, read once per session."""
    if _ENDPOINTS not in session.info:
        rows = session.execute(select(WebhookEndpoint.id, WebhookEndpoint.events, Grid.path)
                               .outerjoin(Grid, Grid.id == WebhookEndpoint.grid_id)).all()
        session.info[_ENDPOINTS] = [(r.id, set(r.events or ()), r.path) for r in rows]
    return session.info[_ENDPOINTS]


def forget_endpoints(session: Session) -> None:
    """The endpoints changed in this session: read them again next time."""
    session.info.pop(_ENDPOINTS, None)
