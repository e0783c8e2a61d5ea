"""Passwords (argon2) and bearer tokens (random, stored only as their sha256); sign-in is throttled.

A browser session is a token too (kept in a signed cookie), so expiry and revocation work the same way.
Failed sign-ins slow down guessing per username and address (engine/people/throttle.py).
"""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update

from engine.deps import Deps
from engine.errors import AuthenticationError, NotFoundError, ValidationError
from engine.people import throttle
from engine.store.model import ApiToken, User

PASSWORD_LENGTH = (8, 200)  # as the user import requires
SESSION_NAME = "browser session"  # the name of a browser session's token, as the token list shows it

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
    user_id = check_password(deps, username, password, address)
    if user_id is None:
        raise AuthenticationError("wrong username or password")
    with deps.uow() as uow:
        throttle.forget_failures(uow.session, username, address)
        issued = _new_token(uow.session, user_id, deps.clock.now(), hours, name)
        uow.commit()
        return issued


@dataclass(frozen=True)
class BrowserSession:
    """A signed-in browser: its token (kept in the session cookie) and the CSRF token its changes must carry."""

    token: str
    csrf: str
    expires_at: datetime
    user_id: int


def start_session(deps: Deps, username: str, password: str, hours: int, address: str = "") -> BrowserSession:
    """Sign a browser in (the pages' sign-in and the API's alike): a token named "browser session", checked and
    throttled like any sign-in, and a CSRF token for the changes it sends."""
    issued = issue_token(deps, username, password, hours, address, SESSION_NAME)
    return BrowserSession(issued.token, secrets.token_urlsafe(24), issued.expires_at, issued.user_id)


def change_password(deps: Deps, user_id: int, old: str, new: str, address: str = "",
                    keep_token_id: int | None = None) -> int:
    """A user changes their own password, giving the old one (checked and throttled like a sign-in); every
    other token of theirs (`keep_token_id`: the one they are using) is revoked in the same transaction.
    Returns how many were revoked."""
    with deps.uow() as uow:
        username = uow.session.scalar(select(User.username).where(User.id == user_id)) or ""
    _check_new_password(username, old, new)
    hashed = hash_password(new)  # before the transaction: argon2 takes a while
    if check_password(deps, username, old, address) != user_id:
        raise ValidationError("the old password is wrong", {"old_password": ["Wrong password."]})
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        session.get(User, user_id).password_hash = hashed
        throttle.forget_failures(session, username, address)
        revoked = revoke_tokens(session, user_id, now, keep=keep_token_id)
        uow.commit()
        return revoked


def _check_new_password(username: str, old: str, new: str) -> None:
    shortest, longest = PASSWORD_LENGTH
    problems = []
    if not shortest <= len(new) <= longest:
        problems.append(f"Must be {shortest} to {longest} characters long.")
    if new == old:
        problems.append("Choose a password other than the current one.")
    if username and new.strip().lower() == username.lower():
        problems.append("Do not use your username as your password.")
    if problems:
        raise ValidationError("the new password is not acceptable", {"new_password": problems})


def check_password(deps: Deps, username: str, password: str, address: str) -> int | None:
    """The id of the active user whose password this is, else None; the attempt counts until it succeeds.

    The attempt is committed before the (slow) hash is checked, outside any transaction."""
    with deps.uow() as uow:
        throttle.record_attempt(uow.session, username, address, deps.clock.now())
        user = uow.session.execute(select(User.id, User.password_hash, User.active)
                                   .where(User.username == username)).first()
        uow.commit()
    if not _password_matches(user.password_hash if user else None, password) or not user.active:
        return None
    return user.id


def revoke_tokens(session, user_id: int, now: datetime, keep: int | None = None) -> int:
    """Revoke every live token of a user (but `keep`) in the caller's transaction; returns how many."""
    query = update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None),
                                   ApiToken.expires_at > now)
    if keep is not None:
        query = query.where(ApiToken.id != keep)
    return session.execute(query.values(revoked_at=now).execution_options(synchronize_session=False)).rowcount


def grant_token(deps: Deps, user_id: int, hours: int, name: str = "") -> IssuedToken:
    """A token for a user already known to be who they say (tools, tests)."""
    with deps.uow() as uow:
        issued = _new_token(uow.session, user_id, deps.clock.now(), hours, name)
        uow.commit()
        return issued


def user_for_token(deps: Deps, token: str) -> tuple[User, int]:
    """The active user a live token belongs to, and the token's id."""
    with deps.read() as uow:
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
    with deps.read() as uow:
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


def _password_matches(password_hash: str | None, password: str) -> bool:
    """Checked against a dummy hash when there is no user, so an unknown name takes as long as a wrong password."""
    try:
        _hasher.verify(password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None


def _new_token(session, user_id: int, now: datetime, hours: int, name: str) -> IssuedToken:
    token = secrets.token_urlsafe(32)
    row = ApiToken(user_id=user_id, token_hash=_digest(token), name=name, created_at=now,
                   expires_at=now + timedelta(hours=hours))
    session.add(row)
    session.flush()
    return IssuedToken(row.id, token, row.expires_at, user_id)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
