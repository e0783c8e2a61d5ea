"""The process catalogue (流程目录) as read: each case type's files as they stand, its decision tables (routing and
time limits) row by row, and the deployed versions of its process with the open cases each holds in the
reader's scope."""
from functools import lru_cache

from lxml import etree
from sqlalchemy import func, select

from engine.deps import Deps
from engine.errors import NotFoundError
from engine.people import access
from engine.process.specs import content_hash
from engine.read import diagrams
from engine.store.model import Case, ProcessVersion, User

DMN = "{https://www.omg.org/spec/DMN/20191111/MODEL/}"


def case_types(deps: Deps, user: User) -> list[dict]:
    """Every case type with its process, its versions and the open cases in the user's scope on each."""
    with deps.uow() as uow:
        held = _open_counts(uow.session, user)
        rows = list(uow.session.scalars(select(ProcessVersion).order_by(ProcessVersion.deployed_at.desc(),
                                                                        ProcessVersion.id.desc())))
    found = []
    for case_type in deps.catalogue.values():
        current = content_hash(case_type.read_files())
        found.append({"code": case_type.code, "process_id": case_type.process_id, "versions": [
            {"id": v.id, "content_hash": v.content_hash, "deployed_at": v.deployed_at,
             "current": v.content_hash == current, "open_cases": held.get((v.id, case_type.code), 0)}
            for v in rows if v.process_id == case_type.process_id]})
    return found


def case_type(deps: Deps, user: User, code: str) -> dict:
    """One case type: its versions, its diagrams' files and its decision tables as they stand now."""
    if code not in deps.catalogue:
        raise NotFoundError(f"no case type {code!r}")
    files = deps.catalogue[code].read_files()
    [summary] = [t for t in case_types(deps, user) if t["code"] == code]
    return {**summary, "diagrams": [{"file": d.file, "name": d.name} for d in diagrams.drawings(files)],
            "decisions": [table for name in sorted(files) if name.endswith(".dmn")
                          for table in decision_tables(name, files[name])]}


def type_diagrams(deps: Deps, code: str, version_id: int | None = None) -> list[dict]:
    """The diagrams of a case type's files as they stand now, or of one of its deployed versions."""
    if code not in deps.catalogue:
        raise NotFoundError(f"no case type {code!r}")
    if version_id is None:
        return diagrams.version_diagrams(deps.catalogue[code].read_files())
    with deps.uow() as uow:
        version = uow.session.get(ProcessVersion, version_id)
        if version is None or version.process_id != deps.catalogue[code].process_id:
            raise NotFoundError(f"no version {version_id} of {code!r}")
        return diagrams.version_diagrams(version.files)


@lru_cache(maxsize=32)
def decision_tables(file: str, xml: str) -> tuple[dict, ...]:
    """Each decision table of a DMN file: its name, hit policy, input and output columns, and rules."""
    root = etree.fromstring(xml.encode("utf-8"), etree.XMLParser(resolve_entities=False))
    tables = []
    for decision in root.iter(f"{DMN}decision"):
        table = decision.find(f"{DMN}decisionTable")
        if table is None:
            continue
        inputs = [{"label": i.get("label") or "", "name": _text(i.find(f"{DMN}inputExpression"))}
                  for i in table.findall(f"{DMN}input")]
        outputs = [{"label": o.get("label") or "", "name": o.get("name") or ""} for o in table.findall(f"{DMN}output")]
        rules = [{"id": r.get("id"), "description": _text(r),
                  "inputs": [_text(e) for e in r.findall(f"{DMN}inputEntry")],
                  "outputs": [_text(e) for e in r.findall(f"{DMN}outputEntry")]}
                 for r in table.findall(f"{DMN}rule")]
        tables.append({"file": file, "id": decision.get("id"), "name": decision.get("name") or decision.get("id"),
                       "hit_policy": table.get("hitPolicy", "UNIQUE"), "inputs": inputs, "outputs": outputs,
                       "rules": rules})
    return tuple(tables)


def _text(element) -> str:
    """The text of an element's <text> (an entry, an expression) or <description> (a rule)."""
    if element is None:
        return ""
    found = element.find(f"{DMN}text")
    if found is None:
        found = element.find(f"{DMN}description")
    return (found.text or "").strip() if found is not None else ""


def _open_counts(session, user: User) -> dict[tuple[int, str], int]:
    query = (select(Case.process_version_id, Case.type, func.count(Case.id))
             .where(Case.closed_at.is_(None), access.visible_cases(session, user))
             .group_by(Case.process_version_id, Case.type))
    return {(version, code): count for version, code, count in session.execute(query)}
