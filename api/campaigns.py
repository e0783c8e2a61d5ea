"""Campaigns (top-down tasks to every grid of an area) and their assignments, in the caller's scope."""
import base64
import binascii

from flask.views import MethodView
from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as SchemaError

from api import errors
from api.context import Blueprint, authenticate, deps, user
from api.schemas import Input, LocalDateTime, Text, text_length
from engine.campaigns import forms, services
from engine.errors import AuthenticationError, ConflictError, NotFoundError, PermissionDenied, ValidationError
from engine.process.catalogue import SEVERITIES
from engine.read import campaigns as reads

PHOTO_BYTES = 10 * 1024 * 1024
blp = Blueprint("campaigns", __name__, url_prefix="/api/v1", description="Campaigns: tasks sent to every grid",
                body_limit=20 * 1024 * 1024)  # a few photos, base64 in JSON
blp.before_request(authenticate)


class FieldIn(Input):
    name = fields.String(required=True, validate=validate.Length(1, 40))
    kind = fields.String(required=True, validate=validate.OneOf(forms.KINDS))
    title = Text(required=True, validate=text_length(100))
    required = fields.Boolean(load_default=True)
    choices = fields.List(fields.String(validate=validate.Length(1, 100)), load_default=list,
                          validate=validate.Length(max=50))


class FieldOut(Schema):
    name = fields.String()
    kind = fields.String(metadata={"description": "bool, text, int, count, choice, multichoice or photo"})
    title = fields.String()
    required = fields.Boolean()
    choices = fields.List(fields.String())


class LaunchIn(Input):
    title = Text(required=True, validate=text_length(200))
    instructions = fields.String(load_default="", validate=validate.Length(max=5000))
    form = fields.List(fields.Nested(FieldIn), required=True, validate=validate.Length(1, forms.MAX_FIELDS))
    root_grid_code = fields.String(validate=validate.Length(1, 32), metadata={
        "description": "the area: a grid in yours (default: your own grid, a department's jurisdiction)"})
    target_level = fields.Integer(allow_none=True, validate=validate.Range(1, 4), metadata={
        "description": "every grid of this level under the area (default 4, the unit grids)"})
    grid_codes = fields.List(fields.String(validate=validate.Length(1, 32)), load_default=list,
                             validate=validate.Length(max=5000), metadata={"description": "or these grids"})
    working_days = fields.Integer(required=True, validate=validate.Range(1, services.MAX_WORKING_DAYS))
    recurrence = fields.String(allow_none=True, validate=validate.OneOf(services.RECURRENCES))


class Counts(Schema):
    expected = fields.Integer()
    submitted = fields.Integer()
    accepted = fields.Integer()
    on_time = fields.Integer()
    overdue = fields.Integer()
    returned = fields.Integer()
    rate = fields.Float(metadata={"description": "submitted / expected"})


class EventOut(Schema):
    at = LocalDateTime()
    kind = fields.String()
    actor = fields.String()
    reason = fields.String(allow_none=True)
    payload = fields.Dict()


class FindingOut(Schema):
    case_id = fields.Integer()
    case_number = fields.String()
    type = fields.String()
    title = fields.String()
    grid_code = fields.String()
    assignment_id = fields.Integer()


class CampaignOut(Counts):
    id = fields.Integer()
    title = fields.String()
    instructions = fields.String()
    form = fields.List(fields.Nested(FieldOut))
    root_grid = fields.String()
    root_name = fields.String()
    target_level = fields.Integer(allow_none=True)
    working_days = fields.Integer()
    created_at = LocalDateTime()
    due_at = LocalDateTime()
    recurrence = fields.String(allow_none=True)
    round = fields.Integer()
    previous_id = fields.Integer(allow_none=True)
    next_round_at = LocalDateTime(allow_none=True)
    status = fields.String(metadata={"description": "open, cancelled"})
    ended_at = LocalDateTime(allow_none=True)
    end_reason = fields.String(allow_none=True)


class CampaignDetailOut(CampaignOut):
    events = fields.List(fields.Nested(EventOut))
    findings = fields.List(fields.Nested(FindingOut))


class NodeOut(Counts):
    code = fields.String()
    name = fields.String()
    level = fields.Integer(allow_none=True)
    state = fields.String(metadata={"description": "open, partial, overdue, submitted, accepted"})
    totals = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "the form's numeric fields summed over the area"})


