"""案卷, the case dossier: the case page's richer variant for supervisors (and anyone who may see the case), with
the process diagram of the case's own version, the clocks and why they are due, the timeline by day with its
chain check, supervision orders and comments; printed as PDF, and each supervision order as a 督办单."""
from flask import Blueprint, abort, flash, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from api import messages
from engine.cases import attachments, comments
from engine.errors import GridflowError
from engine.read import diagrams, dossier, views
from engine.store import filetypes
from web import explain, labels, printing, session
from web.i18n import when
from web.present import timeline
from web.session import signed_in

bp = Blueprint("dossier", __name__)


def gather(case_id: int) -> dict:
    """Everything the dossier shows of a case the user may see (404 otherwise), in words."""
    user, deps = session.current_user(), session.deps()
    detail = views.case_detail(deps, user, case_id)
    extra = dossier.dossier(deps, user, case_id)
    files = attachments.list_attachments(deps, user, case_id)
    people = dossier.people(deps, [e["actor"] for e in detail["timeline"]] + [detail["reporter"]])
    names = {u: p["name"] for u, p in people.items()}
    images = frozenset(f["id"] for f in files if f["content_type"] in filetypes.IMAGES)
    events = timeline(detail, names, deps.catalogue, people, images)
    return {"case": detail, "extra": extra, "files": files, "names": names, "people": people, "events": events,
            "clocks": [explain.clock(c, extra["standing"][c["id"]]) for c in detail["clocks"]],
            "chain": explain.chain(extra["chain"], events),
            "comments": [e for e in events if e["kind"] == "commented"],
            "link": url_for("dossier.dossier_page", case_id=case_id, _external=True)}


@bp.get("/cases/<int:case_id>/dossier")
@signed_in
def dossier_page(case_id):
    """The dossier of a case: header, diagram, clocks, supervision orders, timeline by day, comments."""
    return render_template("dossier.html", **gather(case_id))


@bp.get("/cases/<int:case_id>/diagram.json")
@signed_in
def diagram(case_id):
    """The case's diagrams (BPMN of its own version) with marks and overlays in words, for the viewer."""
    found = diagrams.case_diagrams(session.deps(), session.current_user(), case_id)
    for drawing in found["diagrams"]:
        for overlay in drawing["overlays"]:
            overlay.update(due=_("due %(when)s", when=when(overlay.pop("due_at"))),
                           left=explain.remaining(overlay, overlay["unit"]),
                           title=explain.step_title(overlay["element"]),
                           level_label=labels.label("clock", overlay["level"]))
    found["version"]["deployed_at"] = found["version"]["deployed_at"].isoformat()
    return _private(jsonify(found))


@bp.post("/cases/<int:case_id>/comments")
@signed_in
def comment(case_id):
    """Add a comment to the case's timeline; a blank or too long one is refused next to the field."""
    try:
        comments.comment_on_case(session.deps(), session.current_user().id, case_id, request.form.get("text", ""))
    except GridflowError as exc:
        errors = messages.field_errors(exc)
        if not errors:
            raise
        page = render_template("dossier.html", **gather(case_id), comment_text=request.form.get(
            "text", ""), comment_errors=errors.get("text") or [messages.message(exc)])
        return make_response(page, 422)
    flash(_("Comment added."))
    return redirect(url_for("dossier.dossier_page", case_id=case_id, _anchor="comments"))


@bp.get("/cases/<int:case_id>/dossier.pdf")
@signed_in
def dossier_pdf(case_id):
    """The dossier printed: header, clocks, supervision orders and the whole timeline, with a QR code back."""
    return _pdf(printing.dossier(gather(case_id), session.deps().catalogue), f"dossier-{case_id}.pdf")


@bp.get("/cases/<int:case_id>/orders/<int:order_id>.pdf")
@signed_in
def order_pdf(case_id, order_id):
    """A supervision order (督办单) of the case, printed, with a QR code back to the case."""
    found = gather(case_id)
    order = next((o for o in found["extra"]["orders"] if o["id"] == order_id), None)
    if order is None:
        abort(404)
    return _pdf(printing.order(found, order, session.deps().catalogue), f"order-{order_id}.pdf")


def _pdf(content: bytes, name: str):
    response = make_response(content)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    return _private(response)


def _private(response):
    response.cache_control.private, response.cache_control.no_store = True, True
    return response

