"""一张图 (the grid map): the grids under one grid of the supervisor's area, coloured by their open, overdue and
breached cases, with the same counts as a table; a click goes one level down; the cases in the grid as a list
and as points. The map and the list are kept in step through the URL (?grid=&show=)."""
from flask import Blueprint, abort, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import ValidationError
from engine.read import gridmap, pages, search
from web import session
from web.session import signed_in

bp = Blueprint("gridmap", __name__)
DESK_ROLES = ("supervisor", "admin")
SHOW = ("open", "overdue", "breached", "all")  # which of the grid's cases the list shows
PAGE = 20


def desk_user():
    """The signed-in supervisor or admin; anyone else is told the page is not there, as out of scope."""
    user = session.current_user()
    if user.role not in DESK_ROLES:
        abort(404)
    return user


def state(place: dict) -> str:
    """How a grid is coloured: the worst of its cases."""
    return next((name for name in ("overdue", "breached", "open") if place[name]), "calm")


@bp.get("/map")
@signed_in
def index():
    """一张图: a grid of my area (the top without ?grid=), the grids under it with their counts, and its cases."""
    user, deps = desk_user(), session.deps()
    code, show = request.args.get("grid") or None, request.args.get("show", "open")
    show = show if show in SHOW else "open"
    place = gridmap.grid_counts(deps, user, code)
    filters = {} if show == "all" else {show: True}
    try:
        found = search.find_cases(deps, user, grid=place["code"], limit=PAGE,
                                  cursor=request.args.get("cursor") or None, **filters)
    except ValidationError:
        found = search.find_cases(deps, user, grid=place["code"], limit=PAGE, **filters)
    for child in place["children"]:
        child["state"] = state(child)
    return render_template("gridmap.html", place=place, cases=found.items, cursor=found.next_cursor, show=show,
                           shows=SHOW, nav="map", catalogue=deps.catalogue)


@bp.get("/map/<code>.geojson")
@signed_in
def shapes(code):
    """The polygons of the grids under `code` (the grid itself when it has none), with counts and a link each."""
    place = gridmap.grid_counts(session.deps(), desk_user(), code, polygons=True)
    drawn = place["children"] or [place]
    features = [{"type": "Feature", "geometry": g["polygon"], "properties": {
        "code": g["code"], "label": pages.short_name(g["name"], place["name"]) if g is not place else g["name"],
        "state": state(g), "open": g["open"], "overdue": g["overdue"], "breached": g["breached"],
        "href": url_for("gridmap.index", grid=g["code"]) if g is not place else None,
        "title": _("%(name)s: %(open)s open, %(overdue)s overdue, %(breached)s breached", name=g["name"],
                   open=g["open"], overdue=g["overdue"], breached=g["breached"])}}
        for g in drawn if g["polygon"]]
    response = jsonify({"type": "FeatureCollection", "features": features})
    response.cache_control.private, response.cache_control.max_age = True, 60
    return response
