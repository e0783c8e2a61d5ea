"""Import grids, departments and users from CSV or GeoJSON: all of a file or nothing, in one transaction.

The whole file is checked before anything is written: each value on its own (engine.imports.formats), then
the references between rows and to the database. Rows are matched to existing ones by code (by username for
users) and updated, so importing a file twice creates nothing the second time. Existing rows are read with
one query per table, never one per row. Nothing is ever deleted.
"""
from dataclasses import dataclass, field

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.deps import Deps
from engine.errors import ConflictError, ValidationError
from engine.imports import formats
from engine.imports.formats import Problems
from engine.people.auth import hash_password
from engine.places.grid import LEVEL_NAMES
from engine.process import catalogue
from engine.store.model import Department, Grid, User

KINDS = formats.KINDS
GRID_ROLES = ("grid_worker", "grid_leader", "supervisor")
CHUNK = 1000  # codes per IN (...) query, well under SQLite's limit on bound parameters


@dataclass(frozen=True)
class ImportReport:
    """What an import did, or on a dry run would do: rows created, updated and left as they were."""

    kind: str
    created: int
    updated: int
    unchanged: int
    dry_run: bool = False


@dataclass
class Plan:
    """The writes of an import: new rows, changed rows, and what they change elsewhere (paths, leaders)."""

    creates: list[dict] = field(default_factory=list)
    updates: list[dict] = field(default_factory=list)
    unchanged: int = 0
    knock_on: list[dict] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)  # password -> argon2 hash, made before the transaction


def import_file(deps: Deps, kind: str, filename: str, content: bytes, dry_run: bool = False) -> ImportReport:
    """Import a CSV or GeoJSON file of grids, departments or users; nothing is written unless all is valid."""
    _check_kind(kind)
    problems = Problems()
    rows = formats.read_file(kind, filename, content, problems)
    return _import(deps, kind, rows, problems, dry_run)


def import_rows(deps: Deps, kind: str, rows: list[dict], dry_run: bool = False) -> ImportReport:
    """Import rows already parsed into dicts (numbered from 1), by the same rules as import_file."""
    _check_kind(kind)
    return _import(deps, kind, list(enumerate(rows, start=1)), Problems(), dry_run)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValidationError(f"cannot import {kind!r}", {"kind": [f"Must be one of: {', '.join(KINDS)}."]})


def _import(deps: Deps, kind: str, rows: list[tuple[int, dict]], problems: Problems, dry_run: bool):
    cleaned = formats.clean(kind, rows, problems, catalogue.department_kinds(deps.catalogue))
    if not rows and not problems:
        problems.add(None, "file", "There are no data rows.")
    if dry_run:
        return _run(deps, kind, cleaned, problems, write=False)
    hashes = {}
    if kind == "users":  # argon2 is slow on purpose: check first, then hash outside the writing transaction
        _run(deps, kind, cleaned, problems, write=False)
        passwords = {row["password"] for row in cleaned if row.get("password")}
        hashes = {password: hash_password(password) for password in passwords}
    return _run(deps, kind, cleaned, problems, write=True, hashes=hashes)


def _run(deps: Deps, kind: str, rows: list[dict], problems: Problems, write: bool, hashes=None) -> ImportReport:
    """Check the rows against the database in one transaction and, if `write`, make the changes."""
    plan_for, write_plan = _STEPS[kind]
    with deps.uow() as uow:
        plan = plan_for(uow.session, rows, problems)
        problems.raise_if_any()
        if write:
            plan.hashes = hashes or {}
            if kind == "grids":
                uow.after_commit(deps.locator.reset)  # other processes see the new polygons by count/length
            try:
                write_plan(uow.session, plan)
                uow.commit()
            except IntegrityError as exc:
                raise ConflictError("the data changed while the file was imported; import it again") from exc
    return ImportReport(kind, len(plan.creates), len(plan.updates), plan.unchanged, dry_run=not write)


