"""Cases: file a matter, search them, read one with its tasks and timeline, comment on it."""
from flask.views import MethodView

from api import errors, paging, schemas
from api.context import Blueprint, authenticate, deps, user
from engine.cases import comments, services
from engine.errors import AuthenticationError, ConflictError, NotFoundError, PermissionDenied, ValidationError
from engine.read import search, views

blp = Blueprint("cases", __name__, url_prefix="/api/v1/cases", description="Cases")
blp.before_request(authenticate)


@blp.route("")
class Cases(MethodView):
    @blp.arguments(schemas.CaseQuery, location="query")
    @blp.response(200, schemas.CaseSummary(many=True), headers=paging.HEADERS)
    @errors.raises(blp, AuthenticationError, ValidationError)
    def get(self, query):
        """Search the cases I may see: by number, text, grid, reporter, type, status, period; newest first.

        Also by severity, open (not closed yet), overdue (an open task past due now) and breached (a time limit
        of the case ran out, open or closed since), and department; and the cases behind a number of the
        indicators: `counted` (a counter) on the days `counted_from` to `counted_to`, for a department."""
        return paging.paged(search.find_cases(deps(), user(), **query))

    @blp.arguments(schemas.CaseCreate)
    @blp.arguments(schemas.FilingHeaders, location="headers")
    @blp.response(201, schemas.CaseOut)
    @errors.raises(blp, AuthenticationError, PermissionDenied, ConflictError, *errors.JSON_BODY)
    def post(self, body, headers):
        """File a case; answers with its number and first tasks."""
        location = body.get("location") or {}
        case_id = services.file_case(deps(), user().id, services.NewCase(
            type=body["type"], title=body["title"], description=body["description"],
            severity=body["severity"], subcategory=body["subcategory"], grid_code=body.get("grid_code"),
            lat=location.get("lat"), lng=location.get("lng")), headers.get("idempotency_key"))
        return views.case_detail(deps(), user(), case_id)


@blp.route("/<id:case_id>")
class CaseItem(MethodView):
    @blp.response(200, schemas.CaseOut)
    @errors.raises(blp, AuthenticationError, NotFoundError)
    def get(self, case_id):
        """A case with its open tasks and its timeline."""
        return views.case_detail(deps(), user(), case_id)


@blp.route("/<id:case_id>/withdraw")
class Withdraw(MethodView):
    @blp.arguments(schemas.Reason)
    @blp.response(200, schemas.CaseOut)
    @errors.raises(blp, AuthenticationError, PermissionDenied, NotFoundError, ConflictError, *errors.JSON_BODY)
    def post(self, body, case_id):
        """The reporter withdraws the case, with a reason, at any stage before it is closed."""
        services.withdraw_case(deps(), user().id, case_id, body["reason"])
        return views.case_detail(deps(), user(), case_id)


@blp.route("/<id:case_id>/escalate")
class Escalate(MethodView):
    @blp.arguments(schemas.Reason)
    @blp.response(200, schemas.CaseOut)
    @errors.raises(blp, AuthenticationError, PermissionDenied, NotFoundError, ConflictError, *errors.JSON_BODY)
    def post(self, body, case_id):
        """A supervisor escalates the case one grid level up now, with a reason."""
        services.escalate_case(deps(), user().id, case_id, body["reason"])
        return views.case_detail(deps(), user(), case_id)


@blp.route("/<id:case_id>/timeline")
class Timeline(MethodView):
    @blp.response(200, schemas.TimelineEventOut(many=True))
    @errors.raises(blp, AuthenticationError, NotFoundError)
    def get(self, case_id):
        """Every event of the case, oldest first: actor, time, kind, reason, deadline explanations."""
        return views.case_timeline(deps(), user(), case_id)


@blp.route("/<id:case_id>/timeline/verify")
class TimelineVerify(MethodView):
    @blp.response(200, schemas.TimelineCheck)
    @errors.raises(blp, AuthenticationError, NotFoundError)
    def get(self, case_id):
        """Check the timeline's sealed chain against the case's head: intact, or the first event changed or missing."""
        return views.timeline_check(deps(), user(), case_id)


@blp.route("/<id:case_id>/comments")
class Comments(MethodView):
    @blp.response(200, schemas.CommentOut(many=True))
    @errors.raises(blp, AuthenticationError, NotFoundError)
    def get(self, case_id):
        """The comments on the case, oldest first."""
        return comments.list_comments(deps(), user(), case_id)

    @blp.arguments(schemas.CommentIn)
    @blp.response(201, schemas.CommentOut)
    @errors.raises(blp, AuthenticationError, NotFoundError, *errors.JSON_BODY)
    def post(self, body, case_id):
        """Comment on a case I may see (up to 2,000 characters); it goes on the case's timeline."""
        return comments.comment_on_case(deps(), user().id, case_id, body["text"])
