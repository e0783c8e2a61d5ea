"""Process versions: one row per (process id, content hash); cases are pinned to theirs."""
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.process.catalogue import CaseType
from engine.process.specs import ProcessSpec, SpecCache, content_hash
from engine.store.model import ProcessVersion


def current(session: Session, specs: SpecCache, case_type: CaseType, now: datetime) -> ProcessVersion:
    """The version row for the type's files as they are now, deployed on first use."""
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
    return version


def spec_of(specs: SpecCache, version: ProcessVersion) -> ProcessSpec:
    """The parsed spec a case pinned to `version` runs on."""
    return specs.get(version.process_id, version.files)