def _existing(session: Session, key, *columns) -> dict[str, dict]:
    """Every row of a table by its key, as dicts of the given columns: one query."""
    return {row[0]: dict(row._mapping) for row in session.execute(select(key, *columns))}


def _by_key(rows: list[dict], key: str, problems: Problems) -> dict[str, dict]:
    """The file's rows by code; a code given twice is a problem on the later row."""
    found = {}
    for row in rows:
        value = row.get(key)
        if value is None:
            continue
        if value in found:
            problems.add(row["row"], key, f"{value!r} appears twice in the file; first on row {found[value]['row']}.")
        else:
            found[value] = row
    return found


def _classify(plan: Plan, old: dict | None, values: dict) -> None:
    if old is None:
        plan.creates.append(values)
    elif any(old.get(name) != value for name, value in values.items()):
        plan.updates.append(values | {"id": old["id"]})
    else:
        plan.unchanged += 1


# Grids


def _plan_grids(session: Session, rows: list[dict], problems: Problems) -> Plan:
    existing = _existing(session, Grid.code, Grid.id, Grid.name, Grid.level, Grid.parent_id, Grid.path)
    code_of = {grid["id"]: code for code, grid in existing.items()}
    for grid in existing.values():
        grid["parent_code"] = code_of.get(grid.pop("parent_id"))
    in_file = _by_key(rows, "code", problems)
    levels = {code: grid["level"] for code, grid in existing.items()}
    levels |= {code: row["level"] for code, row in in_file.items() if "level" in row}
    for row in rows:
        _check_grid(row, existing.get(row.get("code")), levels, problems)
    if problems:
        return Plan()
    return _grid_changes(session, existing, in_file, levels)


def _check_grid(row: dict, old: dict | None, levels: dict[str, int], problems: Problems) -> None:
    number, level, parent = row["row"], row.get("level"), row.get("parent_code")
    if level is None or problems.has(number, "parent_code"):
        return
    if old is not None and old["level"] != level:
        problems.add(number, "level", f"Grid {row['code']} is a {LEVEL_NAMES[old['level']]} (level "
                                      f"{old['level']}); the level of an existing grid cannot change.")
    elif level == 0 and parent:
        problems.add(number, "parent_code", "A city (level 0) has no parent; leave parent_code empty.")
    elif level > 0 and not parent:
        problems.add(number, "parent_code", f"Required for a {LEVEL_NAMES[level]} (level {level}).")
    elif parent and parent not in levels:
        problems.add(number, "parent_code", f"No grid with code {parent!r} in the database or in the file.")
    elif parent and levels[parent] != level - 1:
        problems.add(number, "level", f"A level {level} grid cannot sit under {parent}, a {LEVEL_NAMES[levels[parent]]}"
                                      f" (level {levels[parent]}): its children are level {levels[parent] + 1}.")


def _grid_changes(session: Session, existing: dict, in_file: dict, levels: dict) -> Plan:
    parents = {code: grid["parent_code"] for code, grid in existing.items()}
    parents |= {code: row.get("parent_code") for code, row in in_file.items()}
    paths = _paths(parents, levels)
    polygons = _polygons(session, [code for code, row in in_file.items()
                                   if code in existing and row.get("polygon") is not None])
    plan = Plan(ids={code: grid["id"] for code, grid in existing.items()})
    for code, row in in_file.items():
        values = {"code": code, "name": row["name"], "level": row["level"], "parent_code": parents[code],
                  "path": paths[code]}
        if row.get("polygon") is not None:
            values["polygon"] = row["polygon"]
        old = existing.get(code)
        _classify(plan, old and old | {"polygon": polygons.get(code)}, values)
    plan.knock_on = [{"id": grid["id"], "path": paths[code]} for code, grid in existing.items()
                     if code not in in_file and paths[code] != grid["path"]]
    return plan


