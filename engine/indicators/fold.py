"""A case's history folded into what the indicators count.

`fold(state, events, cal)` reads a case's timeline events in order (the raw rows: nothing else) into a small
state; `facts(state)` turns the state into counts, each on a local day and for a department. Folding the
events one batch at a time gives the same state as folding them all at once, which is what lets the rollup
be kept up to date from each transaction's new events and be rebuilt from scratch with the same code.

The events read: `filed`, `completed` (of register_case, dispatch_case, handle_case, follow_up, with their
form data), `task_opened` (handle_case: its department), `deadline_set`/`deadline_moved` (a step's due time),
`sla_breached`, `extended`, `reworked`, `suspended`/`resumed`, `supervision_ordered` and `closed`.
"""
from collections import defaultdict
from datetime import datetime

REGISTER, DISPATCH, HANDLE, FOLLOW_UP, WHOLE_CASE = "register_case", "dispatch_case", "handle_case", "follow_up", "case"
CLOSING_OUTCOMES = ("closed", "referred")  # a case that ends so was due to close; withdrawn, invalid... were not
READS = frozenset({"filed", "completed", "task_opened", "deadline_set", "deadline_moved", "sla_breached", "extended",
                   "reworked", "suspended", "resumed", "supervision_ordered", "closed"})  # every other kind: no-op


def empty() -> dict:
    return {"filed": None, "filed_at": None, "due": {}, "breached": [], "reg": None, "supervised": False,
            "dispatches": [], "assign": None, "assignments": [], "follows": [], "suspended_at": None,
            "suspended_minutes": 0.0, "case_breach_day": None, "closed": None}


def fold(state: dict | None, events, cal) -> dict:
    """The state after `events` (TimelineEvent rows or alike, in seq order), starting from `state`."""
    s = empty() if state is None else state
    for e in events:
        if e.kind in READS:
            _step(s, e, cal)
    return s


def _step(s: dict, e, cal) -> None:
    kind, payload, at = e.kind, e.payload or {}, e.at
    day = cal.local(at).date().isoformat()
    if kind == "filed":
        s["filed"], s["filed_at"] = day, at.isoformat()
    elif kind in ("deadline_set", "deadline_moved"):
        step = payload.get("step")
        s["due"][step] = datetime.fromisoformat(payload["due_at"]).isoformat()
        if kind == "deadline_set" and step in s["breached"]:
            s["breached"] = [b for b in s["breached"] if b != step]  # a fresh clock for the step
    elif kind == "sla_breached":
        step = payload.get("step")
        if step not in s["breached"]:
            s["breached"] = [*s["breached"], step]
        if step == WHOLE_CASE and s["case_breach_day"] is None:
            s["case_breach_day"] = day
        if step == HANDLE and s["assign"] is not None and s["assign"]["breach_day"] is None:
            s["assign"]["breach_day"] = day
    elif kind == "supervision_ordered":
        s["supervised"] = True
    elif kind == "task_opened" and payload.get("task") == HANDLE and s["assign"] is None:
        s["assign"] = {"start": at.isoformat(), "dept": payload.get("department") or "", "extended": False,
                       "breach_day": None, "paused": 0.0}
    elif kind == "extended" and s["assign"] is not None:
        s["assign"]["extended"] = True
    elif kind == "suspended":
        s["suspended_at"] = at.isoformat()
    elif kind == "resumed" and s["suspended_at"]:
        minutes = cal.working_minutes(datetime.fromisoformat(s["suspended_at"]), at)
        s["suspended_minutes"] += minutes
        if s["assign"] is not None:
            s["assign"]["paused"] += minutes
        s["suspended_at"] = None
    elif kind == "reworked":
        handled = [a for a in s["assignments"] if a["outcome"] == "handled"]
        if handled:
            handled[-1]["reworked"] = True
    elif kind == "completed":
        _completed(s, payload.get("task"), payload.get("data") or {}, at, day, cal)
    elif kind == "closed":
        _close_assignment(s, "abandoned", at, day, cal)
        outcome = payload.get("outcome") or e.reason
        on_time = WHOLE_CASE not in s["breached"] and _before_due(s, WHOLE_CASE, at)
        minutes = cal.working_minutes(datetime.fromisoformat(s["filed_at"]), at) - s["suspended_minutes"] \
            if s["filed_at"] else 0.0
        s["closed"] = {"day": day, "outcome": outcome, "on_time": on_time, "minutes": round(max(minutes, 0.0), 1)}


