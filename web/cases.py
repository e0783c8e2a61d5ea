"""上报 (file a report, with the map and photos), 我的上报 (my reports), a case page with its timeline."""
from io import BytesIO

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from api import messages
from engine.cases import attachments, services
from engine.errors import GridflowError, ValidationError
from engine.read import pages, search, views
from engine.store import filetypes
from web import forms, present, session
from web.session import signed_in

bp = Blueprint("reports", __name__)
MAX_PHOTOS = 4
FORM_OVERHEAD = 64 * 1024


@bp.before_request
def _allow_photos():
    """A report or an upload carries photos: allow their size here only (the app's limit is 1 MB)."""
    if request.method == "POST" and request.endpoint in ("reports.report", "reports.upload"):
        request.max_content_length = session.deps().attachment_max_bytes * MAX_PHOTOS + FORM_OVERHEAD


@bp.route("/report", methods=["GET", "POST"])
@signed_in
def report():
    """The report form: type, title, description, severity, the place on the map, photos."""
    user, deps = session.current_user(), session.deps()
    if not session.can_report(user):
        abort(404)
    if request.method == "GET":
        return render_template("report.html", form={"severity": "medium"}, errors={}, nav="report",
                               catalogue=deps.catalogue, key=forms.new_key())
    form, key = request.form, request.form.get("idempotency_key") or None
    try:
        new = forms.new_case(form)
        case_id = services.file_case(deps, user.id, new, key)
        problems = _attach(deps, user, case_id, request.files.getlist("photos"), "report")
    except GridflowError as exc:
        return _refused(exc, form, key)
    number = views.case_detail(deps, user, case_id)["number"]
    flash(_("Reported. Case number: %(number)s", number=number))  # also for a JSON answer: the next page says it
    for problem in problems:
        flash(problem, "error")
    if forms.wants_json():  # the report page's script, online or sending its queue
        return jsonify(id=case_id, number=number, url=url_for("reports.case", case_id=case_id),
                       photo_errors=problems), 201
    return redirect(url_for("reports.case", case_id=case_id))


def _refused(exc: GridflowError, form, key):
    errors = messages.field_errors(exc)
    if "location" in errors or "grid_code" in errors:
        errors["place"] = errors.pop("location", []) + errors.pop("grid_code", [])
    status = 409 if exc.errors.get("Idempotency-Key") else 422
    if forms.wants_json():
        return jsonify(message=messages.message(exc), errors=errors), status
    return render_template("report.html", form=form, errors=errors, error=messages.message(exc), nav="report",
                           catalogue=session.deps().catalogue, key=key or forms.new_key()), status


def _attach(deps, user, case_id: int, files, kind: str, task_id: str | None = None) -> list[str]:
    """Attach each sent file; what went wrong with any, in words (the case or task stands either way)."""
    problems = []
    for upload in [f for f in files if f and f.filename][:MAX_PHOTOS]:
        try:
            attachments.upload_attachment(deps, user.id, case_id, attachments.Upload(
                filename=upload.filename, content=upload.read(), kind=kind, task_id=task_id))
        except GridflowError as exc:
            details = [m for texts in messages.field_errors(exc).values() for m in texts]
            problems.append(_("%(file)s was not attached: %(why)s", file=upload.filename,
                              why=" ".join(details) or messages.message(exc)))
    return problems


@bp.get("/report/locate")
@signed_in
def locate():
    """htmx: the unit grid at a tapped point or the phone's position, before the report is sent."""
    try:
        lat, lng = float(request.args["lat"]), float(request.args["lng"])
    except (KeyError, ValueError):
        return render_template("_place.html", place=None, missing=True)
    return render_template("_place.html", place=pages.locate(session.deps(), session.current_user(), lat, lng))


@bp.get("/report/grids.geojson")
@signed_in
def grid_map():
    """The grid polygons around the user's area, as GeoJSON for the map."""
    response = jsonify(pages.map_area(session.deps(), session.current_user()))
    response.cache_control.private, response.cache_control.max_age = True, 300
    return response


@bp.get("/my")
@signed_in
def mine():
    """我的上报: the cases I filed, newest first, with their status and next due time."""
    user, deps = session.current_user(), session.deps()
    try:
        found = search.find_cases(deps, user, reporter=user.username, limit=20,
                                  cursor=request.args.get("cursor") or None)
    except ValidationError:
        return redirect(url_for("reports.mine"))
    return render_template("mine.html", cases=found.items, cursor=found.next_cursor, nav="mine",
                           catalogue=deps.catalogue)


@bp.get("/cases/<int:case_id>")
@signed_in
def case(case_id):
    """A case: what was reported, its photos, its open tasks and its timeline in plain words."""
    user, deps = session.current_user(), session.deps()
    detail = views.case_detail(deps, user, case_id)
    files = attachments.list_attachments(deps, user, case_id)
    names = pages.display_names(deps, [e["actor"] for e in detail["timeline"]] + [detail["reporter"]])
    return render_template("case.html", case=detail, files=files, names=names,
                           events=present.timeline(detail, names, deps.catalogue),
                           nav="mine" if detail["reporter"] == user.username else "inbox")


@bp.post("/cases/<int:case_id>/photos")
@signed_in
def upload(case_id):
    """Add photos to a case I can see."""
    user, deps = session.current_user(), session.deps()
    views.case_detail(deps, user, case_id)  # 404 before reading files for a case out of scope
    for problem in _attach(deps, user, case_id, request.files.getlist("photos"), "report"):
        flash(problem, "error")
    return redirect(url_for("reports.case", case_id=case_id))


@bp.get("/files/<int:attachment_id>")
@signed_in
def file(attachment_id):
    """An attachment's bytes for someone who may see its case: photos inline, documents downloaded."""
    detail, content = attachments.attachment_content(session.deps(), session.current_user(), attachment_id)
    response = send_file(BytesIO(content), mimetype=detail["content_type"], download_name=detail["filename"],
                         as_attachment=detail["content_type"] not in filetypes.IMAGES, etag=detail["sha256"],
                         conditional=True)
    response.cache_control.private, response.cache_control.max_age = True, 3600
    return response
