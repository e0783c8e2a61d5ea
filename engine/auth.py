"""Passwords (argon2) and bearer tokens (random, stored only as their sha256)."""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from engine.deps import Deps
from engine.errors import AuthenticationError
from engine.model import ApiToken, User

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("gridflow-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime
    user_id: int


def issue_token(deps: Deps, username: str, password: str, hours: int) -> IssuedToken:
    """Check a username and password and hand out a new bearer token."""
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        user = session.scalar(select(User).where(User.username == username))
        try:
            _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            user = None
        if user is None or not user.active:
            raise AuthenticationError("wrong username or password")
        issued = _new_token(session, user.id, now, hours)
        uow.commit()
        return issued


def grant_token(deps: Deps, user_id: int, hours: int) -> IssuedToken:
    """A token for a user already known to be who they say (tools, tests)."""
    with deps.uow() as uow:
        issued = _new_token(uow.session, user_id, deps.clock.now(), hours)
        uow.commit()
        return issued


def _new_token(session, user_id: int, now: datetime, hours: int) -> IssuedToken:
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=hours)
    session.add(ApiToken(user_id=user_id, token_hash=_digest(token), created_at=now, expires_at=expires))
    return IssuedToken(token, expires, user_id)


def user_for_token(deps: Deps, token: str) -> User:
    """The active user a live token belongs to."""
    with deps.uow() as uow:
        session = uow.session
        user = session.scalar(
            select(User).join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None),
                   ApiToken.expires_at > deps.clock.now(), User.active.is_(True)))
        if user is None:
            raise AuthenticationError("the token is missing, expired or revoked")
        session.expunge(user)
        return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
