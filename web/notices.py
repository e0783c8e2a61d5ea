"""通知: the bell with the unread count (htmx polls it), the list of notices, marking one as read."""
from flask import Blueprint, redirect, render_template, request, url_for

from engine.cases import notices
from engine.read import pages
from web import session
from web.session import signed_in

bp = Blueprint("notices", __name__)


@bp.get("/notices")
@signed_in
def index():
    """My notices, newest first."""
    return render_template("notices.html", notices=notices.list_notifications(session.deps(), session.current_user()),
                           nav="notices")


@bp.get("/notices/bell")
@signed_in
def bell():
    """htmx: the bell again, with the unread count as it is now."""
    return render_template("_bell.html")


@bp.post("/notices/<int:notice_id>/read")
@signed_in
def read(notice_id):
    """Mark a notice as read; htmx gets the notice's row back, others the list."""
    notices.mark_read(session.deps(), session.current_user(), notice_id)
    if request.headers.get("HX-Request"):
        found = [n for n in notices.list_notifications(session.deps(), session.current_user())
                 if n["id"] == notice_id]
        response = render_template("_notice.html", n=found[0], oob_bell=True) if found else ""
        return response
    return redirect(url_for("notices.index"))


def unread() -> int:
    user = session.current_user()
    return pages.unread_count(session.deps(), user) if user else 0
