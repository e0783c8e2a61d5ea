"""Accounts: an admin deactivates (or reactivates) a user, or resets their password; a user chooses their
language. (A user changes their own password in auth.py.)"""
import secrets
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


@dataclass(frozen=True)
class PasswordReset:
    """A password an admin set: the generated one (shown once, never stored in the clear), and tokens revoked."""

    username: str
    generated: str | None
    tokens_revoked: int


GENERATED_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/l/I to misread


def reset_password(deps: Deps, actor_id: int, username: str, password: str | None = None) -> PasswordReset:
    """An admin gives a user a temporary password (or has one generated); the user's tokens are revoked in the
    same transaction, so whoever held the account is signed out."""
    generated = None
    if not password:
        generated = password = "".join(secrets.choice(GENERATED_ALPHABET) for _ in range(12))
    shortest, longest = auth.PASSWORD_LENGTH
    problems = []
    if not shortest <= len(password) <= longest:
        problems.append(f"Must be {shortest} to {longest} characters long.")
    if password.strip().lower() == username.lower():
        problems.append("Do not use the username as the password.")
    if problems:
        raise ValidationError("the password is not acceptable", {"password": problems})
    hashed = auth.hash_password(password)  # before the transaction: argon2 takes a while
    with deps.uow() as uow:
        user = _user_for_admin(uow.session, actor_id, username)
        if user.id == actor_id:
            raise ConflictError("change your own password on your account page")
        user.password_hash = hashed
        revoked = auth.revoke_tokens(uow.session, user.id, deps.clock.now())
        uow.commit()
        return PasswordReset(user.username, generated, revoked)


def _user_for_admin(session, actor_id: int, username: str) -> User:
    actor = session.get(User, actor_id)
    if actor is None or not actor.active or actor.role != "admin":
        raise PermissionDenied("only an admin may do this")
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"user {username!r} not found")
    return user
