"""Sending webhooks: the deliveries the outbox wrote (engine/store/outbox.py), after commit, in the worker.

Like deadlines, deliveries are rows and Redis only wakes a worker. A worker leases a batch of due deliveries,
sends them in parallel threads (each request waits at most the policy's timeout), and records the answers in
one transaction. Per endpoint and case, only the oldest undelivered delivery may be leased, so a case's
events reach an endpoint in the order they happened, and a retry holds back the case's later events for that
endpoint (other cases and other endpoints go on). A 2xx answer delivers; anything else is retried with
exponential backoff (policy.backoff doubling up to policy.max_backoff) for about policy.retry_for; then the
delivery fails, the endpoint is paused and every admin is notified. A worker that dies while sending leaves
its lease to run out: the sweep wakes another worker, which sends again (at least once: receivers dedupe on
the delivery id). Nothing here runs inside a case's transaction, so a slow or failing endpoint never holds a
case up.
"""
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import aliased

from engine.deps import Deps, WebhookPolicy
from engine.store.model import Notification, User, WebhookDelivery, WebhookEndpoint, WebhookEvent

log = logging.getLogger(__name__)
SIGNATURE = "Gridflow-Signature"
BLOCKING = ("pending", "failed")  # an earlier delivery in either state holds back the case's later ones


@dataclass(frozen=True)
class Outgoing:
    id: int
    url: str
    secret: str
    event_id: int
    type: str
    body: bytes


@dataclass(frozen=True)
class Answer:
    id: int
    code: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.code is not None and 200 <= self.code < 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the secret>."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, now: float, tolerance: float = 300) -> bool:
    """What a receiver does: recompute the HMAC over "<t>.<body>", compare in constant time, refuse old stamps."""
    try:
        parts = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def max_attempts(policy: WebhookPolicy) -> int:
    """The first try and every retry whose backoff still fits in policy.retry_for."""
    waited, retries = timedelta(0), 0
    while waited + backoff(policy, retries + 1) <= policy.retry_for:
        waited += backoff(policy, retries + 1)
        retries += 1
    return retries + 1


