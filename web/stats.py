"""统计, the indicators (考核评价) on the supervisor's desk: a grid subtree's period as tables and charts, drilled
down from city to town to village to grid, each number linking to the cases it counts, and the same tables as
CSV and XLSX. Admins also set the score's weights and grades here. Reads engine/read/indicators.py, as the API."""
from datetime import date
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, json, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from api import indicator_export, messages
from engine.errors import ValidationError
from engine.indicators import definitions as d
from engine.indicators import rollup
from engine.read import drilldown
from engine.read import indicators as ri
from engine.store.model import Department, Grid
from web import labels, session
from web.session import signed_in

bp = Blueprint("stats", __name__)
SHOWN = ("close_on_time", "close_rate", "handle_on_time", "handle_rate", "dispatch_on_time", "register_on_time",
         "satisfaction", "valid_report_rate", "rework_rate", "return_rate", "extension_rate", "supervision_rate",
         "handle_hours", "close_hours", "overdue_open")
CARDS = ("close_on_time", "close_rate", "handle_on_time", "satisfaction", "overdue_open")
COUNTED = ("reported", "registered", "due_to_close", "closed")


def _reader():
    user = session.current_user()
    if user.role not in ri.READERS:
        abort(404)
    return user


def _today(deps) -> date:
    return deps.clock.now().astimezone(ZoneInfo(deps.timezone)).date()


def _query(args, errors: dict) -> ri.Query:
    """The page's filters as a read query; a value that cannot be read is reported next to its field."""
    period = args.get("period") or "month"
    if period not in ri.PERIODS:
        errors["period"] = _("Choose a period from the list.")
        period = "month"
    at = None
    if args.get("date"):
        try:
            at = date.fromisoformat(args["date"])
        except ValueError:
            errors["date"] = _("Give a date as YYYY-MM-DD.")
    by = args.get("by") or "child"
    if by not in labels.GROUPINGS:
        errors["by"] = _("Choose a grouping from the list.")
        by = "child"
    return ri.Query(grid=args.get("grid") or None, department=args.get("department") or None,
                    case_type=args.get("type") or None, period=period, at=at, by=by)


def _search_base() -> str:
    """The case search page where the app has one (/search), else the API's case list with the same filters."""
    has_page = any(rule.rule == "/search" for rule in current_app.url_map.iter_rules())
    return "/search?" if has_page else "/api/v1/cases?"


def _links(base: str, span, **filters) -> dict[str, str]:
    """Each counter's cases in the search: those it counted on the period's days for the row's grid (type,
    reporter, department), so a number and the cases listed for it agree. 超期未办结 is a standing: any day."""
    links = {}
    for counter in d.COUNTERS:
        params = {**filters, "counted": counter}
        if counter not in d.NOW_COUNTERS:
            params["counted_from"], params["counted_to"] = span.start.isoformat(), span.end.isoformat()
        links[counter] = base + urlencode({k: v for k, v in params.items() if v})
    return links


def _department(code: str | None) -> str | None:
    """A department grouping row's key as the search's filter ("" is the cases never dispatched)."""
    return drilldown.NO_DEPARTMENT if code == "" else code


def _trail(s, user, grid_path: str) -> list[dict]:
    """The drill-down trail: the grid's ancestors from the reader's own grid down to it."""
    base = ri.home(s, user)
    codes = [c for c in grid_path.split("/") if c]
    rows = {g.code: g for g in s.scalars(select(Grid).where(Grid.code.in_(codes)))}
    return [{"code": c, "name": rows[c].name} for c in codes
            if c in rows and (user.role == "admin" or rows[c].path.startswith(base.path))]


def _chart(result, metric: str) -> dict:
    return {"labels": [r["label"] or _("No department") for r in result.rows],
            "values": [None if r["values"][metric] is None else round(r["values"][metric] * 100, 1)
                       for r in result.rows],
            "name": labels.label("indicator", metric)}


