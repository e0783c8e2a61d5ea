"""History that stays small: closed cases older than a cut-off leave the hot tables for an archive file.

`archive(...)` takes closed cases (closed before the cut-off) a batch at a time, oldest first. For each batch it
writes every row of each case — the case with its timeline head (`timeline_seq`, `timeline_hash`,
`timeline_seal`), its timeline events, tasks, clocks, deadlines, supervision orders, notifications, attachments'
records and the filing's idempotency key — as one JSON line to a gzip file, flushes the file to disk, and only
then deletes those rows in one transaction. A run stopped between the two leaves the batch both in the file and
in the database; the next run writes it again (`read` keeps the last copy of a case). The attachments' files
stay in the blob store (they are content-addressed and may be shared); the archive names them by sha256.

An archived case still verifies: `verify_file` recomputes each case's chain from the archived events and
checks it against the archived head under the timeline key, exactly as `timeline.verify` does in the database.

Why an archive and not PostgreSQL partitioning: the hot tables hold open work and the recent past that pages
and inboxes read; closed cases older than a year are read only for audits. Partitioning by month would keep
every old row in the same database (and backups, and vacuum), needs the partition key in every primary and
unique key (case id plus month, in every table that points at a case) and a migration of every foreign key,
and works on PostgreSQL only; the archive works the same on SQLite and PostgreSQL, shrinks the database and its
backups, and keeps what it moved out checkable.
"""
import gzip
import json
import os
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.store import timeline
from engine.store.model import Base, Case

FORMAT = "gridflow-archive/1"
CASES = Base.metadata.tables["cases"]


def case_tables() -> list:
    """Every table with a case_id pointing at cases, children before parents (the order rows are deleted in)."""
    pointing = [t for t in Base.metadata.sorted_tables
                if "case_id" in t.c and any(fk.column.table is CASES for fk in t.c.case_id.foreign_keys)]
    return list(reversed(pointing))


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(row) -> dict:
    return {key: _plain(value) for key, value in row._mapping.items()}


def archive(session_factory, cutoff: datetime, folder: Path, batch: int = 200, dry_run: bool = False,
            limit: int | None = None) -> dict:
    """Move closed cases closed before `cutoff` to a new file in `folder`; returns what was done."""
    # a case the indicators' rollup has not counted to the end yet stays until the worker has (one sweep)
    closed_before = Case.closed_at.is_not(None) & (Case.closed_at < cutoff) & (Case.timeline_seq <= Case.indicator_seq)
    tables = case_tables()
    if dry_run:
        with session_factory() as session:
            from sqlalchemy import func
            count = session.scalar(select(func.count()).select_from(Case).where(closed_before))
        return {"cases": count, "rows": 0, "file": None}
    folder.mkdir(parents=True, exist_ok=True)
    path, raw = _new_file(folder, cutoff)
    moved = rows = 0
    with raw, gzip.GzipFile(fileobj=raw, mode="wb") as out:
        out.write((json.dumps({"format": FORMAT, "cutoff": cutoff.isoformat(),
                               "tables": ["cases", *[t.name for t in tables]]}) + "\n").encode())
        while limit is None or moved < limit:
            size = batch if limit is None else min(batch, limit - moved)
            with session_factory() as session, session.begin():
                query = select(CASES).where(closed_before).order_by(CASES.c.id).limit(size)
                if session.get_bind().dialect.name == "postgresql":
                    query = query.with_for_update(skip_locked=True)
                cases = session.execute(query).all()
                if not cases:
                    break
                ids = [c.id for c in cases]
                children = {t.name: _by_case(session, t, ids) for t in tables}
                for case in cases:
                    line = {"case": _row(case), **{name: [_row(r) for r in found.get(case.id, [])]
                                                   for name, found in children.items()}}
                    out.write((json.dumps(line, ensure_ascii=False) + "\n").encode())
                    rows += 1 + sum(len(found.get(case.id, [])) for found in children.values())
                out.flush()  # a sync flush: what is written so far can be read back
                raw.flush()
                os.fsync(raw.fileno())  # on disk before the rows are gone
                for table in tables:
                    session.execute(delete(table).where(table.c.case_id.in_(ids)))
                session.execute(delete(CASES).where(CASES.c.id.in_(ids)))
                moved += len(ids)
    if moved == 0:
        path.unlink()
        return {"cases": 0, "rows": 0, "file": None}
    return {"cases": moved, "rows": rows, "file": str(path)}


def _new_file(folder: Path, cutoff: datetime):
    """A file of its own for this run: an earlier archive is never written over."""
    stem = f"gridflow-archive-{cutoff:%Y%m%d}-{datetime.now():%Y%m%dT%H%M%S}"
    for attempt in range(1000):
        path = folder / (f"{stem}.jsonl.gz" if attempt == 0 else f"{stem}-{attempt}.jsonl.gz")
        try:
            return path, open(path, "xb")
        except FileExistsError:
            continue
    raise FileExistsError(f"no free archive file name in {folder}")


def _by_case(session: Session, table, ids: list[int]) -> dict[int, list]:
    found: dict[int, list] = {}
    order = [table.c.case_id, *table.primary_key.columns]
    for row in session.execute(select(table).where(table.c.case_id.in_(ids)).order_by(*order)):
        found.setdefault(row.case_id, []).append(row)
    return found


def read(path: Path) -> Iterator[dict]:
    """Each archived case of a file, as written (the last copy of a case a stopped run wrote twice)."""
    with gzip.open(path, "rt", encoding="utf-8") as source:
        header = json.loads(source.readline())
        if header.get("format") != FORMAT:
            raise ValueError(f"{path} is not a Gridflow archive ({FORMAT})")
        cases: dict[int, dict] = {}
        for line in source:
            record = json.loads(line)
            cases[record["case"]["id"]] = record
    yield from cases.values()


def verify_case(key: bytes, record: dict) -> dict:
    """The archived case's chain checked against its archived head, as in the database."""
    case = record["case"]
    events = [SimpleNamespace(**{**e, "at": datetime.fromisoformat(e["at"])})
              for e in sorted(record["timeline_events"], key=lambda e: e["seq"])]
    return timeline.verify_chain(key, case["id"], case["timeline_seq"], case["timeline_hash"],
                                 case["timeline_seal"], events)


def verify_file(key: bytes, path: Path) -> dict:
    """{"cases": n, "intact": n, "broken": {case number: reason}} for an archive file."""
    result = {"cases": 0, "intact": 0, "broken": {}}
    for record in read(path):
        result["cases"] += 1
        check = verify_case(key, record)
        if check["intact"]:
            result["intact"] += 1
        else:
            result["broken"][record["case"]["number"]] = check["reason"]
    return result
