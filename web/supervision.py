"""督办 (supervision orders) in the supervisor's area: open, overdue and answered lists, answering one; a case's
supervision page: issue an order with instructions and an answer-by time, or escalate the case now with a reason.
The supervisor's review tasks are in the inbox (web/tasks.py)."""
from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from api import messages
from engine.cases import services, supervision
from engine.errors import ConflictError, GridflowError, ValidationError
from engine.read import pages, views
from web import session
from web.exports import LOCAL
from web.gridmap import desk_user
from web.session import signed_in

bp = Blueprint("orders", __name__)
TABS = ("open", "overdue", "answered")


@bp.get("/supervision")
@signed_in
def index():
    """督办: the orders on cases in my area, open (the default), overdue or answered."""
    return _list(request.args.get("tab"))


def _list(tab: str | None, errors: dict | None = None, answering: int | None = None, status: int = 200):
    user, deps = desk_user(), session.deps()
    tab = tab if tab in TABS else "open"
    orders = supervision.list_orders(deps, user, tab)
    now = deps.clock.now()
    for order in orders:
        order["overdue"] = order["status"] == "open" and order["due_at"] < now
    return render_template("supervision.html", orders=orders, tab=tab, tabs=TABS, errors=errors or {},
                           answering=answering, nav="supervision"), status


@bp.post("/supervision/<int:order_id>/answer")
@signed_in
def answer(order_id):
    """Answer an open order with what is being done; back to the list it was answered from."""
    user, tab = desk_user(), request.form.get("tab")
    try:
        supervision.answer_order(session.deps(), user.id, order_id, request.form.get("answer", ""))
    except ValidationError as exc:
        return _list(tab, messages.field_errors(exc), order_id, 422)
    except ConflictError as exc:
        flash(messages.message(exc), "error")
        return redirect(url_for("orders.index", tab=tab))
    flash(_("Answer recorded."))
    return redirect(url_for("orders.index", tab=tab))


@bp.get("/supervision/cases/<int:case_id>")
@signed_in
def case(case_id):
    """A case's 督办 page: its orders, a form to issue one and a form to escalate the case now."""
    return _case_page(case_id)


def _case_page(case_id: int, form=None, errors: dict | None = None, error: str | None = None, status: int = 200):
    user, deps = desk_user(), session.deps()
    detail = views.case_detail(deps, user, case_id)
    orders = supervision.list_orders(deps, user, None, case_id=case_id)
    for order in orders:
        order["overdue"] = order["status"] == "open" and order["due_at"] < deps.clock.now()
    names = pages.display_names(deps, [detail["reporter"]])
    return render_template("supervise.html", case=detail, orders=orders, form=form or {}, errors=errors or {},
                           error=error, names=names, now=deps.clock.now(), nav="supervision",
                           catalogue=deps.catalogue), status


@bp.post("/supervision/cases/<int:case_id>/order")
@signed_in
def issue(case_id):
    """Issue a 督办 on the case: instructions, and when it must be answered (one working day if left empty)."""
    user, form = desk_user(), request.form
    due_at, errors = None, {}
    if form.get("due_at"):
        try:
            due_at = datetime.fromisoformat(form["due_at"]).replace(tzinfo=LOCAL)
        except ValueError:
            errors["due_at"] = [_("Enter a date and time.")]
    try:
        if errors:
            raise ValidationError("the deadline is not a time", errors)
        supervision.issue_order(session.deps(), user.id, case_id, form.get("reason", ""), due_at)
    except GridflowError as exc:
        return _refused(case_id, exc)
    flash(_("Supervision order issued."))
    return redirect(url_for("orders.case", case_id=case_id))


@bp.post("/supervision/cases/<int:case_id>/escalate")
@signed_in
def escalate(case_id):
    """Escalate the case one grid level up now, with a reason."""
    user = desk_user()
    try:
        services.escalate_case(session.deps(), user.id, case_id, request.form.get("escalate_reason", ""))
    except GridflowError as exc:
        if isinstance(exc, ValidationError):
            exc = ValidationError(exc.message, {"escalate_reason": exc.errors.get("reason", [])})
        return _refused(case_id, exc)
    flash(_("Case escalated."))
    return redirect(url_for("orders.case", case_id=case_id))


def _refused(case_id: int, exc: GridflowError):
    """The case page again, with the form as it was sent and what is wrong next to its field."""
    if isinstance(exc, ValidationError):
        return _case_page(case_id, request.form, messages.field_errors(exc), messages.message(exc), 422)
    if isinstance(exc, ConflictError):
        return _case_page(case_id, request.form, {}, messages.message(exc), 409)
    raise exc