def _paths(parents: dict[str, str | None], levels: dict[str, int]) -> dict[str, str]:
    """Every grid's materialized path once the file is in: parents first, as a parent's level is lower.

    That order is also why no grid can become its own ancestor: a level is always its parent's plus one.
    """
    paths = {}
    for code in sorted(parents, key=levels.__getitem__):
        parent = parents[code]
        paths[code] = (paths[parent] if parent else "/") + code + "/"
    return paths


def _polygons(session: Session, codes: list[str]) -> dict[str, str | None]:
    found = {}
    for start in range(0, len(codes), CHUNK):
        chunk = codes[start:start + CHUNK]
        found.update(session.execute(select(Grid.code, Grid.polygon).where(Grid.code.in_(chunk))).all())
    return found


def _write_grids(session: Session, plan: Plan) -> None:
    ids = dict(plan.ids)
    for level in LEVEL_NAMES:  # parents before children: a child needs its parent's id
        batch = [_grid_row(values, ids) | {"polygon": values.get("polygon")}
                 for values in plan.creates if values["level"] == level]
        if batch:
            ids.update(session.execute(insert(Grid).returning(Grid.code, Grid.id), batch).all())
    changes = [_grid_row(values, ids) for values in plan.updates] + plan.knock_on
    if changes:
        session.execute(update(Grid), changes)


def _grid_row(values: dict, ids: dict[str, int]) -> dict:
    row = {name: value for name, value in values.items() if name != "parent_code"}
    return row | {"parent_id": ids.get(values["parent_code"])}


# Departments


def _plan_departments(session: Session, rows: list[dict], problems: Problems) -> Plan:
    grids = _existing(session, Grid.code, Grid.id, Grid.level)
    existing = _existing(session, Department.code, Department.id, Department.name, Department.kind,
                         Department.grid_id)
    in_file = _by_key(rows, "code", problems)
    for row in rows:
        _check_jurisdiction(row, grids, problems)
    plan = Plan()
    if not problems:
        for code, row in in_file.items():
            _classify(plan, existing.get(code), {"code": code, "name": row["name"], "kind": row["kind"],
                                                 "grid_id": grids[row["grid_code"]]["id"]})
    return plan


def _check_jurisdiction(row: dict, grids: dict[str, dict], problems: Problems) -> None:
    code = row.get("grid_code")
    if code is None:
        return
    if code not in grids:
        problems.add(row["row"], "grid_code", f"No grid with code {code!r}.")
    elif grids[code]["level"] > 1:
        level = grids[code]["level"]
        problems.add(row["row"], "grid_code", f"Grid {code} is a {LEVEL_NAMES[level]} (level {level}); a "
                                              "department's jurisdiction must be a city or a town (level 0 or 1).")


def _write_departments(session: Session, plan: Plan) -> None:
    if plan.creates:
        session.execute(insert(Department), plan.creates)
    if plan.updates:
        session.execute(update(Department), plan.updates)


# Users


def _plan_users(session: Session, rows: list[dict], problems: Problems) -> Plan:
    grids = _existing(session, Grid.code, Grid.id, Grid.leader_id)
    departments = _existing(session, Department.code, Department.id)
    existing = _existing(session, User.username, User.id, User.display_name, User.role, User.grid_id,
                         User.department_id, User.phone)
    in_file = _by_key(rows, "username", problems)
    for row in rows:
        _check_user(row, row.get("username") in existing, grids, departments, problems)
    _check_one_leader_per_grid(rows, problems)
    plan = Plan()
    if problems:
        return plan
    led_by = {}
    for grid in grids.values():
        led_by.setdefault(grid["leader_id"], set()).add(grid["id"])
    for username, row in in_file.items():
        old = existing.get(username)
        values = {"username": username, "display_name": row["display_name"], "role": row["role"],
                  "grid_id": row.get("grid_code") and grids[row["grid_code"]]["id"],
                  "department_id": row.get("department_code") and departments[row["department_code"]]["id"]}
        if "phone" in row:  # without a phone column, phones stay as they are
            values["phone"] = row["phone"]
        if row.get("password"):  # an empty password keeps the old one
            values["password"] = row["password"]
        values["leads"] = _leadership(plan, row, grids, led_by.get(old["id"], set()) if old else set())
        _classify(plan, old and old | {"leads": False}, values)
    return plan


