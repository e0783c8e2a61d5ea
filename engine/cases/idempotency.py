"""Idempotent filing: a phone on a bad network retries; the same key from the same user files once.

The key row is written first, inside the filing's transaction. A concurrent retry blocks on its unique
index (PostgreSQL) or on the write lock (SQLite) until the first filing commits, then finds its case.
"""
import hashlib
import json
from dataclasses import asdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.errors import ConflictError, ValidationError
from engine.store.model import IdempotencyKey


def claim(session: Session, user_id: int, key: str, request, now: datetime,
          window: timedelta | None = None) -> IdempotencyKey:
    """The key's row: an earlier one (with its case) or a new one for this filing.

    With a `window`, a key first used longer ago than that is used afresh: the filing makes a new case."""
    if not 1 <= len(key) <= 100:
        raise ValidationError("bad Idempotency-Key", {"Idempotency-Key": ["Use 1 to 100 characters."]})
    digest = hashlib.sha256(json.dumps(asdict(request), sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    row = _existing(session, user_id, key)
    if row is None:
        try:
            with session.begin_nested():
                row = IdempotencyKey(user_id=user_id, key=key, request_hash=digest, created_at=now)
                session.add(row)
        except IntegrityError:  # a concurrent retry got there first and has committed by now
            row = _existing(session, user_id, key)
    elif window is not None and row.created_at < now - window:
        row.request_hash, row.case_id, row.created_at = digest, None, now
    if row.request_hash != digest:
        raise ConflictError("this Idempotency-Key was used for a different filing",
                            {"Idempotency-Key": ["Already used for a different request."]})
    return row


def _existing(session, user_id, key):
    return session.scalar(select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key))
