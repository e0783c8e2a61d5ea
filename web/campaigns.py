"""任务 (campaigns): the worker's tab of assignments with the form to submit (photos included), the reviewer's
accept or return; on the supervisor's desk the list, the launch page, the progress of an area as a table and on
the map (grids coloured by their assignments' state), cancelling, and every submission as CSV or XLSX."""
import csv
import io
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook

from api import messages
from engine.campaigns import forms as campaign_forms
from engine.campaigns import services
from engine.errors import ConflictError, NotFoundError, PermissionDenied, ValidationError
from engine.read import campaigns as reads
from engine.read import gridmap, pages
from web import cases, forms, session
from web.i18n import TIMEZONE
from web.session import signed_in

bp = Blueprint("campaign_pages", __name__)
LAUNCH_ROLES = ("supervisor", "liaison", "admin")
FIELD_ROWS = 6
LOCAL = ZoneInfo(TIMEZONE)


@bp.before_request
def _allow_photos():
    if request.method == "POST" and request.endpoint == "campaign_pages.assignment":
        request.max_content_length = session.deps().attachment_max_bytes * cases.MAX_PHOTOS + cases.FORM_OVERHEAD


def _errors(exc: ValidationError) -> dict:
    return messages.field_errors(exc)


# ---------------------------------------------------------------- the field app: 任务


@bp.get("/assignments")
@signed_in
def mine():
    """任务: my grid's assignments and those waiting for my review, nearest due first."""
    user, deps = session.current_user(), session.deps()
    rows = reads.my_assignments(deps, user)
    return render_template("assignments.html", rows=rows, nav="assignments")


@bp.route("/assignments/<int:assignment_id>", methods=["GET", "POST"])
@signed_in
def assignment(assignment_id):
    """One assignment: its instructions and form; submit (with photos), or, for the reviewer, accept or return."""
    user, deps = session.current_user(), session.deps()
    errors, values, status = {}, {}, 200
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "submit":
                detail = reads.get_assignment(deps, user, assignment_id)
                values = forms.task_data([{**f, "kind": "int" if f["kind"] in campaign_forms.NUMERIC else f["kind"]}
                                          for f in detail["form"] if f["kind"] != "photo"], request.form)
                photos = [services.Photo(p.filename or "photo.jpg", p.read())
                          for p in request.files.getlist("photos") if p and p.filename]
                findings = []
                if request.form.get("finding_title", "").strip():
                    findings.append(services.NewFinding(request.form.get("finding_type") or "general",
                                                        request.form["finding_title"].strip(),
                                                        request.form.get("finding_description", ""),
                                                        request.form.get("finding_severity") or "medium"))
                try:
                    services.submit(deps, user.id, assignment_id, values, photos, findings)
                except ConflictError:
                    if not _sent_already(deps, user, assignment_id):
                        raise
                flash(_("Submitted."))
                if forms.wants_json():  # the offline queue, sending now or later
                    return jsonify(url=url_for("campaign_pages.mine"), number=""), 201
                return redirect(url_for("campaign_pages.mine"))
            if action in ("approve", "return"):
                services.review(deps, user.id, assignment_id, action == "approve", request.form.get("reason", ""))
                flash(_("Accepted.") if action == "approve" else _("Sent back."))
                return redirect(url_for("campaign_pages.mine"))
            if action == "accept":
                services.accept(deps, user.id, assignment_id)
                return redirect(url_for("campaign_pages.assignment", assignment_id=assignment_id))
            abort(400)
        except ValidationError as exc:
            errors, status = _errors(exc), 422
            values = request.form
            if forms.wants_json():
                return jsonify(message=messages.message(exc), errors=errors), status
        except (ConflictError, PermissionDenied) as exc:
            errors, status = {"_": [messages.message(exc)]}, 409
            if forms.wants_json():
                return jsonify(message=messages.message(exc), errors={}), status
        except NotFoundError:
            abort(404)
    try:
        detail = reads.get_assignment(deps, user, assignment_id)
    except NotFoundError:
        abort(404)
    return render_template("assignment.html", a=detail, errors=errors, values=values or {},
                           catalogue=deps.catalogue, nav="assignments"), status


def _sent_already(deps, user, assignment_id) -> bool:
    """A resend from the offline queue whose first send did reach the server: the user's submission is there."""
    detail = reads.get_assignment(deps, user, assignment_id)
    return bool(detail["submissions"]) and detail["submissions"][-1]["submitted_by_id"] == user.id \
        and detail["step"] != "submit_assignment" and detail["status"] != "cancelled"


# ---------------------------------------------------------------- the desk


def _desk_user():
    user = session.current_user()
    if user.role not in LAUNCH_ROLES:
        abort(404)
    return user


@bp.get("/campaigns")
@signed_in
def index():
    user = _desk_user()
    return render_template("campaigns.html", rows=reads.list_campaigns(session.deps(), user), nav="campaigns")


