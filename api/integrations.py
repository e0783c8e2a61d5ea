"""Other systems in and out, for admins: partner keys for Open311 intake, and webhook endpoints with their
delivery log (docs/open311.md, docs/webhooks.md)."""
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from api import errors
from api.context import Blueprint, authenticate, deps, user
from api.schemas import Input, LocalDateTime
from engine.cases import partners, webhooks
from engine.errors import AuthenticationError, ConflictError, NotFoundError, PermissionDenied, ValidationError

blp = Blueprint("integrations", __name__, url_prefix="/api/v1/admin", description="Partner keys and webhooks")


@blp.before_request
def _admin_only():
    authenticate()
    if user().role != "admin":
        raise PermissionDenied("only an admin may do this")


class PartnerKeyIn(Input):
    partner = fields.String(required=True, validate=validate.Length(min=1, max=100),
                            metadata={"description": "who holds the key, e.g. 12345 热线"})
    username = fields.String(required=True, validate=validate.Length(max=64),
                             metadata={"description": "the user its reports are filed as"})
    grid_code = fields.String(required=True, validate=validate.Length(max=32),
                              metadata={"description": "the grid area (a subtree) it may report into"})


class PartnerKeyOut(Schema):
    id = fields.Integer()
    partner = fields.String()
    prefix = fields.String(metadata={"description": "the key's first characters, to tell keys apart"})
    username = fields.String()
    grid_code = fields.String()
    active = fields.Boolean()
    created_at = LocalDateTime()
    revoked_at = LocalDateTime(allow_none=True)


class NewPartnerKeyOut(PartnerKeyOut):
    key = fields.String(metadata={"description": "the api_key: shown this once, stored only as its hash"})


@blp.route("/partner-keys")
class PartnerKeys(MethodView):
    @blp.response(200, PartnerKeyOut(many=True))
    @errors.raises(blp, AuthenticationError, PermissionDenied)
    def get(self):
        """Every partner key, newest first (never the key itself)."""
        return partners.list_keys(deps(), user().id)

    @blp.arguments(PartnerKeyIn)
    @blp.response(201, NewPartnerKeyOut)
    @errors.raises(blp, AuthenticationError, PermissionDenied, ValidationError, *errors.JSON_BODY)
    def post(self, body):
        """Create a key for a partner; the answer holds the key, which is never shown again."""
        row, key = partners.create_key(deps(), user().id, body["partner"], body["username"], body["grid_code"])
        return {**row, "key": key}


@blp.route("/partner-keys/<id:key_id>/revoke")
class PartnerKeyRevoke(MethodView):
    @blp.response(200, PartnerKeyOut)
    @errors.raises(blp, AuthenticationError, PermissionDenied, NotFoundError, ConflictError)
    def post(self, key_id):
        """Revoke a key: Open311 answers 403 to it from now on."""
        return partners.revoke_key(deps(), user().id, key_id)


class EndpointIn(Input):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    url = fields.String(required=True, validate=validate.Length(max=500))
    events = fields.List(fields.String(validate=validate.OneOf(webhooks.EVENT_TYPES)), required=True,
                         validate=validate.Length(min=1, max=len(webhooks.EVENT_TYPES)))
    grid_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32),
                              metadata={"description": "only cases in this grid's subtree"})
    secret = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=16, max=128),
                           metadata={"description": "the signing secret; generated when left out"})


class EndpointOut(Schema):
    id = fields.Integer()
    name = fields.String()
    url = fields.String()
    events = fields.List(fields.String())
    grid_code = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "active or paused"})
    paused_at = LocalDateTime(allow_none=True)
    pause_reason = fields.String(allow_none=True)
    created_at = LocalDateTime()
    pending = fields.Integer()
    failed = fields.Integer()


class NewEndpointOut(EndpointOut):
    secret = fields.String(metadata={"description": "the signing secret (docs/webhooks.md says how to verify)"})


class DeliveryQuery(Input):
    status = fields.String(load_default=None, validate=validate.OneOf(webhooks.DELIVERY_STATUSES))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class DeliveryOut(Schema):
    id = fields.Integer()
    endpoint_id = fields.Integer()
    event_id = fields.Integer()
    event = fields.String()
    case_id = fields.Integer()
    case_number = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "pending, delivered or failed"})
    attempts = fields.Integer()
    response_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    created_at = LocalDateTime()
    last_at = LocalDateTime(allow_none=True)
    next_at = LocalDateTime(allow_none=True)
    delivered_at = LocalDateTime(allow_none=True)


@blp.route("/webhooks")
class Endpoints(MethodView):
    @blp.response(200, EndpointOut(many=True))
    @errors.raises(blp, AuthenticationError, PermissionDenied)
    def get(self):
        """Every webhook endpoint, with its pending and failed deliveries counted."""
        return webhooks.list_endpoints(deps(), user().id)

    @blp.arguments(EndpointIn)
    @blp.response(201, NewEndpointOut)
    @errors.raises(blp, AuthenticationError, PermissionDenied, ValidationError, *errors.JSON_BODY)
    def post(self, body):
        """Register an endpoint for some case events, optionally for one grid subtree."""
        created = webhooks.create_endpoint(deps(), user().id, body["name"], body["url"], body["events"],
                                           body["grid_code"], body["secret"])
        return {**created, "pending": 0, "failed": 0}


@blp.route("/webhooks/<id:endpoint_id>")
class EndpointItem(MethodView):
    @blp.response(200, EndpointOut)
    @errors.raises(blp, AuthenticationError, PermissionDenied, NotFoundError)
    def get(self, endpoint_id):
        """One endpoint."""
        return webhooks.get_endpoint(deps(), user().id, endpoint_id)


@blp.route("/webhooks/<id:endpoint_id>/<any(pause, resume):action>", parameters=[
    {"in": "path", "name": "action", "required": True, "schema": {"type": "string", "enum": ["pause", "resume"]}}])
class EndpointPause(MethodView):
    @blp.response(200, EndpointOut)
    @errors.raises(blp, AuthenticationError, PermissionDenied, NotFoundError, ConflictError)
    def post(self, endpoint_id, action):
        """Pause an endpoint (its events wait) or resume it (failed deliveries are tried again first)."""
        webhooks.set_paused(deps(), user().id, endpoint_id, action == "pause")
        return webhooks.get_endpoint(deps(), user().id, endpoint_id)


@blp.route("/webhooks/<id:endpoint_id>/deliveries")
class Deliveries(MethodView):
    @blp.arguments(DeliveryQuery, location="query")
    @blp.response(200, DeliveryOut(many=True))
    @errors.raises(blp, AuthenticationError, PermissionDenied, NotFoundError, ValidationError)
    def get(self, query, endpoint_id):
        """The endpoint's delivery log, newest first: status, attempts, the last answer and its time."""
        return webhooks.deliveries(deps(), user().id, endpoint_id, query["status"], query["limit"])


@blp.route("/webhook-deliveries/<id:delivery_id>/redeliver")
class Redeliver(MethodView):
    @blp.response(200, DeliveryOut)
    @errors.raises(blp, AuthenticationError, PermissionDenied, NotFoundError)
    def post(self, delivery_id):
        """Send a delivery again by hand (a delivered one as a new delivery of the same event)."""
        return webhooks.redeliver(deps(), user().id, delivery_id)
