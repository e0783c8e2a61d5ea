"""Passwords (argon2), bearer tokens (random, stored only as their sha256) and sign-in throttling.

A browser session is a token too (kept in a signed cookie), so expiry and revocation work the same way.
Failed sign-ins are rows: more than FAILURES_PER_USER for one username, or FAILURES_PER_ADDRESS from one
address, within WINDOW, and sign-in is refused until the oldest of them leaves the window.
"""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, or_, select

from engine.deps import Deps
from engine.errors import AuthenticationError, NotFoundError, TooManyAttempts, ValidationError
from engine.store.model import ApiToken, LoginFailure, User

WINDOW = timedelta(minutes=15)
FAILURES_PER_USER = 5
FAILURES_PER_ADDRESS = 20
PASSWORD_LENGTH = (8, 200)  # as the user import requires

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("gridflow-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@dataclass(frozen=True)
class IssuedToken:
    id: int
    token: str
    expires_at: datetime
    user_id: int


def issue_token(deps: Deps, username: str, password: str, hours: int, address: str = "",
                name: str = "") -> IssuedToken:
    """Check a username and password (throttled) and hand out a new bearer token."""
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        _check_throttle(session, username, address, now)
        user = session.scalar(select(User).where(User.username == username))
        if not _password_matches(user, password):
            session.add(LoginFailure(username=username[:64], address=address[:64], at=now))
            session.execute(delete(LoginFailure).where(LoginFailure.at < now - WINDOW))
            uow.commit()
            raise AuthenticationError("wrong username or password")
        session.execute(delete(LoginFailure).where(LoginFailure.username == username))
        issued = _new_token(session, user.id, now, hours, name)
        uow.commit()
        return issued


def change_password(deps: Deps, user_id: int, old: str, new: str) -> None:
    """A user changes their own password, giving the old one; their tokens stay valid."""
    shortest, longest = PASSWORD_LENGTH
    if not shortest <= len(new) <= longest:
        raise ValidationError("the new password has the wrong length",
                              {"new_password": [f"Must be {shortest} to {longest} characters long."]})
    hashed = hash_password(new)  # before the transaction: argon2 takes a while
    with deps.uow() as uow:
        user = uow.session.get(User, user_id)
        if not _password_matches(user, old):
            raise ValidationError("the old password is wrong", {"old_password": ["Wrong password."]})
        user.password_hash = hashed
        uow.commit()


def grant_token(deps: Deps, user_id: int, hours: int, name: str = "") -> IssuedToken:
    """A token for a user already known to be who they say (tools, tests)."""
    with deps.uow() as uow:
        issued = _new_token(uow.session, user_id, deps.clock.now(), hours, name)
        uow.commit()
        return issued


def user_for_token(deps: Deps, token: str) -> tuple[User, int]:
    """The active user a live token belongs to, and the token's id."""
    with deps.uow() as uow:
        session = uow.session
        row = session.execute(
            select(User, ApiToken.id).join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None),
                   ApiToken.expires_at > deps.clock.now(), User.active.is_(True))).first()
        if row is None:
            raise AuthenticationError("the token is missing, expired or revoked")
        session.expunge(row[0])
        return row[0], row[1]


def list_tokens(deps: Deps, user_id: int) -> list[dict]:
    """The user's tokens that are neither revoked nor expired, newest first."""
    with deps.uow() as uow:
        tokens = uow.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None),
                                   ApiToken.expires_at > deps.clock.now())
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))
        return [{"id": t.id, "name": t.name, "created_at": t.created_at, "expires_at": t.expires_at}
                for t in tokens]


def revoke_token(deps: Deps, actor: User, token_id: int) -> None:
    """Revoke one of the actor's tokens (an admin may revoke anyone's)."""
    with deps.uow() as uow:
        token = uow.session.get(ApiToken, token_id)
        if token is None or (token.user_id != actor.id and actor.role != "admin"):
            raise NotFoundError(f"token {token_id} not found")
        token.revoked_at = token.revoked_at or deps.clock.now()
        uow.commit()


def _check_throttle(session, username: str, address: str, now: datetime) -> None:
    since = now - WINDOW
    by_user, by_address = session.execute(select(
        func.count().filter(LoginFailure.username == username),
        func.count().filter(LoginFailure.address == address),
        ).where(LoginFailure.at > since, or_(LoginFailure.username == username,
                                             LoginFailure.address == address))).one()
    if by_user >= FAILURES_PER_USER or (address and by_address >= FAILURES_PER_ADDRESS):
        oldest = session.scalar(select(func.min(LoginFailure.at)).where(
            LoginFailure.at > since, or_(LoginFailure.username == username, LoginFailure.address == address)))
        retry_after = max(1, int((oldest + WINDOW - now).total_seconds()) + 1)
        raise TooManyAttempts("too many failed sign-ins; try again later", retry_after)


def _password_matches(user: User | None, password: str) -> bool:
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return user is not None and user.active


def _new_token(session, user_id: int, now: datetime, hours: int, name: str) -> IssuedToken:
    token = secrets.token_urlsafe(32)
    row = ApiToken(user_id=user_id, token_hash=_digest(token), name=name, created_at=now,
                   expires_at=now + timedelta(hours=hours))
    session.add(row)
    session.flush()
    return IssuedToken(row.id, token, row.expires_at, user_id)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