def _completed(s, task, data, at, day, cal) -> None:
    if task == REGISTER:
        s["reg"] = {"day": day, "valid": data.get("decision", "valid") == "valid",
                    "on_time": REGISTER not in s["breached"] and _before_due(s, REGISTER, at)}
    elif task == DISPATCH:
        _close_assignment(s, "abandoned", at, day, cal)  # a re-dispatch (after an escalation) starts afresh
        s["dispatches"].append([day, DISPATCH not in s["breached"] and _before_due(s, DISPATCH, at)])
    elif task == HANDLE and data.get("action") in ("feedback", "return"):
        _close_assignment(s, "handled" if data["action"] == "feedback" else "returned", at, day, cal)
    elif task == FOLLOW_UP:
        s["follows"].append([day, bool(data.get("satisfied"))])


def _close_assignment(s, outcome, at, day, cal) -> None:
    a = s["assign"]
    if a is None:
        return
    s["assign"] = None
    if outcome == "abandoned" and a["breach_day"] is None:
        return  # cancelled before it was due: nothing was owed
    on_time = outcome == "handled" and a["breach_day"] is None and _before_due(s, HANDLE, at)
    minutes = cal.working_minutes(datetime.fromisoformat(a["start"]), at) - a["paused"] if outcome == "handled" \
        else 0.0
    settled = min(day, a["breach_day"]) if a["breach_day"] else day
    s["assignments"].append({"day": settled, "dept": a["dept"], "outcome": outcome, "on_time": on_time,
                             "extended": a["extended"], "minutes": round(max(minutes, 0.0), 1), "reworked": False})


def _before_due(s, step, at) -> bool:
    due = s["due"].get(step)
    return due is None or at <= datetime.fromisoformat(due)


def facts(s: dict) -> dict[tuple[str, str], dict[str, float]]:
    """What the case counts for: {(local day, department code): {counter: amount}}."""
    out: dict = defaultdict(lambda: defaultdict(float))
    lead = next((a["dept"] for a in reversed(s["assignments"]) if a["dept"]), None)
    if lead is None:
        lead = (s["assign"] or {}).get("dept") or ""
    if s["filed"]:
        out[(s["filed"], lead)]["reported"] += 1
        if s["reg"] and s["reg"]["valid"]:
            out[(s["filed"], lead)]["valid_reports"] += 1
    reg = s["reg"]
    if reg:
        counts = out[(reg["day"], lead)]
        counts["reg_decided"] += 1
        if reg["valid"]:
            counts["registered"] += 1
            counts["registered_on_time"] += reg["on_time"]
            counts["supervised"] += s["supervised"]
    for day, on_time in s["dispatches"]:
        out[(day, lead)]["dispatched"] += 1
        out[(day, lead)]["dispatched_on_time"] += on_time
    assignments = list(s["assignments"])
    if s["assign"] is not None and s["assign"]["breach_day"]:  # still open, overdue: owed since its breach
        a = s["assign"]
        assignments.append({"day": a["breach_day"], "dept": a["dept"], "outcome": "open", "on_time": False,
                            "extended": a["extended"], "minutes": 0.0, "reworked": False})
    for a in assignments:
        counts = out[(a["day"], a["dept"])]
        counts["due_to_handle"] += 1
        counts["extended"] += a["extended"]
        if a["outcome"] == "handled":
            counts["handled"] += 1
            counts["handled_on_time"] += a["on_time"]
            counts["handle_minutes"] += a["minutes"]
            counts["reworked"] += a["reworked"]
        elif a["outcome"] == "returned":
            counts["returned"] += 1
    closed = s["closed"]
    if closed and closed["outcome"] in CLOSING_OUTCOMES:
        counts = out[(closed["day"], lead)]
        counts["due_to_close"] += 1
        counts["closed"] += 1
        counts["closed_on_time"] += closed["on_time"]
        counts["close_minutes"] += closed["minutes"]
    elif closed is None and s["case_breach_day"]:
        counts = out[(s["case_breach_day"], lead)]
        counts["due_to_close"] += 1
        counts["overdue_open"] += 1
    for day, satisfied in s["follows"]:
        out[(day, lead)]["follow_ups"] += 1
        out[(day, lead)]["satisfied"] += satisfied
    return {key: {c: v for c, v in counts.items() if v} for key, counts in out.items() if any(counts.values())}
