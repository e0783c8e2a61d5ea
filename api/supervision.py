"""Supervision orders (督办) and notifications."""
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from api.context import authenticate, deps, user
from api.schemas import LocalDateTime
from engine import supervision

blp = Blueprint("supervision", __name__, url_prefix="/api/v1", description="Supervision orders and notices")
blp.before_request(authenticate)


class OrderQuery(Schema):
    status = fields.String(load_default="open", validate=validate.OneOf(["open", "answered", "all"]))


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


class Answer(Schema):
    answer = fields.String(required=True, validate=validate.Length(1, 2000))


class NoticeQuery(Schema):
    unread = fields.Boolean(load_default=False)


class NoticeOut(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    case_number = fields.String()
    kind = fields.String()
    message = fields.String()
    created_at = LocalDateTime()
    read_at = LocalDateTime(allow_none=True)


@blp.route("/supervision-orders")
class Orders(MethodView):
    @blp.arguments(OrderQuery, location="query")
    @blp.response(200, OrderOut(many=True))
    def get(self, query):
        """Supervision orders on the cases I may see (open ones by default)."""
        status = None if query["status"] == "all" else query["status"]
        return supervision.list_orders(deps(), user(), status)


@blp.route("/supervision-orders/<int:order_id>/answer")
class AnswerOrder(MethodView):
    @blp.arguments(Answer)
    @blp.response(200, OrderOut)
    def post(self, body, order_id):
        """Answer a supervision order (supervisors): what is being done about the overdue case."""
        return supervision.answer_order(deps(), user().id, order_id, body["answer"])


@blp.route("/notifications")
class Notices(MethodView):
    @blp.arguments(NoticeQuery, location="query")
    @blp.response(200, NoticeOut(many=True))
    def get(self, query):
        """My notices: time-limit warnings, breaches, overdue supervision orders."""
        return supervision.list_notifications(deps(), user(), query["unread"])


@blp.route("/notifications/<int:notification_id>/read")
class ReadNotice(MethodView):
    @blp.response(204)
    def post(self, notification_id):
        """Mark a notice as read."""
        supervision.mark_read(deps(), user(), notification_id)