def _check_user(row: dict, known: bool, grids: dict, departments: dict, problems: Problems) -> None:
    number, role = row["row"], row.get("role")
    if not known and row.get("username") and not row.get("password") and not problems.has(number, "password"):
        problems.add(number, "password", "Required for a new user.")
    if role is None:
        return
    _check_reference(row, "grid_code", grids, role in GRID_ROLES, problems)
    _check_reference(row, "department_code", departments, role == "liaison", problems)
    if row.get("leader") and role != "grid_leader":
        problems.add(number, "leader", f"Only a grid_leader can lead a grid; this user is a {role}.")


def _check_reference(row: dict, column: str, known: dict, wanted: bool, problems: Problems) -> None:
    number, value, noun = row["row"], row.get(column), column.removesuffix("_code")
    if problems.has(number, column):
        return
    if value and not wanted:
        problems.add(number, column, f"Leave empty for the role {row['role']}.")
    elif wanted and not value:
        problems.add(number, column, f"Required for the role {row['role']}.")
    elif value and value not in known:
        problems.add(number, column, f"No {noun} with code {value!r}.")


def _check_one_leader_per_grid(rows: list[dict], problems: Problems) -> None:
    first = {}
    for row in rows:
        if row.get("leader") and row.get("grid_code"):
            if row["grid_code"] in first:
                problems.add(row["row"], "leader", f"Grid {row['grid_code']} already gets a leader on row "
                                                   f"{first[row['grid_code']]}; a grid has one leader.")
            first.setdefault(row["grid_code"], row["row"])


def _leadership(plan: Plan, row: dict, grids: dict, leads_now: set[int]) -> bool:
    """Record the grids whose leader changes with this row; True when there are any."""
    own = {grids[row["grid_code"]]["id"]} if row["role"] == "grid_leader" else set()
    if row.get("leader") is None:  # as it was, for as long as they remain a grid_leader of that grid
        wanted = leads_now & own
    else:
        wanted = own if row["leader"] else set()
    changes = [{"id": grid_id, "leader": None} for grid_id in leads_now - wanted]
    changes += [{"id": grid_id, "leader": row["username"]} for grid_id in wanted - leads_now]
    plan.knock_on += changes
    return bool(changes)


def _write_users(session: Session, plan: Plan) -> None:
    def stored(values: dict) -> dict:
        row = {name: value for name, value in values.items() if name not in ("leads", "password")}
        if values.get("password"):
            row["password_hash"] = plan.hashes[values["password"]]
        return row

    ids = {}
    if plan.creates:
        batch = [{"phone": None} | stored(values) for values in plan.creates]
        ids.update(session.execute(insert(User).returning(User.username, User.id), batch).all())
    if plan.updates:
        session.execute(update(User), [stored(values) for values in plan.updates])
        ids.update({values["username"]: values["id"] for values in plan.updates})
    leaders = {}  # a grid's old leader is let go before its new one is set, whichever row came first
    for change in sorted(plan.knock_on, key=lambda change: change["leader"] is not None):
        leaders[change["id"]] = ids.get(change["leader"])
    if leaders:
        session.execute(update(Grid), [{"id": grid_id, "leader_id": user} for grid_id, user in leaders.items()])


_STEPS = {  # kind -> (check the rows and plan the writes, make the writes)
    "grids": (_plan_grids, _write_grids),
    "departments": (_plan_departments, _write_departments),
    "users": (_plan_users, _write_users),
}
