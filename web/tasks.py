"""待办 (the inbox: mine / to claim / overdue / due soon), claiming and releasing, and a task's page with the
form its step needs from the catalogue, the case in short, its photos and the evidence to attach."""
from datetime import timedelta

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from api import messages
from engine.cases import attachments, services
from engine.errors import ConflictError, GridflowError, NotFoundError, PermissionDenied, ValidationError
from engine.read import pages, views
from web import cases, forms, labels, session
from web.session import signed_in

bp = Blueprint("work", __name__)
PAGE = 20
SOON = timedelta(hours=24)
TABS = ("mine", "offered", "overdue", "soon")
FILTERS = ("type", "grid", "severity")
EVIDENCE_KINDS = ("evidence_before", "evidence_after")


@bp.before_request
def _allow_evidence():
    if request.method == "POST" and request.endpoint == "work.task":
        request.max_content_length = session.deps().attachment_max_bytes * cases.MAX_PHOTOS + cases.FORM_OVERHEAD


def _inbox(notice: str | None = None, status: int = 200):
    """The inbox page, or its list alone for htmx, for the tab, filters and page in the query string."""
    user, deps = session.current_user(), session.deps()
    tab = request.values.get("tab") if request.values.get("tab") in TABS else "mine"
    filters = {name: request.values.get(name) for name in FILTERS if request.values.get(name)}
    query = {"scope": "mine" if tab == "mine" else "offered" if tab == "offered" else "inbox", **filters}
    if tab == "overdue":
        query["breached"] = True
    elif tab == "soon":
        query.update(breached=False, due_before=deps.clock.now() + SOON)
    error, rows, cursor = None, [], None
    try:
        found = views.list_tasks(deps, user, limit=PAGE, cursor=request.values.get("cursor") or None, **query)
        rows, cursor = found.items, found.next_cursor
    except ValidationError as exc:
        error = " ".join(m for texts in messages.field_errors(exc).values() for m in texts)
    now = deps.clock.now()
    for row in rows:
        row["overdue"] = row["due_at"] is not None and row["due_at"] < now
    context = dict(tab=tab, tabs=TABS, filters=filters, rows=rows, cursor=cursor, error=error, notice=notice,
                   grids=pages.grid_choices(deps, user), catalogue=deps.catalogue, nav="inbox")
    template = "_inbox_list.html" if request.headers.get("HX-Request") and request.method == "GET" else "inbox.html"
    if request.headers.get("HX-Request") and request.method == "POST":
        template = "_inbox_list.html"
    return make_response(render_template(template, **context), status)


@bp.get("/inbox")
@signed_in
def inbox():
    """待办: my tasks, tasks I may claim, overdue and due soon; filtered by type, grid and severity."""
    return _inbox()


@bp.post("/tasks/<task_id>/claim")
@signed_in
def claim(task_id):
    """Take a task; if someone else took it meanwhile, say so and show the inbox as it is now."""
    try:
        services.claim_task(session.deps(), session.current_user().id, task_id)
    except (ConflictError, PermissionDenied, NotFoundError) as exc:
        return _lost(exc)
    if request.headers.get("HX-Request"):
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url_for("work.task", task_id=task_id)
        return response
    return redirect(url_for("work.task", task_id=task_id))


@bp.post("/tasks/<task_id>/release")
@signed_in
def release(task_id):
    """Give a task back to the others who could take it."""
    try:
        services.release_task(session.deps(), session.current_user().id, task_id)
    except (ConflictError, PermissionDenied, NotFoundError) as exc:
        return _lost(exc)
    flash(_("Task given back."))
    return redirect(url_for("work.inbox", tab="offered"))


def _lost(exc: GridflowError):
    """The clear message, with the fresh inbox: a task someone else took or finished meanwhile."""
    text = messages.message(exc)
    if request.headers.get("HX-Request"):
        return _inbox(notice=text, status=200)
    flash(text, "error")
    return redirect(url_for("work.inbox", tab="offered"))


@bp.route("/tasks/<task_id>", methods=["GET", "POST"])
@signed_in
def task(task_id):
    """A task's page; posting it completes the task with its form and evidence."""
    user, deps = session.current_user(), session.deps()
    detail = views.task_detail(deps, user, task_id)
    if request.method == "GET":
        return _task_page(detail, MultiDict(), {})
    data = forms.task_data(detail["form"], request.form)
    evidence = [int(i) for i in request.form.getlist("evidence") if i.isdigit()]
    problems = []
    for kind in EVIDENCE_KINDS:
        problems += cases._attach(deps, user, detail["case_id"], request.files.getlist(kind), kind, task_id)
    evidence += [a["id"] for a in attachments.list_attachments(deps, user, detail["case_id"])
                 if a["task_id"] == task_id and a["id"] not in evidence]
    try:
        services.complete_task(deps, user.id, task_id, data, evidence)
    except ValidationError as exc:
        errors = messages.field_errors(exc)
        if problems:
            errors.setdefault("evidence", []).extend(problems)
        return _task_page(detail, request.form, errors, messages.message(exc), 422)
    except (ConflictError, PermissionDenied, NotFoundError) as exc:
        return _lost(exc)
    flash(_("Done: %(task)s, case %(number)s", task=labels.label("task", detail["name"]),
            number=detail["case_number"]))
    for problem in problems:
        flash(problem, "error")
    return redirect(url_for("work.inbox"))


@bp.post("/tasks/<task_id>/fields")
@signed_in
def fields(task_id):
    """htmx: the form's fields again for what is chosen so far, so fields become required as choices change."""
    detail = views.task_detail(session.deps(), session.current_user(), task_id)
    return render_template("_task_fields.html", **_form_context(detail, request.form, {}))


def _form_context(detail: dict, form, errors: dict) -> dict:
    case_type = session.deps().catalogue[detail["case_type"]]
    data = forms.task_data(detail["form"], form)
    return {"task": detail, "fields": case_type.form(detail["name"]), "data": data, "form": form,
            "errors": errors, "controls": {f.required_when[0] for f in case_type.form(detail["name"])
                                           if f.required_when}}


def _task_page(detail: dict, form, errors: dict, error: str | None = None, status: int = 200):
    user, deps = session.current_user(), session.deps()
    case = views.case_detail(deps, user, detail["case_id"])
    files = attachments.list_attachments(deps, user, detail["case_id"])
    context = _form_context(detail, form, errors)
    page = render_template("task.html", case=case, files=files, error=error, nav="inbox",
                           evidence=[f for f in files if f["task_id"] == detail["id"]],
                           report_files=[f for f in files if f["task_id"] is None], catalogue=deps.catalogue,
                           evidence_kinds=EVIDENCE_KINDS, **context)
    return make_response(page, status)
