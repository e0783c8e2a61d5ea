"""SLA clocks: one for the whole case and one per step (task name), in business time.

A step's clock starts when its task opens, keeps running while an extension or a suspension is being
decided, pauses while the case is suspended and resumes where it stopped, moves its due time by an
approved extension, and stops when the step is done; a re-dispatch after a return, or an escalation,
starts the step's clock afresh. The whole-case clock starts at filing, pauses while suspended and stops at closing.
Each running clock has deadline rows: warnings at fractions of its limit, and the breach at its due time.
Which step is the handling step, and which case statuses pause or keep clocks running, the catalogue says
(`CaseType.loop`).

Limits come from the version's DMN tables, asked with the case's type and severity and the step (`case` for
the whole case); the first matching row of a table answers amount, unit and policy. The type's own table
(`type_sla_limit`, bpmn/<type>/sla.dmn) is asked first, the shared one (`sla_limit`, bpmn/shared/sla.dmn)
only when none of the type's rows matches: a type's row wins over the shared rows for its step. A version
without a table of its own (the general types; versions deployed before the tables were split, whose one
shared table still holds every type's rows) reads the shared table alone.
"""
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.process.catalogue import CaseType
from engine.process.specs import ProcessSpec
from engine.sla import keys
from engine.sla.calendar import BusinessCalendar
from engine.store import case_rows, timeline
from engine.store.model import Case, Deadline, Holiday, SlaClock

WARN_AT = (0.5, 0.8)
SLA_TABLES = ("type_sla_limit", "sla_limit")  # the type's own rows, then the shared ones
WHOLE_CASE = case_rows.WHOLE_CASE


def calendar(session: Session, deps) -> BusinessCalendar:
    """The business calendar of the configured office hours, with the admins' overrides; once per session."""
    if "calendar" not in session.info:
        overrides = {h.day: h.kind for h in session.scalars(select(Holiday))}
        session.info["calendar"] = BusinessCalendar(tz=deps.timezone, periods=deps.office_hours, overrides=overrides)
    return session.info["calendar"]


def sync(session: Session, spec: ProcessSpec, case_type: CaseType, case: Case, happened: list[dict], now: datetime,
         cal: BusinessCalendar, warn_at: tuple[float, ...] = WARN_AT) -> list[Deadline]:
    """Start, pause, resume, extend and stop the case's clocks after an engine run; returns new deadlines.

    The case's tasks, clocks and deadlines are those its transaction holds (engine/store/case_rows.py): a case
    just filed reads nothing. The clocks started in one run are written together (one INSERT: their ids name
    their deadlines); the rest goes in with the transaction's flush, the new deadlines at its commit."""
    created: list[Deadline] = []
    started: list[SlaClock] = []
    rows = case_rows.of(session, case.id)
    clocks = rows.running_clocks()
    open_tasks = {t.name: t for t in rows.open_tasks()}
    if case.closed_at is None and not rows.has_clock(WHOLE_CASE):
        _start(session, spec, case, WHOLE_CASE, now, cal, started, warn_at)
    running = {c.step: c for c in clocks}
    escalated = any(h.get("counter") == "escalations" for h in happened)
    for clock in clocks:
        if escalated and clock.step != WHOLE_CASE:
            _stop(session, clock, now)  # the level the case climbed to gets its own time
        else:
            _follow(session, clock, case, case_type.loop, open_tasks, now, cal, created)
    for name, task in open_tasks.items():
        clock = running.get(name)
        if clock is None or clock.stopped_at is not None:
            clock = _start(session, spec, case, name, now, cal, started, warn_at)
        task.due_at = clock.due_at if clock is not None else None
    handling_step = case_type.loop.handling_step
    for happening in happened:
        if happening.get("timeline") == "extended" and happening.get("extension"):
            handling = running.get(handling_step)
            if handling is not None and handling.stopped_at is None:
                _extend(session, handling, float(happening["extension"]), now, cal, created)
                if handling_step in open_tasks:
                    open_tasks[handling_step].due_at = handling.due_at
    if started:  # their ids name their deadlines: written now, in one statement
        for clock in case_rows.write_now(session, started):
            created += _schedule(session, clock, cal)
    return created  # inserted at the commit (engine/store/case_rows.add_deadlines), then scheduled by due time


def _follow(session, clock, case, loop, open_tasks, now, cal, created) -> None:
    paused = case.status == loop.paused
    waiting = paused or case.status in loop.keep_running  # the step is not done, it waits on a decision
    if case.closed_at is not None:
        _stop(session, clock, now)
    elif clock.step != WHOLE_CASE and clock.step not in open_tasks and not waiting:
        _stop(session, clock, now)
    elif paused and clock.paused_at is None and clock.step not in open_tasks:
        _pause(session, clock, now, cal)
    elif not paused and clock.paused_at is not None:
        _resume(session, clock, now, cal, created)


def _start(session, spec, case, step, now, cal, started, warn_at) -> SlaClock | None:
    limit = spec.decide(SLA_TABLES, {"case_type": case.type, "severity": case.severity, "step": step})
    if not limit or not limit.get("amount"):
        return None
    due = cal.add(now, float(limit["amount"]), limit["unit"])
    clock = SlaClock(case_id=case.id, step=step, amount=float(limit["amount"]), unit=limit["unit"],
                     policy=limit.get("policy", ""), started_at=now, due_at=due.at, generation=0, explanation={
                         "policy": limit.get("policy", ""), "calendar": due.explanation,
                         "limit_minutes": _span(cal, limit["unit"], now, due.at), "consumed_minutes": 0.0,
                         "running_since": _local(cal, now), "pauses": [], "extensions": [],
                         "warn_at": list(warn_at)})
    _record(session, clock, now, "deadline_set", cal)
    started.append(clock)  # written by `sync`, all together
    return clock


