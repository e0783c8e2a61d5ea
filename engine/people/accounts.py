"""Accounts: a user changes their own password; an admin deactivates (or reactivates) a user."""
from dataclasses import dataclass

from sqlalchemy import select

from engine.deps import Deps
from engine.errors import ConflictError, NotFoundError, PermissionDenied, ValidationError
from engine.people import auth, throttle
from engine.store.model import User

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 200


@dataclass(frozen=True)
class AccountState:
    """A user's state after an admin's change, and how many live tokens the change revoked."""

    username: str
    active: bool
    tokens_revoked: int


def change_password(deps: Deps, user_id: int, current: str, new: str, address: str = "",
                    keep_token_id: int | None = None) -> int:
    """Change one's own password, given the current one (throttled like a sign-in); every other token of the
    user is revoked in the same transaction. Returns how many were revoked."""
    with deps.uow() as uow:
        username = uow.session.scalar(select(User.username).where(User.id == user_id))
    _check_new_password(username, current, new)
    if auth.check_password(deps, username or "", current, address) != user_id:
        raise ValidationError("the current password is wrong", {"current_password": ["Wrong password."]})
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        user = session.get(User, user_id)
        user.password_hash = auth.hash_password(new)
        throttle.forget_failures(session, username, address)
        revoked = auth.revoke_tokens(session, user_id, now, keep=keep_token_id)
        uow.commit()
        return revoked


def deactivate_user(deps: Deps, actor_id: int, username: str) -> AccountState:
    """An admin stops a user: they can no longer sign in, and their tokens are revoked in the same transaction."""
    with deps.uow() as uow:
        session = uow.session
        user = _user_for_admin(session, actor_id, username)
        if user.id == actor_id:
            raise ConflictError("you cannot deactivate yourself; ask another admin")
        user.active = False
        revoked = auth.revoke_tokens(session, user.id, deps.clock.now())
        uow.commit()
        return AccountState(user.username, False, revoked)


def activate_user(deps: Deps, actor_id: int, username: str) -> AccountState:
    """An admin lets a deactivated user sign in again (their old tokens stay revoked)."""
    with deps.uow() as uow:
        user = _user_for_admin(uow.session, actor_id, username)
        user.active = True
        uow.commit()
        return AccountState(user.username, True, 0)


def _user_for_admin(session, actor_id: int, username: str) -> User:
    actor = session.get(User, actor_id)
    if actor is None or not actor.active or actor.role != "admin":
        raise PermissionDenied("only an admin may do this")
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"user {username!r} not found")
    return user


def _check_new_password(username: str | None, current: str, new: str) -> None:
    problems = []
    if not MIN_PASSWORD_LENGTH <= len(new) <= MAX_PASSWORD_LENGTH:
        problems.append(f"Use {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters.")
    if new == current:
        problems.append("Choose a password other than the current one.")
    if username and new.strip().lower() == username.lower():
        problems.append("Do not use your username as your password.")
    if problems:
        raise ValidationError("the new password is not acceptable", {"new_password": problems})