@bp.get("/stats")
@signed_in
def index():
    """A subtree's period: cards with 环比 and 同比, bars by the chosen grouping, a line by month, the table."""
    deps, user = session.deps(), _reader()
    errors: dict = {}
    q = _query(request.args, errors)
    rollup.catch_up(deps, rollup.FOR_A_READER)  # what was just done is in the numbers
    with deps.uow() as uow:
        s = uow.session
        try:
            result = ri.run(s, user, q, _today(deps), deps.catalogue)
        except ValidationError as exc:
            errors.update({k: messages.field_message(v[0]) for k, v in (exc.errors or {}).items()})
            q.department = q.case_type = q.at = None
            result = ri.run(s, user, q, _today(deps), deps.catalogue)
        yearly = ri.run(s, user, ri.Query(grid=result.grid["code"], department=q.department,
                                          case_type=q.case_type, period="year", at=result.span.start, by="month",
                                          compare=False), _today(deps), deps.catalogue)
        trail = _trail(s, user, result.grid["path"])
        departments = list(s.execute(select(Department.code, Department.name).order_by(Department.code)))
    level, base = result.grid["level"], _search_base()
    rows = []
    for row in result.rows:
        child_code = row.get("code") if result.by in ri.LEVEL_OF else None
        rows.append({**row, "drill": child_code if child_code and result.by != "unit" else None,
                     "links": _links(base, result.span, grid=child_code or result.grid["code"],
                                     type=row["code"] if result.by == "type" else q.case_type,
                                     reporter=row["code"] if result.by == "worker" else None,
                                     department=_department(row["key"]) if result.by == "department"
                                     else q.department)})
    months = {r["key"]: r["values"]["close_on_time"] for r in yearly.rows}
    line = {"labels": [f"{m:02d}" for m in range(1, 13)],
            "values": [None if months.get(f"{result.span.start.year}-{m:02d}") is None
                       else round(months[f"{result.span.start.year}-{m:02d}"] * 100, 1) for m in range(1, 13)],
            "name": labels.label("indicator", "close_on_time")}
    args = {k: v for k, v in request.args.items() if v and k != "format"}
    return render_template(
        "stats.html", nav="stats", result=result, rows=rows, total=result.total, trail=trail, errors=errors,
        q=q, shown=SHOWN, cards=CARDS, counted=COUNTED, level=level, departments=departments,
        by_label=_group_title(result.by), bars=json.dumps(_chart(result, "close_on_time")), line=json.dumps(line),
        total_links=_links(base, result.span, grid=result.grid["code"], type=q.case_type, department=q.department),
        csv_url=url_for("stats.export", **args, format="csv"), xlsx_url=url_for("stats.export", **args, format="xlsx"),
        date_value=(q.at or result.span.start).isoformat(), kinds=[i for i in d.INDICATORS if i.code in SHOWN],
        is_admin=user.role == "admin", types=list(deps.catalogue))


def _group_title(by: str) -> str:
    if by in ri.LEVEL_OF:
        return labels.label("level", ri.LEVEL_OF[by])
    return {"department": _("Department"), "type": _("Case type"), "worker": _("Grid worker")}.get(by, _("Area"))


@bp.get("/stats/export")
@signed_in
def export():
    """The page's table as CSV or XLSX (Chinese headers, numbers as numbers)."""
    deps, user = session.deps(), _reader()
    errors: dict = {}
    q = _query(request.args, errors)
    fmt = request.args.get("format", "xlsx")
    if errors or fmt not in ("csv", "xlsx"):
        abort(400)
    rollup.catch_up(deps, rollup.FOR_A_READER)
    with deps.uow() as uow:
        result = ri.run(uow.session, user, q, _today(deps), deps.catalogue)
    cells = indicator_export.table(result.rows, result.total)
    body = indicator_export.to_csv(cells) if fmt == "csv" else indicator_export.to_xlsx(cells, result.grid["name"])
    name = indicator_export.filename(result.span, result.grid["code"], fmt)
    mime = indicator_export.CSV_TYPE if fmt == "csv" else indicator_export.XLSX_TYPE
    return Response(body, content_type=mime, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/stats/settings", methods=["GET", "POST"])
@signed_in
def settings():
    """The composite score's weights and grade thresholds (admins only)."""
    deps, user = session.deps(), session.current_user()
    if user.role != "admin":
        abort(404)
    errors: dict = {}
    with deps.uow() as uow:
        values = ri.settings(uow.session)
        if request.method == "POST":
            changes = {}
            for name in values:
                raw = request.form.get(name, "").strip()
                try:
                    changes[name] = float(raw)
                except ValueError:
                    errors[name] = _("Give a number from 0 to 100.")
            if not errors:
                try:
                    ri.save_settings(uow.session, changes)
                    uow.commit()
                    return redirect(url_for("stats.settings", saved=1))
                except ValidationError as exc:
                    errors = {k: _setting_error(k, v) for k, v in (exc.errors or {}).items()}
            values = {**values, **{k: request.form.get(k, "") for k in values}}
    weights = [(f"weight.{c}", labels.label("indicator", c)) for c in d.SCORED]
    grades = [(f"grade.{g}", _("Grade %(letter)s from", letter=g)) for g in "ABCD"]
    page = render_template("stats_settings.html", nav="stats", values=values, weights=weights, grades=grades,
                           errors=errors, saved=request.args.get("saved"))
    return page, 400 if errors else 200


def _setting_error(name: str, problems: list) -> str:
    text = " ".join(problems)
    if "fall" in text:
        return _("Grade thresholds must fall from A to D.")
    if "above zero" in text:
        return _("At least one weight must be above zero.")
    return _("Give a number from 0 to 100.")