def _pause(session, clock, now, cal) -> None:
    state = dict(clock.explanation)
    state["consumed_minutes"] += _span(cal, clock.unit, datetime.fromisoformat(state["running_since"]), now)
    state["pauses"] = [*state["pauses"], {"from": _local(cal, now)}]
    clock.explanation, clock.paused_at = state, now
    _cancel_pending(session, clock, now)
    _record(session, clock, now, "deadline_paused", cal)


def _resume(session, clock, now, cal, created) -> None:
    state = dict(clock.explanation)
    state["pauses"] = [*state["pauses"][:-1], {**state["pauses"][-1], "to": _local(cal, now)}]
    state["running_since"] = _local(cal, now)
    clock.due_at = _after(cal, clock.unit, now, state["limit_minutes"] - state["consumed_minutes"])
    _warn_of_new_years(state, cal, now, clock.due_at)
    clock.explanation, clock.paused_at, clock.generation = state, None, clock.generation + 1
    _record(session, clock, now, "deadline_moved", cal)
    created += _schedule(session, clock, cal)


def _extend(session, clock, days: float, now, cal, created) -> None:
    new_due = cal.add(clock.due_at, days, "working_days")
    state = dict(clock.explanation)
    state["limit_minutes"] += _span(cal, clock.unit, clock.due_at, new_due.at)
    state["extensions"] = [*state["extensions"], {"at": _local(cal, now), "working_days": days,
                                                  "from": _local(cal, clock.due_at), "to": _local(cal, new_due.at)}]
    _warn_of_new_years(state, cal, clock.due_at, new_due.at)
    clock.due_at, clock.explanation, clock.generation = new_due.at, state, clock.generation + 1
    _cancel_pending(session, clock, now)
    _record(session, clock, now, "deadline_moved", cal)
    created += _schedule(session, clock, cal)


def _stop(session, clock, now) -> None:
    clock.stopped_at = now
    _cancel_pending(session, clock, now)


def _record(session, clock, now, kind, cal) -> None:
    """The timeline says when a step is due and why, whenever that is set or changes."""
    timeline.append(session, clock.case_id, now, None, kind, reason=clock.policy, payload={
        "step": clock.step, "due_at": _local(cal, clock.due_at), "explanation": clock.explanation})


def _warn_of_new_years(state: dict, cal: BusinessCalendar, start: datetime, due: datetime) -> None:
    """A clock moved (resumed, extended) into a year the official calendar lacks says so, as a new one would."""
    calendar = dict(state.get("calendar") or {})
    for key, language in (("warnings", "zh"), ("warnings_en", "en")):
        known = list(calendar.get(key) or [])
        calendar[key] = known + [w for w in cal.warnings_for(start, due, language) if w not in known]
    state["calendar"] = calendar


def _local(cal: BusinessCalendar, moment: datetime) -> str:
    """A time as stored in an explanation or a timeline payload: local, with its offset (+08:00)."""
    return cal.local(moment).isoformat()


def _schedule(session, clock, cal) -> list[Deadline]:
    """Deadline rows for the warnings and the breach still ahead of this clock."""
    state = clock.explanation
    fired = case_rows.of(session, clock.case_id).fired_fractions(clock)
    since = datetime.fromisoformat(state["running_since"])
    rows = []
    for fraction in (*state.get("warn_at", WARN_AT), 1.0):
        target = fraction * state["limit_minutes"] - state["consumed_minutes"]
        if fraction in fired or target < 0:
            continue
        at = clock.due_at if fraction == 1.0 else _after(cal, clock.unit, since, target)
        rows.append(Deadline(case_id=clock.case_id, clock_id=clock.id, fraction=fraction, name=clock.step,
                             kind="breach" if fraction == 1.0 else "warning", due_at=at,
                             key=keys.sla(clock.id, clock.generation, fraction)))
    return case_rows.add_deadlines(session, rows)


def _cancel_pending(session, clock, now) -> None:
    case_rows.cancel(session, case_rows.of(session, clock.case_id).pending(clock=clock), now)


def standing(clock: SlaClock, now: datetime, cal: BusinessCalendar) -> dict:
    """Where a clock stands at `now`: minutes left as its unit counts them (negative once overdue; for a stopped
    clock, as it stood when it stopped), the share of its limit used, and a level: ok, warning (past its first
    warning), breached, paused or stopped (in time)."""
    state = clock.explanation or {}
    limit = float(state.get("limit_minutes") or 0)
    if clock.paused_at is not None:
        left = limit - float(state.get("consumed_minutes") or 0)
    else:
        at = min(now, clock.stopped_at) if clock.stopped_at else now
        left = _span(cal, clock.unit, at, clock.due_at) if at <= clock.due_at else -_span(cal, clock.unit,
                                                                                          clock.due_at, at)
    used = (limit - left) / limit if limit else 0.0
    if clock.breached_at is not None or left < 0 or (left == 0 and not clock.stopped_at and now >= clock.due_at):
        level = "breached"
    elif clock.stopped_at is not None:
        level = "stopped"
    elif clock.paused_at is not None:
        level = "paused"
    else:
        level = "warning" if used >= min(state.get("warn_at") or WARN_AT) else "ok"
    return {"remaining_minutes": round(left, 1), "used": round(used, 3), "level": level}


def _span(cal, unit, start, end) -> float:
    if unit == "natural_days":
        return max((end - start).total_seconds() / 60, 0.0)
    return cal.working_minutes(start, end)


def _after(cal, unit, start, minutes) -> datetime:
    if unit == "natural_days":
        return start + timedelta(minutes=minutes)
    return cal.add_working_minutes(start, minutes)
