"""案件查询 (case search) with every filter of the API's GET /cases, page by page as the API, and the result
exported as CSV or XLSX: streamed page by page, in the searcher's scope only, with Chinese headers."""
from datetime import date, datetime, time, timedelta

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from api import messages
from engine.errors import ValidationError
from engine.indicators.definitions import COUNTERS
from engine.read import drilldown, pages, search
from web import exports, labels, session
from web.i18n import TIMEZONE
from web.session import signed_in

bp = Blueprint("search", __name__)
PAGE = 20
TEXTS = {"number": 40, "q": 200, "reporter": 64}  # longest value of each text filter, as the API's
CHOICES = ("type", "grid", "status", "severity", "counted", "department")
FLAGS = ("open", "overdue", "breached")
DAYS = ("filed_from", "filed_to")
COUNTED_DAYS = ("counted_from", "counted_to")  # local days, inclusive, as the indicators' periods


def statuses(catalogue) -> list[str]:
    """Every status a case can have, as the search knows them."""
    return sorted({"reported", *(s for t in catalogue.values() for s in (*t.statuses, *t.outcomes.values()))})


def read_filters(args) -> tuple[dict, dict, dict]:
    """(the search's keyword arguments, the form's values as typed, field errors) from the query string."""
    query, form, errors = {}, {}, {}
    for name, longest in TEXTS.items():
        form[name] = args.get(name, "").strip()
        if len(form[name]) > longest:
            errors[name] = [_("At most %(max)s characters.", max=longest)]
        elif form[name]:
            query[name] = form[name]
    for name in CHOICES:
        form[name] = args.get(name, "")
        if form[name]:
            query[name] = form[name]
    for name in FLAGS:
        form[name] = args.get(name, "")
        if form[name] in ("true", "false"):
            query[name] = form[name] == "true"
    for name in DAYS:
        form[name] = args.get(name, "").strip()
        if form[name]:
            try:
                day = date.fromisoformat(form[name])
            except ValueError:
                errors[name] = [_("Enter a date like 2026-11-30.")]
                continue
            if name == "filed_to":
                day += timedelta(days=1)  # the whole day it names
            query[name] = datetime.combine(day, time(), exports.LOCAL)
    for name in COUNTED_DAYS:
        form[name] = args.get(name, "").strip()
        if form[name]:
            try:
                query[name] = date.fromisoformat(form[name])
            except ValueError:
                errors[name] = [_("Enter a date like 2026-11-30.")]
    form["sort"] = args.get("sort") if args.get("sort") in search.CASE_SORTS else "-created"
    query["sort"] = form["sort"]
    return query, form, errors


@bp.get("/search")
@signed_in
def index():
    """案件查询: the cases I may see that match the filters, newest first, one page at a time."""
    user, deps = session.current_user(), session.deps()
    query, form, errors = read_filters(request.args)
    rows, cursor, status, tally = [], None, 200, None
    if not errors:
        try:
            found = search.find_cases(deps, user, limit=PAGE, cursor=request.args.get("cursor") or None, **query)
            rows, cursor = found.items, found.next_cursor
            if form["counted"] or form["department"]:
                tally = search.tally_cases(deps, user, **{k: v for k, v in query.items() if k != "sort"})
        except ValidationError as exc:
            errors, status = messages.field_errors(exc), 422
    else:
        status = 422
    args = {k: v for k, v in form.items() if v and not (k == "sort" and v == "-created")}
    departments = pages.department_choices(deps)
    return render_template("search.html", form=form, errors=errors, rows=rows, cursor=cursor, args=args,
                           grids=pages.grid_choices(deps, user), statuses=statuses(deps.catalogue),
                           departments=departments, counters=COUNTERS, tally=tally,
                           why=None if errors else why(form, departments),
                           catalogue=deps.catalogue, nav="search", timezone=TIMEZONE), status


def why(form: dict, departments: list[dict]) -> str | None:
    """The indicator filters in words ("按期结案 · 2026-11-01 至 2026-11-30 · 部门：司法所"): why these cases."""
    parts = []
    if form["counted"]:
        parts.append(labels.label("counter", form["counted"]))
    if form["counted_from"] or form["counted_to"]:
        parts.append(_("From %(start)s to %(end)s", start=form["counted_from"] or "…", end=form["counted_to"] or "…"))
    if form["department"]:
        names = {d["code"]: d["name"] for d in departments}
        name = _("No department") if form["department"] == drilldown.NO_DEPARTMENT else \
            names.get(form["department"], form["department"])
        parts.append(_("Department: %(name)s", name=name))
    return " · ".join(parts) or None


@bp.get("/search/export.<kind>")
@signed_in
def export(kind):
    """The whole result of the search as CSV (UTF-8 with a BOM, for Excel) or XLSX, streamed."""
    user, deps = session.current_user(), session.deps()
    query, _form, errors = read_filters(request.args)
    if kind not in exports.KINDS:
        return render_template("error.html", title=_("Not found"), text=_("Not found, or outside your area.")), 404
    if errors:
        return index()
    try:
        search.find_cases(deps, user, limit=1, **query)  # a filter that names nothing answers on the page
    except ValidationError:
        return index()
    return exports.response(kind, deps, user, query)