def backoff(policy: WebhookPolicy, attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed try."""
    return min(policy.backoff * (2 ** (attempts - 1)), policy.max_backoff)


def _head():
    earlier = aliased(WebhookDelivery)
    return ~exists().where(earlier.endpoint_id == WebhookDelivery.endpoint_id,
                           earlier.case_id == WebhookDelivery.case_id, earlier.status.in_(BLOCKING),
                           earlier.id < WebhookDelivery.id)


def _due(now: datetime):
    return (WebhookDelivery.status == "pending") & (WebhookDelivery.next_at <= now) & or_(
        WebhookDelivery.leased_until.is_(None), WebhookDelivery.leased_until < now)


def lease(deps: Deps, limit: int = 20) -> tuple[list[Outgoing], datetime]:
    """Take up to `limit` due deliveries, each the oldest undelivered one of its endpoint and case, to active
    endpoints, and read what to send for them, in one transaction; returns them and the lease's end (which
    marks them as ours)."""
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        until = now + deps.webhooks.lease
        free = (select(WebhookDelivery.id).join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .where(_due(now), WebhookEndpoint.status == "active", _head())
                .order_by(WebhookDelivery.id).limit(limit).with_for_update(skip_locked=True, of=WebhookDelivery))
        taken = session.scalars(update(WebhookDelivery).where(WebhookDelivery.id.in_(free))
                                .values(leased_until=until).returning(WebhookDelivery.id)
                                .execution_options(synchronize_session=False)).all()
        rows = session.execute(
            select(WebhookDelivery.id, WebhookEndpoint.url, WebhookEndpoint.secret, WebhookEvent.id.label("event_id"),
                   WebhookEvent.type, WebhookEvent.payload)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.id.in_(taken)).order_by(WebhookDelivery.id)).all() if taken else []
        uow.commit()
    return [Outgoing(r.id, r.url, r.secret, r.event_id, r.type, json.dumps(
        {"id": r.event_id, "delivery_id": r.id, "type": r.type, "data": r.payload},
        ensure_ascii=False, sort_keys=True).encode()) for r in rows], until


def send(item: Outgoing, timeout: float) -> Answer:
    """POST one delivery, signed; never raises."""
    request = urllib.request.Request(item.url, data=item.body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "Gridflow-Webhooks/1",
        "Gridflow-Event": item.type, "Gridflow-Delivery": str(item.id), "Gridflow-Event-Id": str(item.event_id),
        SIGNATURE: sign(item.secret, int(time.time()), item.body)})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - admins' URLs
            response.read(64 * 1024)
            return Answer(item.id, response.status, None)
    except urllib.error.HTTPError as exc:
        return Answer(item.id, exc.code, f"HTTP {exc.code}")
    except Exception as exc:  # noqa: BLE001 - refused, timed out, bad URL: all a failed try
        return Answer(item.id, None, f"{type(exc).__name__}: {exc}"[:500])


def record(deps: Deps, answers: list[Answer], leased_until: datetime) -> list[datetime]:
    """Write the answers in one transaction; returns when retries are due, for the scheduler."""
    retries, limit = [], max_attempts(deps.webhooks)
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        deliveries = {d.id: d for d in session.scalars(select(WebhookDelivery).where(
            WebhookDelivery.id.in_([a.id for a in answers])).with_for_update())}
        for answer in answers:
            d = deliveries.get(answer.id)
            if d is None or d.status != "pending" or d.leased_until != leased_until:
                continue  # our lease ran out and another worker has it now
            d.attempts, d.last_at, d.response_code, d.last_error = d.attempts + 1, now, answer.code, answer.error
            d.leased_until = None
            if answer.ok:
                d.status, d.delivered_at = "delivered", now
            elif d.attempts >= limit:
                d.status = "failed"
                _pause(session, d, now)
            else:
                d.next_at = now + backoff(deps.webhooks, d.attempts)
                retries.append(d.next_at)
        uow.commit()
    return retries


def _pause(session, delivery: WebhookDelivery, now: datetime) -> None:
    """An endpoint that failed a delivery for about a day is paused, and every admin is told."""
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint.status == "paused":
        return
    endpoint.status, endpoint.paused_at = "paused", now
    endpoint.pause_reason = (f"delivery {delivery.id} failed {delivery.attempts} times: "
                             f"{delivery.last_error or delivery.response_code}")
    message = f"Webhook “{endpoint.name}” 已暂停：{endpoint.url} 连续 {delivery.attempts} 次投递失败"
    for admin_id in session.scalars(select(User.id).where(User.role == "admin", User.active.is_(True))):
        session.add(Notification(user_id=admin_id, case_id=delivery.case_id, kind="webhook_paused",
                                 message=message, created_at=now))


def deliver_batch(deps: Deps, limit: int = 20) -> tuple[int, int]:
    """Lease, send and record one batch. Returns (sent, delivered)."""
    items, until = lease(deps, limit)
    if not items:
        return 0, 0
    with ThreadPoolExecutor(max_workers=min(len(items), 16)) as pool:
        answers = list(pool.map(lambda item: send(item, deps.webhooks.timeout), items))
    for at in sorted(set(record(deps, answers, until)))[:1]:
        deps.scheduler.wake_webhooks(at)
    return len(items), sum(a.ok for a in answers)


def next_due(deps: Deps) -> datetime | None:
    """When the next sendable delivery (pending, first in its line, to an active endpoint) is due; a leased one
    when its lease ends."""
    with deps.uow() as uow:
        return uow.session.scalar(
            select(func.min(func.coalesce(WebhookDelivery.leased_until, WebhookDelivery.next_at)))
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.status == "pending", WebhookEndpoint.status == "active", _head()))