@bp.route("/campaigns/new", methods=["GET", "POST"])
@signed_in
def launch():
    """Launch a campaign: title, instructions, the form's fields, the area and level (or chosen grids), the
    deadline in working days, an optional recurrence."""
    user, deps = _desk_user(), session.deps()
    errors, status = {}, 200
    if request.method == "POST":
        form = request.form
        fields = []
        for i in range(FIELD_ROWS):
            title = form.get(f"field_title_{i}", "").strip()
            if title:
                fields.append({"name": f"f{i + 1}", "title": title, "kind": form.get(f"field_kind_{i}", "text"),
                               "required": form.get(f"field_required_{i}") == "on",
                               "choices": [c.strip() for c in form.get(f"field_choices_{i}", "").split("，")
                                           for c in c.split(",") if c.strip()]})
        codes = tuple(c.strip() for c in form.get("grid_codes", "").replace("，", ",").split(",") if c.strip())
        days = form.get("working_days", "").strip()
        try:
            campaign_id = services.launch(deps, user.id, services.NewCampaign(
                title=form.get("title", ""), form=fields, working_days=int(days) if days.isdigit() else -1,
                root_grid_code=form.get("root_grid_code") or None,
                target_level=None if codes else int(form.get("target_level") or 4), grid_codes=codes,
                instructions=form.get("instructions", ""), recurrence=form.get("recurrence") or None))
            flash(_("The campaign was sent."))
            return redirect(url_for("campaign_pages.progress", campaign_id=campaign_id))
        except ValidationError as exc:
            errors, status = _errors(exc), 422
        except PermissionDenied as exc:
            errors, status = {"_": [messages.message(exc)]}, 403
    return render_template("campaign_new.html", errors=errors, values=request.form, rows=range(FIELD_ROWS),
                           kinds=campaign_forms.KINDS, grids=pages.grid_choices(deps, user), nav="campaigns"), status


@bp.get("/campaigns/<int:campaign_id>")
@signed_in
def progress(campaign_id):
    """The progress of an area (?under=) and of each grid under it, as a table and on the map."""
    user, deps = _desk_user(), session.deps()
    try:
        detail = reads.get_campaign(deps, user, campaign_id)
        done = reads.progress(deps, user, campaign_id, request.args.get("under") or None)
    except NotFoundError:
        abort(404)
    numeric = [f for f in detail["form"] if f["kind"] in campaign_forms.NUMERIC]
    return render_template("campaign.html", c=detail, p=done, numeric=numeric, nav="campaigns")


@bp.get("/campaigns/<int:campaign_id>/map/<code>.geojson")
@signed_in
def shapes(campaign_id, code):
    """The polygons of the grids under `code`, each coloured by the state of its assignments."""
    user, deps = _desk_user(), session.deps()
    try:
        done = reads.progress(deps, user, campaign_id, code)
        place = gridmap.grid_counts(deps, user, code, polygons=True)
    except NotFoundError:
        abort(404)
    states = {c["code"]: c for c in done["children"]}
    drawn = [g for g in place["children"] if g["code"] in states] or [place]
    features = []
    for g in drawn:
        node = states.get(g["code"], done["grid"])
        href = url_for("campaign_pages.progress", campaign_id=campaign_id, under=g["code"])
        if not g.get("polygon"):
            continue
        features.append({"type": "Feature", "geometry": g["polygon"], "properties": {
            "code": g["code"], "label": pages.short_name(g["name"], place["name"]) if g is not place else g["name"],
            "state": "calm" if node["state"] == "open" else node["state"], "open": 0,
            "href": href if g is not place else None,
            "title": _("%(name)s: %(submitted)s of %(expected)s submitted", name=g["name"],
                       submitted=node["submitted"], expected=node["expected"])}})
    return jsonify({"type": "FeatureCollection", "features": features})


@bp.post("/campaigns/<int:campaign_id>/cancel")
@signed_in
def cancel(campaign_id):
    user, deps = _desk_user(), session.deps()
    try:
        services.cancel(deps, user.id, campaign_id, request.form.get("reason", ""))
        flash(_("The campaign was cancelled."))
    except ValidationError:
        flash(_("Say why the campaign is cancelled."))
    except (ConflictError, PermissionDenied) as exc:
        flash(messages.message(exc))
    except NotFoundError:
        abort(404)
    return redirect(url_for("campaign_pages.progress", campaign_id=campaign_id))


@bp.get("/campaigns/<int:campaign_id>/submissions.<kind>")
@signed_in
def export(campaign_id, kind):
    """Every submission of the campaign in my area, as CSV (UTF-8 with BOM) or XLSX, headers in Chinese."""
    user, deps = _desk_user(), session.deps()
    if kind not in ("csv", "xlsx"):
        abort(404)
    try:
        form, rows = reads.export_rows(deps, user, campaign_id)
    except NotFoundError:
        abort(404)
    with force_locale("zh_CN"):
        head = [_("Grid code"), _("Grid"), _("Submitted by"), _("Submitted at"), _("Submitted on time"), _("Review"),
                _("Reason"), _("Photos")] + [f["title"] for f in form if f["kind"] != "photo"]
        reviews = {"pending": _("Waiting for review"), "approved": _("Accepted"), "returned": _("Sent back"),
                   "cancelled": _("Cancelled")}
        yes, no = _("Yes"), _("No")
    table = [[r["grid_code"], r["grid_name"], r["submitted_by"],
              r["submitted_at"].astimezone(LOCAL).replace(tzinfo=None), yes if r["on_time"] else no,
              reviews.get(r["review"], r["review"]), r["reason"], r["photos"]]
             + [_cell(r["data"].get(f["name"])) for f in form if f["kind"] != "photo"] for r in rows]
    name = f"campaign-{campaign_id}-submissions.{kind}"
    if kind == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(head)
        for row in table:
            writer.writerow([v.strftime("%Y-%m-%d %H:%M") if hasattr(v, "strftime") else v for v in row])
        body, mime = "\ufeff" + buffer.getvalue(), "text/csv; charset=utf-8"
    else:
        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(head)
        for row in table:
            sheet.append(row)
        out = io.BytesIO()
        book.save(out)
        body, mime = out.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mime, headers={"Content-Disposition": f"attachment; filename={name}"})


def _cell(value):
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return "、".join(value)
    return value