class ProgressOut(Schema):
    campaign_id = fields.Integer()
    title = fields.String()
    grid = fields.Nested(NodeOut)
    parent = fields.String(allow_none=True)
    children = fields.List(fields.Nested(NodeOut))
    grids = fields.Dict(keys=fields.String(), values=fields.String(),
                        metadata={"description": "each target grid's state by code, for the map"})


class ProgressQuery(Input):
    under = fields.String(validate=validate.Length(1, 32), metadata={"description": "a grid of the area"})


class Cancel(Input):
    reason = Text(required=True, validate=text_length(2000))


class AssignmentOut(Schema):
    id = fields.Integer()
    campaign_id = fields.Integer()
    campaign_title = fields.String()
    grid_code = fields.String()
    grid_name = fields.String()
    status = fields.String(metadata={"description": "issued, accepted, submitted, returned, approved, cancelled"})
    step = fields.String(allow_none=True)
    due_at = LocalDateTime()
    overdue = fields.Boolean()
    accepted_at = LocalDateTime(allow_none=True)
    submitted_at = LocalDateTime(allow_none=True)
    approved_at = LocalDateTime(allow_none=True)
    returns = fields.Integer()
    totals = fields.Dict()


class SubmissionOut(Schema):
    id = fields.Integer()
    submitted_by_id = fields.Integer()
    submitted_at = LocalDateTime()
    data = fields.Dict()
    photos = fields.List(fields.Dict())
    review = fields.String()
    reviewed_at = LocalDateTime(allow_none=True)
    reason = fields.String(allow_none=True)


class AssignmentDetailOut(AssignmentOut):
    instructions = fields.String()
    form = fields.List(fields.Nested(FieldOut))
    actions = fields.List(fields.String())
    submissions = fields.List(fields.Nested(SubmissionOut))


