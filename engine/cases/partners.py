"""Partner keys: outside systems (the 12345 hotline, a city's app, another district) report through Open311.

A key is shown once when an admin creates it and stored as its sha256. It files as one user (whose role may
report) into one grid area; it can be revoked. Its filings go through services.file_case like any other,
with the partner on the `filed` event; the same report sent again within the retry window files once (the
report's fingerprint is its idempotency key, engine/cases/idempotency.py).
"""
import hashlib
import json
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from engine.cases import services
from engine.deps import Deps
from engine.errors import ConflictError, NotFoundError, PermissionDenied, ValidationError
from engine.people import access
from engine.places import grid as grids
from engine.store.model import Case, Grid, IdempotencyKey, PartnerKey, User

PREFIX = "gfp_"


@dataclass(frozen=True)
class Partner:
    """An authenticated partner key."""

    key_id: int
    partner: str
    user_id: int
    grid_code: str
    grid_path: str


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _admin(session, actor_id: int) -> User:
    actor = access.actor(session, actor_id)
    if actor.role != "admin":
        raise PermissionDenied("only an admin manages partner keys")
    return actor


def create_key(deps: Deps, actor_id: int, partner: str, username: str, grid_code: str) -> tuple[dict, str]:
    """A new key for `partner`, filing as `username` into `grid_code`'s subtree. Returns the row and the key,
    which is never shown again."""
    partner = (partner or "").strip()
    errors = {}
    if not 1 <= len(partner) <= 100:
        errors["partner"] = ["Use 1 to 100 characters."]
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        admin = _admin(session, actor_id)
        user = session.scalar(select(User).where(User.username == (username or "").strip()))
        if user is None or not user.active:
            errors["username"] = ["No active user with this username."]
        elif user.role not in access.REPORTING_ROLES:
            errors["username"] = [f"A {user.role} may not file cases; choose a grid worker, grid leader or admin."]
        try:
            grid = grids.by_code(session, (grid_code or "").strip())
        except NotFoundError:
            grid = None
            errors["grid_code"] = ["Unknown grid code."]
        if grid is not None and user is not None and "username" not in errors and user.role != "admin":
            home = access.user_grid_path(session, user)
            if home is None or not grids.within(grid.path, home):
                errors["grid_code"] = [f"Grid {grid.code} is outside the area of {user.username}."]
        if errors:
            raise ValidationError("the partner key is not valid", errors)
        key = PREFIX + secrets.token_urlsafe(32)
        row = PartnerKey(partner=partner, key_hash=_hash(key), prefix=key[:12], user_id=user.id, grid_id=grid.id,
                         created_by_id=admin.id, created_at=now)
        session.add(row)
        uow.commit()
        return _key(row, user.username, grid.code), key


def revoke_key(deps: Deps, actor_id: int, key_id: int) -> dict:
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        _admin(session, actor_id)
        row = session.get(PartnerKey, key_id)
        if row is None:
            raise NotFoundError(f"partner key {key_id} not found")
        if row.revoked_at is not None:
            raise ConflictError("the key is already revoked")
        row.revoked_at = now
        uow.commit()
        return _key(row, session.get(User, row.user_id).username, session.get(Grid, row.grid_id).code)


def list_keys(deps: Deps, actor_id: int) -> list[dict]:
    with deps.uow() as uow:
        session = uow.session
        _admin(session, actor_id)
        rows = session.execute(select(PartnerKey, User.username, Grid.code).join(User, User.id == PartnerKey.user_id)
                               .join(Grid, Grid.id == PartnerKey.grid_id).order_by(PartnerKey.id.desc()))
        return [_key(k, username, code) for k, username, code in rows]


def authenticate(deps: Deps, key: str | None) -> Partner:
    """The partner holding `key`; PermissionDenied for a missing, unknown or revoked key or an inactive user."""
    if not key:
        raise PermissionDenied("api_key is required")
    with deps.uow() as uow:
        row = uow.session.execute(
            select(PartnerKey, User.active, Grid.code, Grid.path).join(User, User.id == PartnerKey.user_id)
            .join(Grid, Grid.id == PartnerKey.grid_id).where(PartnerKey.key_hash == _hash(key))).first()
    if row is None or row.PartnerKey.revoked_at is not None or not row.active:
        raise PermissionDenied("the api_key is not valid")
    k = row.PartnerKey
    return Partner(k.id, k.partner, k.user_id, row.code, row.path)


def fingerprint(report: dict) -> str:
    """The same report (the same fields and values) gives the same fingerprint."""
    return hashlib.sha256(json.dumps(report, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:40]


def file_report(deps: Deps, partner: Partner, new: services.NewCase, report: dict, extra: dict) -> tuple[int, str]:
    """File a partner's report once per retry window; returns the case id and the report's token."""
    token = fingerprint(report)
    if new.grid_code is None and new.lat is None:
        new = services.NewCase(**{**new.__dict__, "grid_code": partner.grid_code})
    via = services.Via(partner.key_id, partner.partner, partner.grid_path, deps.partner_retry_window, extra)
    case_id = services.file_case(deps, partner.user_id, new, idempotency_key=f"open311:{token}", via=via)
    return case_id, token


def case_for_token(deps: Deps, partner: Partner, token: str) -> int | None:
    """The case a partner's report token filed, if any."""
    with deps.uow() as uow:
        return uow.session.scalar(select(IdempotencyKey.case_id).where(
            IdempotencyKey.user_id == partner.user_id, IdempotencyKey.key == f"open311:{token}"))


def visible(partner: Partner):
    """The cases a partner may read through Open311: those in its area."""
    return Case.grid_id.in_(select(Grid.id).where(Grid.path.startswith(partner.grid_path)))


def _key(k: PartnerKey, username: str, grid_code: str) -> dict:
    return {"id": k.id, "partner": k.partner, "prefix": k.prefix, "username": username, "grid_code": grid_code,
            "created_at": k.created_at, "revoked_at": k.revoked_at, "active": k.revoked_at is None}
