"""管理 (administration), continued: the holiday calendar (a year of month grids with the official holidays,
make-up working days and the admins' overrides) and process versions (deploy the current files, move open
cases to them with the dry-run list first). Routes on the admin blueprint of web/admin.py."""
import calendar as months
import re
from datetime import date
from zoneinfo import ZoneInfo

from babel import dates
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from engine.cases import deploy
from engine.errors import NotFoundError
from engine.process.specs import content_hash
from engine.read import admin as queries
from engine.sla import holidays
from engine.sla.calendar import holiday_name_zh
from web import labels
from web import session as web_session
from web.admin import admin_only, bp

ACTIONS = ("holiday", "workday", "remove")
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _this_year() -> int:
    deps = web_session.deps()
    return deps.clock.now().astimezone(ZoneInfo(deps.timezone)).year


def _year(text: str | None) -> int:
    return int(text) if text and text.isdigit() and FIRST_YEAR <= int(text) <= LAST_YEAR else _this_year()


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def holiday_name(english: str | None) -> str:
    """A statutory holiday's name in the reader's language."""
    if not english:
        return ""
    return holiday_name_zh(english) if labels.chinese() else english


def _months(view: dict) -> list[dict]:
    """The year as month grids: weeks from Monday, None where a week reaches into another month."""
    by_day = {d["day"]: d for d in view["days"]}
    grids = []
    for month in range(1, 13):
        weeks = [[by_day.get(day) if day.month == month else None for day in week]
                 for week in months.Calendar().monthdatescalendar(view["year"], month)]
        grids.append({"month": month, "weeks": weeks})
    return grids


@bp.get("/holidays")
@admin_only
def holidays_page():
    """The holiday calendar of a year, with the day chosen in it (`day`) in the form to mark it."""
    chosen = _day(request.args.get("day"))
    return _calendar(_year(request.args.get("year")), {"day": chosen.isoformat() if chosen else "", "action": "",
                                                       "reason": None}, {})


@bp.post("/holidays")
@admin_only
def mark_day():
    """Mark a day a holiday or a make-up working day, with a reason, or remove its mark."""
    form = {name: request.form.get(name, "").strip() for name in ("day", "action", "reason")}
    day, errors = _day(form["day"]), {}
    if day is None or not FIRST_YEAR <= day.year <= LAST_YEAR:
        errors["day"] = [_("Enter a date from %(first)s to %(last)s.", first=FIRST_YEAR, last=LAST_YEAR)]
    if form["action"] not in ACTIONS:
        errors["action"] = [_("Choose what the day becomes.")]
    if form["action"] in ("holiday", "workday") and not form["reason"]:
        errors["reason"] = [_("Say why, e.g. 台风停工 or 春节调休.")]
    elif len(form["reason"]) > 100:
        errors["reason"] = [_("At most %(max)s characters.", max=100)]
    if not errors:
        try:
            if form["action"] == "remove":
                holidays.remove_day(web_session.deps(), day)
                flash(_("%(day)s follows the official calendar again.", day=form["day"]))
            else:
                holidays.set_day(web_session.deps(), day, form["action"], form["reason"])
                flash(_("%(day)s is now marked: %(kind)s.", day=form["day"],
                        kind=_("holiday") if form["action"] == "holiday" else _("make-up working day")))
            return redirect(url_for("administration.holidays_page", year=day.year, day=form["day"]) + "#mark")
        except NotFoundError:
            errors["action"] = [_("This day has no override to remove.")]
    year = day.year if day and "day" not in errors else _year(request.form.get("year"))
    return _calendar(year, form, errors), 422


def _calendar(year: int, form: dict, errors: dict) -> str:
    """The year page: month grids, the chosen day's state and the form (a reason of None: the day's own)."""
    view = holidays.year_view(web_session.deps(), year)
    chosen = _day(form.get("day"))
    selected = next((d for d in view["days"] if d["day"] == chosen), None)
    if form["reason"] is None:
        form["reason"] = selected["reason"] if selected else ""
    locale = get_locale()
    short = "narrow" if labels.chinese() else "abbreviated"
    weekdays = [(dates.get_day_names(short, locale=locale)[i], dates.get_day_names("wide", locale=locale)[i])
                for i in range(7)]
    return render_template("admin_holidays.html", nav="admin", view=view, months=_months(view), form=form,
                           weekdays=weekdays, month_names=dates.get_month_names("wide", locale=locale),
                           errors=errors, selected=selected, holiday_name=holiday_name,
                           overrides=[d for d in view["days"] if d["override"]])


# Process versions

BLOCKER = re.compile(r"(?:(?P<sub>[\w.-]+)/)?(?P<task>[\w.-]+) \((?P<state>\w+)\) is not in the new version")
SUBPROCESS = re.compile(r"the sub-process (?P<name>\S+) is not in the new version")


def blocker_text(reason: str) -> str:
    """Why a case cannot move, in the reader's language: the step it ran or waits on that the version lacks."""
    found = BLOCKER.fullmatch(reason)
    if found:
        task = labels.label("task", found["task"])
        states = {"completed": _("done"), "ready": _("waiting for someone"), "waiting": _("waiting"),
                  "started": _("running"), "cancelled": _("cancelled")}
        return _("Step %(task)s (%(state)s) is not in the new version.", task=task,
                 state=states.get(found["state"], found["state"]))
    found = SUBPROCESS.fullmatch(reason)
    if found:
        return _("The sub-process %(name)s is not in the new version.", name=found["name"])
    return reason


@bp.get("/versions")
@admin_only
def versions():
    """Each case type's deployed versions with the open cases each holds; deploy; move open cases."""
    return render_template("admin_versions.html", nav="admin", types=queries.process_versions(web_session.deps()))


@bp.post("/versions/deploy")
@admin_only
def deploy_versions():
    """Deploy the current files of every case type (running cases stay on their versions)."""
    deployed = deploy.deploy(web_session.deps())
    flash(_("The current files of %(count)s case types are deployed.", count=len(deployed)))
    return redirect(url_for("administration.versions"))


@bp.post("/versions/<case_type>/migrate")
@admin_only
def migrate(case_type):
    """Which open cases would move to the current version and which cannot, and why; with `to_version`
    (the version that list was made for) they are moved."""
    deps = web_session.deps()
    found = deps.catalogue.get(case_type)
    if found is None:
        abort(404)
    confirmed = request.form.get("to_version")
    if confirmed and confirmed != content_hash(found.read_files())[:12]:
        flash(_("The process files changed after the check; check again before moving cases."), "error")
        return redirect(url_for("administration.versions"))
    report = deploy.migrate_cases(deps, case_type, dry_run=not confirmed)
    return render_template("admin_migrate.html", nav="admin", report=report, blocker_text=blocker_text,
                           done=bool(confirmed))
