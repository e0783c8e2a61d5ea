"""The dossier's numbers in words: how long is left on a clock, why a step is due when it is (the rule, the days
skipped and the make-up days counted, pauses, extensions), what broke a timeline's chain, and a decision
table's cells by their labels."""
import ast
import re
from datetime import date, datetime

from babel import dates
from flask_babel import get_locale
from flask_babel import gettext as _

from web import labels
from web.i18n import when

WHOLE_CASE = "case"
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")


def step_title(step: str) -> str:
    return _("The whole case") if step == WHOLE_CASE else labels.label("task", step)


def span(minutes: float, unit: str) -> str:
    """A length of time as the clock's unit counts it: days and hours of natural time, else working time."""
    total = round(abs(minutes))
    if unit == "natural_days":
        days, rest = divmod(total, 1440)
        return _("%(days)s d %(hours)s h", days=days, hours=rest // 60) if days else \
            _("%(hours)s h %(minutes)s min", hours=rest // 60, minutes=rest % 60)
    return _("%(hours)s h %(minutes)s min of working time", hours=total // 60, minutes=total % 60)


def remaining(standing: dict, unit: str) -> str:
    """What is left on a clock, or how late it is."""
    minutes = standing["remaining_minutes"]
    if standing["level"] == "breached":
        return _("overdue by %(time)s", time=span(minutes, unit)) if minutes < 0 else _("time is up")
    return _("%(time)s left", time=span(minutes, unit))


def clock(c: dict, standing: dict) -> dict:
    """One clock for the dossier: its step, policy, due time, what is left, and the explanation of its due time."""
    state, chinese = c["explanation"] or {}, labels.chinese()
    cal = state.get("calendar") or {}
    counting = cal.get("counting_from")
    return {
        "step": c["step"], "title": step_title(c["step"]), "policy": c["policy"], "level": standing["level"],
        "level_label": labels.label("clock", standing["level"]), "due": when(c["due_at"]),
        "remaining": remaining(standing, c["unit"]), "started": when(c["started_at"]),
        "counting_from": when(datetime.fromisoformat(counting)) if counting else "",
        "limit": _("%(amount)s %(unit)s", amount=_number(c["amount"]), unit=labels.label("unit", c["unit"])),
        "counted": span(state.get("limit_minutes") or 0, c["unit"]), "used": round(standing["used"] * 100),
        "rule": cal.get("rule") if chinese else cal.get("rule_en"),
        "office_hours": "、".join(cal.get("office_hours") or []),
        "skipped": day_runs(cal.get("skipped_days") or []), "make_up": day_runs(cal.get("make_up_days") or []),
        "warnings": cal.get("warnings" if chinese else "warnings_en") or [],
        "pauses": [_("from %(start)s to %(end)s", start=_at(p.get("from")), end=_at(p.get("to")) or _("now"))
                   for p in state.get("pauses") or []],
        "extensions": [_("%(days)s more working days granted on %(at)s: due %(old)s, now %(new)s",
                         days=_number(e.get("working_days")), at=_at(e.get("at")), old=_at(e.get("from")),
                         new=_at(e.get("to"))) for e in state.get("extensions") or []],
    }


def day_runs(days: list[dict]) -> list[str]:
    """Consecutive days with one reason as one line: 2026年10月1日 – 2026年10月7日：国庆节（7 天）."""
    runs: list[list] = []
    for entry in days:
        day, why = date.fromisoformat(entry["date"]), day_reason(entry.get("why", ""))
        if runs and runs[-1][2] == why and (day - runs[-1][1]).days == 1:
            runs[-1][1] = day
        else:
            runs.append([day, day, why])
    lines = []
    for first, last, why in runs:
        count = (last - first).days + 1
        period = _format_day(first) if count == 1 else f"{_format_day(first)} – {_format_day(last)}"
        lines.append(_("%(period)s: %(why)s (%(count)s days)", period=period, why=why, count=count))
    return lines


def day_reason(why: str) -> str:
    """Why the calendar counts a day as it does, from the calendar's code for it."""
    if why.startswith("holiday: "):
        return why.removeprefix("holiday: ")
    if why.startswith("override: "):
        return _("Day off set by the administrators") if why.endswith("holiday") else \
            _("Working day set by the administrators")
    if why.startswith("make-up"):
        return _("Make-up working day (调休)")
    if why.startswith("weekend"):
        return _("Weekend")
    return _("Holiday")


def chain(check: dict, events: list[dict]) -> dict:
    """The timeline badge: intact, or where the chain breaks and which event that is."""
    if check["intact"]:
        return {"intact": True, "text": _("Timeline intact: all %(count)s events verify", count=check["events"])}
    reason = check.get("reason") or ""
    why = (_("it was changed after it was written") if "does not match its seal" in reason else
           _("an event before it was replaced or removed") if "does not follow" in reason else
           _("events are missing") if "missing" in reason else
           _("an event was added after the last one recorded") if "was added" in reason else
           _("the case's record of its last event was altered"))
    event = next((e for e in events if e["seq"] == check["broken_at"]), None)
    named = _("event %(seq)s (%(what)s, %(when)s)", seq=check["broken_at"], what=event["what"],
              when=when(event["at"])) if event else _("event %(seq)s", seq=check["broken_at"])
    return {"intact": False, "seq": check["broken_at"],
            "text": _("Timeline broken at %(event)s: %(why)s", event=named, why=why)}


def cell(column: str, text: str, catalogue) -> str:
    """A decision table cell in words: a code by its label, a list by its labels, empty as "any"."""
    if text in ("", "-"):
        return _("any")
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    if isinstance(value, list | tuple):
        return "、".join(cell(column, repr(v), catalogue) for v in value) or _("none")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return text
    if column.endswith("_level") and isinstance(value, int):
        return labels.label("level", value)
    if not isinstance(value, str):
        return _number(value)
    return _code(column, value, catalogue)


def _code(column: str, value: str, catalogue) -> str:
    if column == "case_type":
        return labels.case_type(catalogue, value)
    if column in ("severity", "risk"):
        return labels.label("severity", value)
    if column == "step":
        return step_title(value)
    if column == "unit":
        return _("not timed") if value == "none" else labels.label("unit", value)
    if value in labels.DEPARTMENT_KINDS:
        return labels.label("department_kind", value)
    found = _DURATION.match(value)
    if found and any(found.groups()):
        days, hours, minutes = (int(g or 0) for g in found.groups())
        return span((days * 24 + hours) * 60 + minutes, "natural_days")
    return value


def _number(value) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _at(text: str | None) -> str:
    return when(datetime.fromisoformat(text)) if text else ""


def _format_day(day: date) -> str:
    return dates.format_date(day, "medium", locale=get_locale())
