"""Process versions in operation: deploy changed diagrams, move running cases when the diff allows it.

Deploying never touches a running case: each stays on the version it started with. Moving cases is a
separate, explicit step that checks each case against the new version first and leaves alone any case
whose workflow has run or waits on a task the new version no longer has.
"""
from dataclasses import dataclass, field

from sqlalchemy import select

from engine.cases.projection import Run, project
from engine.deps import Deps
from engine.errors import ValidationError
from engine.process import runner, versions
from engine.store import timeline
from engine.store.model import Case, ProcessVersion


@dataclass
class MigrationReport:
    """Cases moved to the newest version, and those that could not be, with the reasons."""

    case_type: str
    to_version: str
    moved: list[str] = field(default_factory=list)
    blocked: dict[str, list[str]] = field(default_factory=dict)
    dry_run: bool = False


def deploy(deps: Deps) -> dict[str, str]:
    """Register the current files of every case type; returns type -> version hash (first 12 chars)."""
    with deps.uow() as uow:
        now = deps.clock.now()
        deployed = {code: versions.deploy(uow.session, deps.specs, case_type, now).content_hash[:12]
                    for code, case_type in deps.catalogue.items()}
        uow.commit()
        return deployed


def migrate_cases(deps: Deps, case_type_code: str, dry_run: bool = False) -> MigrationReport:
    """Move the open cases of a type to its current version where the diff allows; one transaction each."""
    case_type = deps.catalogue.get(case_type_code)
    if case_type is None:
        raise ValidationError("unknown case type", {"type": [f"Must be one of: {', '.join(deps.catalogue)}."]})
    with deps.uow() as uow:
        target = versions.deploy(uow.session, deps.specs, case_type, deps.clock.now())
        uow.commit()
        ids = list(uow.session.scalars(select(Case.id).where(
            Case.type == case_type_code, Case.closed_at.is_(None), Case.process_version_id != target.id)
            .order_by(Case.id)))
    report = MigrationReport(case_type_code, target.content_hash[:12], dry_run=dry_run)
    for case_id in ids:
        _migrate_one(deps, case_id, target.id, report)
    return report


def _migrate_one(deps: Deps, case_id: int, target_id: int, report: MigrationReport) -> None:
    with deps.uow() as uow:
        session, now = uow.session, deps.clock.now()
        case = session.scalar(select(Case).where(Case.id == case_id).with_for_update(of=Case))
        target = session.get(ProcessVersion, target_id)
        old = versions.spec_of(session, deps.specs, case.process_version_id)
        new = versions.spec_of(session, deps.specs, target_id)
        workflow = runner.restore(old, case.state)
        blockers = runner.migration_blockers(new, workflow)
        if blockers:
            report.blocked[case.number] = blockers
            return
        report.moved.append(case.number)
        if report.dry_run:
            return
        step = runner.migrate(new, workflow)
        timeline.append(session, case.id, now, None, "migrated", payload={
            "from_version": case.process_version.content_hash[:12], "to_version": target.content_hash[:12]})
        case.process_version_id, case.state = target.id, runner.dump(new, workflow)
        uow.schedule_after_commit(deps.scheduler, project(Run(deps, uow, case, new, now), step))
        uow.commit()
