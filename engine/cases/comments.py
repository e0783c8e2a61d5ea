"""Comments on a case: timeline events of kind `commented`, written and read by anyone who may see the case."""
from sqlalchemy import select

from engine.deps import Deps
from engine.errors import ValidationError
from engine.people import access
from engine.store import timeline
from engine.store.model import TimelineEvent, User

MAX_LENGTH = 2000
KIND = "commented"


def comment_on_case(deps: Deps, actor_id: int, case_id: int, text: str) -> dict:
    """Add a comment to a case the actor may see, open or closed. Returns the comment."""
    text = (text or "").strip()
    if not text:
        raise ValidationError("write something", {"text": ["Missing data for required field."]})
    if len(text) > MAX_LENGTH:
        raise ValidationError("the comment is too long", {"text": [f"Longer than maximum length {MAX_LENGTH}."]})
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        actor = access.actor(session, actor_id)
        case = access.load_visible_case(session, actor, case_id, lock=True)  # one writer of the timeline
        event = timeline.append(session, case.id, now, actor, KIND, payload={"text": text})
        uow.commit()
        return _comment(event)


def list_comments(deps: Deps, user: User, case_id: int) -> list[dict]:
    """The comments on a case the user may see, oldest first."""
    with deps.uow() as uow:
        access.load_visible_case(uow.session, user, case_id)
        return [_comment(e) for e in uow.session.scalars(
            select(TimelineEvent).where(TimelineEvent.case_id == case_id, TimelineEvent.kind == KIND)
            .order_by(TimelineEvent.seq))]


def _comment(e: TimelineEvent) -> dict:
    return {"seq": e.seq, "at": e.at, "actor": e.actor, "text": e.payload.get("text", "")}
