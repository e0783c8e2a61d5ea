"""Supervision orders (督办) and notifications."""
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from api import errors
from api.context import Blueprint, authenticate, deps, user
from api.schemas import Input, LocalDateTime, ZonedDateTime
from engine.cases import notices, supervision
from engine.errors import AuthenticationError, ConflictError, NotFoundError, PermissionDenied, ValidationError

blp = Blueprint("supervision", __name__, url_prefix="/api/v1", description="Supervision orders and notices")
blp.before_request(authenticate)


class OrderQuery(Input):
    status = fields.String(load_default="open", validate=validate.OneOf([*supervision.ORDER_STATUSES, "all"]))


class OrderOut(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    case_number = fields.String()
    grid_code = fields.String(metadata={"description": "the level that supervises"})
    reason = fields.String()
    issued_at = LocalDateTime()
    due_at = LocalDateTime()
    status = fields.String()
    answered_at = LocalDateTime(allow_none=True)
    answer = fields.String(allow_none=True)


class Answer(Input):
    answer = fields.String(required=True, validate=validate.Length(1, 2000))


class NoticeQuery(Input):
    unread = fields.Boolean(load_default=False)


class NoticeOut(Schema):
    id = fields.Integer()
    case_id = fields.Integer(allow_none=True)
    case_number = fields.String(allow_none=True)
    assignment_id = fields.Integer(allow_none=True, metadata={"description": "a campaign assignment's notice"})
    kind = fields.String()
    message = fields.String()
    created_at = LocalDateTime()
    read_at = LocalDateTime(allow_none=True)


@blp.route("/supervision-orders")
class Orders(MethodView):
    @blp.arguments(OrderQuery, location="query")
    @blp.response(200, OrderOut(many=True))
    @errors.raises(blp, AuthenticationError)
    def get(self, query):
        """Supervision orders on the cases I may see (open ones by default; overdue: open and past due now)."""
        status = None if query["status"] == "all" else query["status"]
        return supervision.list_orders(deps(), user(), status)


class Issue(Input):
    reason = fields.String(required=True, validate=validate.Length(1, 2000))
    due_at = ZonedDateTime(metadata={"description": "answer by this time (in the future, within 90 days); "
                                                    "one working day when left out"})


@blp.route("/cases/<id:case_id>/supervision-orders")
class IssueOrder(MethodView):
    @blp.arguments(Issue)
    @blp.response(201, OrderOut)
    @errors.raises(blp, AuthenticationError, PermissionDenied, NotFoundError, ConflictError, ValidationError,
                   *errors.JSON_BODY)
    def post(self, body, case_id):
        """Issue a supervision order on an open case (supervisors): answered by `due_at`, else in a working day."""
        return supervision.issue_order(deps(), user().id, case_id, body["reason"], body.get("due_at"))


@blp.route("/supervision-orders/<id:order_id>/answer")
class AnswerOrder(MethodView):
    @blp.arguments(Answer)
    @blp.response(200, OrderOut)
    @errors.raises(blp, AuthenticationError, PermissionDenied, NotFoundError, ConflictError, *errors.JSON_BODY)
    def post(self, body, order_id):
        """Answer a supervision order (supervisors): what is being done about the overdue case."""
        return supervision.answer_order(deps(), user().id, order_id, body["answer"])


@blp.route("/notifications")
class Notices(MethodView):
    @blp.arguments(NoticeQuery, location="query")
    @blp.response(200, NoticeOut(many=True))
    @errors.raises(blp, AuthenticationError)
    def get(self, query):
        """My notices: time-limit warnings, breaches, overdue supervision orders."""
        return notices.list_notifications(deps(), user(), query["unread"])


@blp.route("/notifications/<id:notification_id>/read")
class ReadNotice(MethodView):
    @blp.response(204)
    @errors.raises(blp, AuthenticationError, NotFoundError)
    def post(self, notification_id):
        """Mark a notice as read."""
        notices.mark_read(deps(), user(), notification_id)
