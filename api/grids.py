"""Grids: the hierarchy for pickers and maps."""
from flask.views import MethodView

from api import errors, schemas
from api.context import Blueprint, authenticate, deps, user
from engine.errors import AuthenticationError, NotFoundError
from engine.read import gridmap, views

blp = Blueprint("grids", __name__, url_prefix="/api/v1/grids", description="Grids")
blp.before_request(authenticate)


@blp.route("")
class Grids(MethodView):
    @blp.arguments(schemas.GridQuery, location="query")
    @blp.response(200, schemas.GridOut(many=True))
    @errors.raises(blp, AuthenticationError, NotFoundError)
    def get(self, query):
        """The grids directly under `parent` (the top of the tree without it)."""
        return views.grid_children(deps(), query.get("parent"))


@blp.route("/<code>")
class GridItem(MethodView):
    @blp.response(200, schemas.GridDetail)
    @errors.raises(blp, AuthenticationError, NotFoundError)
    def get(self, code):
        """One grid with its ancestors, leader and polygon (GeoJSON)."""
        return views.grid_detail(deps(), code)


@blp.route("/<code>/counts")
class GridCountsItem(MethodView):
    @blp.response(200, schemas.GridCounts)
    @errors.raises(blp, AuthenticationError, NotFoundError)
    def get(self, code):
        """一张图: a grid of my area and each grid under it, with the counts of the cases I may see.

        The cases reported in each one's subtree: total, open, overdue (an open task past due now) and breached
        (a time limit ran out), each equal to GET /cases with `grid` and that filter. A grid outside my area (my
        grid's subtree, my department's jurisdiction, or every grid for an admin) is not found."""
        return gridmap.grid_counts(deps(), user(), code)
