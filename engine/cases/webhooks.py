"""Webhook endpoints, managed by admins: where case events go, their delivery log, pausing, redelivery.

What is sent and when is the outbox's business (engine/store/outbox.py) and the workers'
(engine/deadlines/delivery.py); this module is the admin's side of it.
"""
import re
import secrets

from sqlalchemy import func, select

from engine.deps import Deps
from engine.errors import ConflictError, NotFoundError, PermissionDenied, ValidationError
from engine.people import access
from engine.places import grid as grids
from engine.store import outbox
from engine.store.model import Grid, WebhookDelivery, WebhookEndpoint, WebhookEvent

EVENT_TYPES = outbox.EVENT_TYPES
URL = re.compile(r"^https?://[^\s/?#]+(/\S*)?$")
DELIVERY_STATUSES = ("pending", "delivered", "failed")


def _admin(session, actor_id: int):
    actor = access.actor(session, actor_id)
    if actor.role != "admin":
        raise PermissionDenied("only an admin manages webhooks")
    return actor


def create_endpoint(deps: Deps, actor_id: int, name: str, url: str, events, grid_code: str | None = None,
                    secret: str | None = None) -> dict:
    """Register an endpoint; its secret (generated unless given) is in the answer, to set up the receiver."""
    name, url, events = (name or "").strip(), (url or "").strip(), list(dict.fromkeys(events or ()))
    errors = {}
    if not 1 <= len(name) <= 100:
        errors["name"] = ["Use 1 to 100 characters."]
    if not URL.match(url) or len(url) > 500:
        errors["url"] = ["An http or https URL of at most 500 characters."]
    if not events or any(e not in EVENT_TYPES for e in events):
        errors["events"] = [f"Choose one or more of: {', '.join(EVENT_TYPES)}."]
    secret = secret.strip() if secret else "whsec_" + secrets.token_urlsafe(32)
    if not 16 <= len(secret) <= 128:
        errors["secret"] = ["Use 16 to 128 characters."]
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        admin = _admin(session, actor_id)
        grid = None
        if grid_code:
            try:
                grid = grids.by_code(session, grid_code.strip())
            except NotFoundError:
                errors["grid_code"] = ["Unknown grid code."]
        if errors:
            raise ValidationError("the webhook endpoint is not valid", errors)
        endpoint = WebhookEndpoint(name=name, url=url, secret=secret, events=events, grid_id=grid.id if grid else None,
                                   status="active", created_by_id=admin.id, created_at=now)
        session.add(endpoint)
        uow.commit()
        return {**_endpoint(endpoint, grid.code if grid else None), "secret": secret}


def list_endpoints(deps: Deps, actor_id: int) -> list[dict]:
    """Every endpoint with how many of its deliveries are pending and failed."""
    with deps.uow() as uow:
        session = uow.session
        _admin(session, actor_id)
        counts = {}
        for endpoint_id, status, count in session.execute(
                select(WebhookDelivery.endpoint_id, WebhookDelivery.status, func.count())
                .where(WebhookDelivery.status.in_(("pending", "failed")))
                .group_by(WebhookDelivery.endpoint_id, WebhookDelivery.status)):
            counts.setdefault(endpoint_id, {})[status] = count
        rows = session.execute(select(WebhookEndpoint, Grid.code).outerjoin(Grid, Grid.id == WebhookEndpoint.grid_id)
                               .order_by(WebhookEndpoint.id))
        return [{**_endpoint(e, code), "pending": counts.get(e.id, {}).get("pending", 0),
                 "failed": counts.get(e.id, {}).get("failed", 0)} for e, code in rows]


def get_endpoint(deps: Deps, actor_id: int, endpoint_id: int) -> dict:
    for endpoint in list_endpoints(deps, actor_id):
        if endpoint["id"] == endpoint_id:
            return endpoint
    raise NotFoundError(f"webhook endpoint {endpoint_id} not found")


