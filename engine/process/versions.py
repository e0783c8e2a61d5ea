"""Process versions: one row per (process id, content hash); cases are pinned to theirs."""
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.process.catalogue import CaseType
from engine.process.specs import ProcessSpec, SpecCache, content_hash
from engine.store.model import ProcessVersion


class Deployed(NamedTuple):
    id: int
    content_hash: str


def current(session: Session, specs: SpecCache, case_type: CaseType, now: datetime) -> Deployed:
    """The version new cases of the type start on: the one this process deployed (on its first use of the type,
    or by `deploy`), known by id and hash, so that filing reads no file, hashes nothing and asks no query."""
    known = specs.deployed.get(case_type.process_id)
    if known is None:
        version = deploy(session, specs, case_type, now)
        known = Deployed(version.id, version.content_hash)
    return known


def deploy(session: Session, specs: SpecCache, case_type: CaseType, now: datetime) -> ProcessVersion:
    """The version row for the type's files as they are on disk now, stored if new; new cases start on it."""
    files = case_type.read_files()
    specs.get(case_type.process_id, files)  # parse and validate before anything is stored
    digest = content_hash(files)
    query = select(ProcessVersion).where(ProcessVersion.process_id == case_type.process_id,
                                         ProcessVersion.content_hash == digest)
    version = session.scalar(query)
    if version is None:
        try:
            with session.begin_nested():
                version = ProcessVersion(process_id=case_type.process_id, content_hash=digest,
                                         files=files, deployed_at=now)
                session.add(version)
        except IntegrityError:  # deployed by a concurrent filing
            version = session.scalar(query)
    deployed = Deployed(version.id, digest)  # remembered once it is committed: a rolled-back row is no version
    event.listen(session, "after_commit", lambda _: specs.deployed.__setitem__(case_type.process_id, deployed),
                 once=True)
    return version


def spec_of(session: Session, specs: SpecCache, version_id: int) -> ProcessSpec:
    """The parsed spec the cases pinned to version `version_id` run on. A version row never changes: it is read
    once per process (its files only if the version is not parsed yet)."""
    spec = specs.by_version_id.get(version_id)
    if spec is None:
        version = session.get(ProcessVersion, version_id)
        spec = specs.by_hash(version.content_hash, version.process_id, lambda: version.files)
        specs.by_version_id[version_id] = spec
    return spec
