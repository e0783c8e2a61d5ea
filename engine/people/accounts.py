"""Accounts: an admin deactivates (or reactivates) a user; a user chooses their language. (A user changes their
own password in auth.py.)"""
from dataclasses import dataclass

from sqlalchemy import select

from engine.deps import Deps
from engine.errors import ConflictError, NotFoundError, PermissionDenied, ValidationError
from engine.people import auth
from engine.store.model import User


@dataclass(frozen=True)
class AccountState:
    """A user's state after an admin's change, and how many live tokens the change revoked."""

    username: str
    active: bool
    tokens_revoked: int


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


def set_locale(deps: Deps, user_id: int, locale: str | None, known: tuple[str, ...]) -> None:
    """A user chooses the language of their pages (one of `known`), or None to follow their browser."""
    if locale is not None and locale not in known:
        raise ValidationError("unknown language", {"locale": [f"Must be one of: {', '.join(known)}."]})
    with deps.uow() as uow:
        user = uow.session.get(User, user_id)
        if user is None:
            raise NotFoundError(f"user {user_id} not found")
        user.locale = locale
        uow.commit()


def _user_for_admin(session, actor_id: int, username: str) -> User:
    actor = session.get(User, actor_id)
    if actor is None or not actor.active or actor.role != "admin":
        raise PermissionDenied("only an admin may do this")
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"user {username!r} not found")
    return user
