"""待办 (the inbox: mine / to claim / overdue / due soon), claiming and releasing, and a task's page with the
form its step needs from the catalogue, the case in short, its photos and the evidence to attach.

A step whose form offers the side actions (退回, 申请延期, 挂起 as choices of its `action` field) shows each as its
own small form beside the main one, with the fields only that choice requires; the main form keeps the rest."""
from dataclasses import replace
from datetime import timedelta

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
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
CHOICE_FIELD = "action"  # the choice field whose side actions get their own buttons
SIDE_ACTIONS = {"return": _l("Return the case"), "extend": _l("Request the extension"),
                "suspend": _l("Request suspension")}


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


@bp.post("/tasks/<task_id>/actions/<action>")
@signed_in
def side_action(task_id, action):
    """退回, 申请延期 or 挂起: completes the task with that choice and the fields it requires (reason, days)."""
    user, deps = session.current_user(), session.deps()
    detail = views.task_detail(deps, user, task_id)
    _main, sides = _split(_step_form(detail))
    if action not in sides:
        abort(404)
    names = {f.name for f in sides[action]}
    data = {CHOICE_FIELD: action, **forms.task_data([f for f in detail["form"] if f["name"] in names], request.form)}
    try:
        services.complete_task(deps, user.id, task_id, data)
    except ValidationError as exc:
        side = {"action": action, "form": request.form, "errors": messages.field_errors(exc)}
        return _task_page(detail, MultiDict(), {}, messages.message(exc), 422, side=side)
    except (ConflictError, PermissionDenied, NotFoundError) as exc:
        return _lost(exc)
    flash(_("Done: %(task)s, case %(number)s", task=labels.label("task", detail["name"]),
            number=detail["case_number"]))
    return redirect(url_for("work.inbox"))


def _step_form(detail: dict):
    return session.deps().catalogue[detail["case_type"]].form(detail["name"])


def _split(fields) -> tuple[list, dict]:
    """The step's form as the main form and the side actions it offers, each with the fields only it requires."""
    control = next((f for f in fields if f.name == CHOICE_FIELD and f.kind == "choice"), None)
    offered = [a for a in SIDE_ACTIONS if control is not None and a in control.choices]
    if not offered:
        return list(fields), {}

    def wanted_by(f) -> set:
        return set(f.required_when[1]) if f.required_when and f.required_when[0] == CHOICE_FIELD else set()
    main = [replace(f, choices=tuple(c for c in f.choices if c not in offered)) if f is control else f
            for f in fields if not wanted_by(f) or not wanted_by(f) <= set(offered)]
    return main, {a: [f for f in fields if a in wanted_by(f)] for a in offered}


def _form_context(detail: dict, form, errors: dict) -> dict:
    main, sides = _split(_step_form(detail))
    control = next((f for f in main if f.name == CHOICE_FIELD and f.kind == "choice"), None)
    if sides and control is not None and len(control.choices) == 1 and not form.get(CHOICE_FIELD):
        form = MultiDict(form)  # the one outcome left in the main form is chosen already
        form[CHOICE_FIELD] = control.choices[0]
    data = forms.task_data(detail["form"], form)
    return {"task": detail, "fields": main, "data": data, "form": form, "errors": errors, "side_actions": sides,
            "side_buttons": SIDE_ACTIONS, "controls": {f.required_when[0] for f in main if f.required_when}}


def _task_page(detail: dict, form, errors: dict, error: str | None = None, status: int = 200, side=None):
    user, deps = session.current_user(), session.deps()
    case = views.case_detail(deps, user, detail["case_id"])
    files = attachments.list_attachments(deps, user, detail["case_id"])
    context = _form_context(detail, form, errors)
    page = render_template("task.html", case=case, files=files, error=error, nav="inbox",
                           evidence=[f for f in files if f["task_id"] == detail["id"]],
                           report_files=[f for f in files if f["task_id"] is None], catalogue=deps.catalogue,
                           evidence_kinds=EVIDENCE_KINDS, side=side or {"action": None, "form": {}, "errors": {}},
                           **context)
    return make_response(page, status)