def set_paused(deps: Deps, actor_id: int, endpoint_id: int, paused: bool) -> dict:
    """Pause an endpoint (its events wait), or resume it: its failed deliveries are tried again first, in order."""
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        _admin(session, actor_id)
        endpoint = session.get(WebhookEndpoint, endpoint_id, with_for_update=True)
        if endpoint is None:
            raise NotFoundError(f"webhook endpoint {endpoint_id} not found")
        if paused:
            if endpoint.status == "paused":
                raise ConflictError("the endpoint is already paused")
            endpoint.status, endpoint.paused_at, endpoint.pause_reason = "paused", now, "paused by an admin"
        else:
            if endpoint.status == "active":
                raise ConflictError("the endpoint is not paused")
            endpoint.status, endpoint.paused_at, endpoint.pause_reason = "active", None, None
            for delivery in session.scalars(select(WebhookDelivery).where(
                    WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == "failed")):
                delivery.status, delivery.attempts, delivery.next_at, delivery.leased_until = "pending", 0, now, None
            session.info[outbox.WRITTEN] = True  # wake a worker after commit
        uow.commit()
        grid = session.get(Grid, endpoint.grid_id).code if endpoint.grid_id else None
        return _endpoint(endpoint, grid)


def deliveries(deps: Deps, actor_id: int, endpoint_id: int, status: str | None = None,
               limit: int = 100) -> list[dict]:
    """An endpoint's delivery log, newest first: event, case, status, attempts, last answer and time."""
    with deps.uow() as uow:
        session = uow.session
        _admin(session, actor_id)
        if session.get(WebhookEndpoint, endpoint_id) is None:
            raise NotFoundError(f"webhook endpoint {endpoint_id} not found")
        query = (select(WebhookDelivery, WebhookEvent.type, WebhookEvent.payload)
                 .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
                 .where(WebhookDelivery.endpoint_id == endpoint_id)
                 .order_by(WebhookDelivery.id.desc()).limit(max(1, min(limit, 500))))
        if status:
            query = query.where(WebhookDelivery.status == status)
        return [_delivery(d, kind, payload) for d, kind, payload in session.execute(query)]


def redeliver(deps: Deps, actor_id: int, delivery_id: int) -> dict:
    """Send a delivery again by hand: a pending or failed one now, in its place; a delivered one as a new
    delivery of the same event."""
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        _admin(session, actor_id)
        delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
        if delivery is None:
            raise NotFoundError(f"webhook delivery {delivery_id} not found")
        if delivery.status == "delivered":
            delivery = WebhookDelivery(endpoint_id=delivery.endpoint_id, event_id=delivery.event_id,
                                       case_id=delivery.case_id, status="pending", attempts=0, next_at=now,
                                       created_at=now)
            session.add(delivery)
        else:
            delivery.status, delivery.attempts, delivery.next_at, delivery.leased_until = "pending", 0, now, None
        session.flush()
        event = session.get(WebhookEvent, delivery.event_id)
        session.info[outbox.WRITTEN] = True
        uow.commit()
        return _delivery(delivery, event.type, event.payload)


def _endpoint(e: WebhookEndpoint, grid_code: str | None) -> dict:
    return {"id": e.id, "name": e.name, "url": e.url, "events": list(e.events), "grid_code": grid_code,
            "status": e.status, "paused_at": e.paused_at, "pause_reason": e.pause_reason,
            "created_at": e.created_at}


def _delivery(d: WebhookDelivery, kind: str, payload: dict) -> dict:
    return {"id": d.id, "endpoint_id": d.endpoint_id, "event_id": d.event_id, "event": kind,
            "case_id": d.case_id, "case_number": payload.get("case_number"), "status": d.status,
            "attempts": d.attempts, "response_code": d.response_code, "error": d.last_error,
            "created_at": d.created_at, "last_at": d.last_at, "next_at": d.next_at if d.status == "pending" else None,
            "delivered_at": d.delivered_at}
