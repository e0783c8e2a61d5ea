"""Sign-in throttling: guessing a password gets slower and slower, and no stranger can lock anyone out.

Failed attempts are rows (`login_failures`), counted per username *and* client address, so the policy holds in
every process and on every database and follows the engine's clock. The first FREE_FAILURES failures of a
pair within WINDOW cost nothing; after that each attempt must wait twice as long as the one before, from
BASE_DELAY up to MAX_DELAY after the latest failure. A guesser at one address soon gets one try per
MAX_DELAY for that user; the same user signing in from another address (their own phone, their office) is not
slowed at all, and a stranger's failures for other usernames never slow anyone.

An attempt is recorded as a failure *before* the password is checked and forgotten when it turns out right,
so parallel guesses each count even while the slow password hash is still being checked. A success forgets
the failures of its own pair only: a user signing in does not give a guesser elsewhere a fresh start.

What this does not stop: guesses spread over many addresses each get the free attempts (a few per address
per user a day), and people behind one address share its pairs (a colleague at the same office address who
guesses your password slows your sign-in from that address, not from any other).
"""
import math
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine.errors import TooManyAttempts
from engine.store.model import LoginFailure

WINDOW = timedelta(hours=24)  # how long a failure is remembered
FREE_FAILURES = 3
BASE_DELAY = timedelta(seconds=2)
MAX_DELAY = timedelta(minutes=15)


def delay_after(failures: int) -> timedelta:
    """How long a pair must wait after its latest failure, having failed `failures` times within WINDOW."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(MAX_DELAY, BASE_DELAY * 2 ** min(failures - FREE_FAILURES, 32))


def record_attempt(session: Session, username: str, address: str, now: datetime) -> LoginFailure:
    """Refuse the attempt if the pair must still wait; otherwise count it as a failure until it succeeds."""
    username, address = username[:64], address[:64]
    failures, latest = session.execute(select(func.count(), func.max(LoginFailure.at)).where(
        LoginFailure.username == username, LoginFailure.address == address,
        LoginFailure.at > now - WINDOW)).one()
    if failures:
        allowed_at = latest + delay_after(failures)
        if now < allowed_at:
            wait = math.ceil((allowed_at - now).total_seconds())
            raise TooManyAttempts(f"too many failed sign-ins for {username!r} from your address; "
                                  f"try again in {_duration(wait)}", wait)
    attempt = LoginFailure(username=username, address=address, at=now)
    session.add(attempt)
    session.execute(delete(LoginFailure).where(LoginFailure.at < now - WINDOW))
    return attempt


def forget_failures(session: Session, username: str, address: str) -> None:
    """The pair signed in: its earlier failures (and this attempt) no longer count."""
    session.execute(delete(LoginFailure).where(LoginFailure.username == username[:64],
                                               LoginFailure.address == address[:64]))


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"
