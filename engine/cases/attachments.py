"""Photos and documents on cases: uploaded within limits, kept in the blob store, read only within scope.

An attachment is a row (who, when, what kind, which case and task) pointing at bytes in the blob store by
their sha256; the timeline records the hash, so the chain vouches for the evidence as well as the events.
The bytes are stored before the row is committed: a failed commit can leave a file no row names, never a
row without its file.
"""
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.deps import Deps
from engine.errors import ConflictError, NotFoundError, TooLarge, ValidationError
from engine.people import access
from engine.store import filetypes, timeline
from engine.store.model import Attachment, Case, Task, User

KINDS = ("report", "evidence_before", "evidence_after", "document")


@dataclass(frozen=True)
class Upload:
    """A file someone sends: its name as the client gives it, its bytes, what it shows, and for which task."""

    filename: str
    content: bytes
    kind: str = "document"
    task_id: str | None = None


def upload_attachment(deps: Deps, actor_id: int, case_id: int, upload: Upload) -> int:
    """Keep a file on a case the actor can see (as evidence for a task they can act on, if one is named).

    Sending the same bytes again to the same case, kind and task is a retry: it answers the first
    attachment. Returns the attachment id."""
    content_type = _checked_type(deps, upload)
    digest = hashlib.sha256(upload.content).hexdigest()
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        actor = access.actor(session, actor_id)
        case = access.load_visible_case(session, actor, case_id, lock=True)
        if case.closed_at is not None:
            raise ConflictError(f"the case is already {case.status}; nothing more can be attached")
        task = _evidence_task(session, actor, case, upload.task_id) if upload.task_id else None
        same = session.scalar(select(Attachment.id).where(
            Attachment.case_id == case.id, Attachment.sha256 == digest, Attachment.kind == upload.kind,
            Attachment.task_id.is_(None) if task is None else Attachment.task_id == task.id))
        if same is not None:
            return same
        count = session.scalar(select(func.count()).select_from(Attachment).where(Attachment.case_id == case.id))
        if count >= deps.attachments_per_case:
            raise ValidationError("the case has as many attachments as it may have", {
                "file": [f"A case keeps at most {deps.attachments_per_case} attachments."]})
        deps.blobs.put(upload.content)
        attachment = Attachment(
            case_id=case.id, task_id=task.id if task else None, uploaded_by_id=actor.id, kind=upload.kind,
            filename=filetypes.clean_filename(upload.filename, content_type), content_type=content_type,
            size=len(upload.content), sha256=digest, created_at=now)
        session.add(attachment)
        session.flush()
        case.updated_at = now
        timeline.append(session, case.id, now, actor, "attached", task_id=attachment.task_id,
                        payload={"attachment": attachment.id, "kind": attachment.kind,
                                 "filename": attachment.filename, "content_type": content_type,
                                 "size": attachment.size, "sha256": digest, **({"task": task.name} if task else {})})
        uow.commit()
        return attachment.id


def link_evidence(session: Session, case_id: int, task_id: str, attachment_ids: Sequence[int]) -> list[dict]:
    """Make attachments of the case the evidence of completing a task; what the timeline should list.

    Each must belong to the case and to no other task."""
    wanted = list(dict.fromkeys(attachment_ids))
    if not wanted:
        return []
    found = {a.id: a for a in session.scalars(
        select(Attachment).where(Attachment.id.in_(wanted), Attachment.case_id == case_id))}
    foreign = [i for i in wanted if i not in found or found[i].task_id not in (None, task_id)]
    if foreign:
        raise ValidationError("some attachments are not this case's to give as evidence", {"attachments": [
            f"Attachment {i} is not on this case, or is evidence of another task." for i in foreign]})
    for attachment in found.values():
        attachment.task_id = task_id
    return [_evidence(found[i]) for i in wanted]


def list_attachments(deps: Deps, user: User, case_id: int) -> list[dict]:
    """The attachments of a case the user may see, oldest first."""
    with deps.uow() as uow:
        access.load_visible_case(uow.session, user, case_id)
        rows = uow.session.execute(
            select(Attachment, User.username).join(User, User.id == Attachment.uploaded_by_id)
            .where(Attachment.case_id == case_id).order_by(Attachment.id))
        return [_detail(a, username) for a, username in rows]


def attachment_detail(deps: Deps, user: User, attachment_id: int) -> dict:
    """One attachment's description, if the user may see its case."""
    with deps.uow() as uow:
        return _visible(uow.session, user, attachment_id)


def attachment_content(deps: Deps, user: User, attachment_id: int) -> tuple[dict, bytes]:
    """One attachment's description and bytes, if the user may see its case."""
    with deps.uow() as uow:
        detail = _visible(uow.session, user, attachment_id)
    return detail, deps.blobs.read(detail["sha256"])


def _checked_type(deps: Deps, upload: Upload) -> str:
    if upload.kind not in KINDS:
        raise ValidationError("unknown kind of attachment", {"kind": [f"Must be one of: {', '.join(KINDS)}."]})
    if len(upload.content) > deps.attachment_max_bytes:
        limit = deps.attachment_max_bytes / (1024 * 1024)
        raise TooLarge("the file is too large", {"file": [f"A file may have at most {limit:g} MB."]})
    content_type = filetypes.sniff(upload.content)
    if content_type is None:
        raise ValidationError("this kind of file cannot be attached", {"file": [f"Send {filetypes.ALLOWED}."]})
    return content_type


def _evidence_task(session: Session, actor: User, case: Case, task_id: str) -> Task:
    """The open task of this case the actor may act on, for which the file is evidence."""
    task = session.get(Task, task_id)
    if task is None or task.case_id != case.id:
        raise ValidationError("no such task on this case", {"task_id": [f"Case {case.id} has no task {task_id}."]})
    if not task.is_open:
        raise ConflictError(f"the task is already {task.status}")
    access.check_can_act(session, actor, task)
    return task


def _visible(session: Session, user: User, attachment_id: int) -> dict:
    attachment = session.get(Attachment, attachment_id)
    try:
        if attachment is None:
            raise NotFoundError("no such attachment")
        access.load_visible_case(session, user, attachment.case_id)
    except NotFoundError:
        raise NotFoundError(f"attachment {attachment_id} not found") from None  # names no case
    return _detail(attachment, session.get(User, attachment.uploaded_by_id).username)


def _evidence(a: Attachment) -> dict:
    return {"id": a.id, "kind": a.kind, "filename": a.filename, "sha256": a.sha256}


def _detail(a: Attachment, uploaded_by: str) -> dict:
    return {"id": a.id, "case_id": a.case_id, "task_id": a.task_id, "kind": a.kind, "filename": a.filename,
            "content_type": a.content_type, "size": a.size, "sha256": a.sha256, "uploaded_by": uploaded_by,
            "created_at": a.created_at}