class PhotoIn(Input):
    filename = fields.String(load_default="photo.jpg", validate=validate.Length(max=255))
    content_base64 = fields.String(required=True, validate=validate.Length(1, PHOTO_BYTES * 4 // 3 + 4))


class FindingIn(Input):
    type = fields.String(required=True, validate=validate.Length(1, 40))
    title = Text(required=True, validate=text_length(200))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    severity = fields.String(load_default="medium", validate=validate.OneOf(SEVERITIES))


class SubmitIn(Input):
    data = fields.Dict(required=True)
    photos = fields.List(fields.Nested(PhotoIn), load_default=list, validate=validate.Length(max=forms.MAX_PHOTOS))
    findings = fields.List(fields.Nested(FindingIn), load_default=list,
                           validate=validate.Length(max=services.MAX_FINDINGS))


class SubmittedOut(Schema):
    submission_id = fields.Integer()
    assignment = fields.Nested(AssignmentDetailOut)


class ReviewIn(Input):
    approved = fields.Boolean(required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=2000))

    @validates_schema
    def _reason_for_a_return(self, data, **kwargs):
        if not data["approved"] and not data.get("reason", "").strip():
            raise SchemaError("Missing data for required field.", "reason")


class MineQuery(Input):
    done = fields.Boolean(load_default=False, metadata={"description": "include ended assignments"})


@blp.route("/campaigns")
class Campaigns(MethodView):
    @blp.response(200, CampaignOut(many=True))
    @errors.raises(blp, AuthenticationError)
    def get(self):
        """The campaigns I may see, newest first, with their counts."""
        return reads.list_campaigns(deps(), user())

    @blp.arguments(LaunchIn)
    @blp.response(201, CampaignDetailOut)
    @errors.raises(blp, AuthenticationError, PermissionDenied, ValidationError, *errors.JSON_BODY)
    def post(self, body):
        """Launch a campaign (town or city supervisors, departments, admins): one assignment per target grid."""
        level = body.get("target_level", None if body["grid_codes"] else 4)
        campaign_id = services.launch(deps(), user().id, services.NewCampaign(
            title=body["title"], form=body["form"], working_days=body["working_days"],
            root_grid_code=body.get("root_grid_code"), target_level=level, grid_codes=tuple(body["grid_codes"]),
            instructions=body["instructions"], recurrence=body.get("recurrence")))
        return reads.get_campaign(deps(), user(), campaign_id)


@blp.route("/campaigns/<id:campaign_id>")
class CampaignItem(MethodView):
    @blp.response(200, CampaignDetailOut)
    @errors.raises(blp, AuthenticationError, NotFoundError)
    def get(self, campaign_id):
        """A campaign, its counts over the whole area, its timeline and its findings."""
        return reads.get_campaign(deps(), user(), campaign_id)


@blp.route("/campaigns/<id:campaign_id>/cancel")
class CancelCampaign(MethodView):
    @blp.arguments(Cancel)
    @blp.response(200, CampaignDetailOut)
    @errors.raises(blp, AuthenticationError, PermissionDenied, NotFoundError, ConflictError, *errors.JSON_BODY)
    def post(self, body, campaign_id):
        """Cancel a campaign: its open assignments end, the timeline says why."""
        services.cancel(deps(), user().id, campaign_id, body["reason"])
        return reads.get_campaign(deps(), user(), campaign_id)


@blp.route("/campaigns/<id:campaign_id>/progress")
class Progress(MethodView):
    @blp.arguments(ProgressQuery, location="query")
    @blp.response(200, ProgressOut)
    @errors.raises(blp, AuthenticationError, NotFoundError)
    def get(self, query, campaign_id):
        """Progress of an area (default: the campaign's, or my own inside it) and of each grid right under it."""
        return reads.progress(deps(), user(), campaign_id, query.get("under"))


@blp.route("/campaign-assignments")
class MyAssignments(MethodView):
    @blp.arguments(MineQuery, location="query")
    @blp.response(200, AssignmentOut(many=True))
    @errors.raises(blp, AuthenticationError)
    def get(self, query):
        """My grid's assignments (a grid leader's: also the grids under it) and those waiting for my review."""
        return reads.my_assignments(deps(), user(), query["done"])


@blp.route("/campaign-assignments/<id:assignment_id>")
class AssignmentItem(MethodView):
    @blp.response(200, AssignmentDetailOut)
    @errors.raises(blp, AuthenticationError, NotFoundError)
    def get(self, assignment_id):
        """An assignment with its campaign's form, its submissions and what I may do with it."""
        return reads.get_assignment(deps(), user(), assignment_id)


@blp.route("/campaign-assignments/<id:assignment_id>/accept")
class Accept(MethodView):
    @blp.response(200, AssignmentDetailOut)
    @errors.raises(blp, AuthenticationError, PermissionDenied, NotFoundError, ConflictError)
    def post(self, assignment_id):
        """Take the assignment on (签收)."""
        services.accept(deps(), user().id, assignment_id)
        return reads.get_assignment(deps(), user(), assignment_id)


@blp.route("/campaign-assignments/<id:assignment_id>/submit")
class Submit(MethodView):
    @blp.arguments(SubmitIn)
    @blp.response(201, SubmittedOut)
    @errors.raises(blp, AuthenticationError, PermissionDenied, NotFoundError, ConflictError, ValidationError,
                   *errors.JSON_BODY)
    def post(self, body, assignment_id):
        """Submit the form (photos as base64); each finding is filed as a case from the assignment's grid."""
        photos = []
        for i, photo in enumerate(body["photos"]):
            try:
                photos.append(services.Photo(photo["filename"], base64.b64decode(photo["content_base64"],
                                                                                 validate=True)))
            except (binascii.Error, ValueError):
                raise ValidationError("not base64", {f"photos.{i}.content_base64": ["Not valid base64."]}) from None
        findings = [services.NewFinding(f["type"], f["title"], f["description"], f["severity"])
                    for f in body["findings"]]
        submission_id = services.submit(deps(), user().id, assignment_id, body["data"], photos, findings)
        return {"submission_id": submission_id, "assignment": reads.get_assignment(deps(), user(), assignment_id)}


@blp.route("/campaign-assignments/<id:assignment_id>/review")
class Review(MethodView):
    @blp.arguments(ReviewIn)
    @blp.response(200, AssignmentDetailOut)
    @errors.raises(blp, AuthenticationError, PermissionDenied, NotFoundError, ConflictError, ValidationError,
                   *errors.JSON_BODY)
    def post(self, body, assignment_id):
        """Accept the submission, or return it with a reason (the level above)."""
        services.review(deps(), user().id, assignment_id, body["approved"], body["reason"])
        return reads.get_assignment(deps(), user(), assignment_id)
